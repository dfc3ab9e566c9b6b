"""Built-in checks, one per module; the registry in launchready.core.registry lists them."""
