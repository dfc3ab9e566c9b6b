"""The launchready.toml model and its loader (errors name file:line and the key)."""
