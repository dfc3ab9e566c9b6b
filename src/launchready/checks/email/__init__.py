"""email checks."""
