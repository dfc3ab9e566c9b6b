"""app checks."""
