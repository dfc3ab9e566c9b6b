"""dns checks."""
