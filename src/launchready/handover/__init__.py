"""`launchready handover`: one document a founder can run the product from."""
