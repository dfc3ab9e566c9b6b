"""Config sections owned by one area each, plugged into Config with one field line."""
