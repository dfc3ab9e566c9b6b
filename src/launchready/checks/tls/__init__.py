"""tls checks."""
