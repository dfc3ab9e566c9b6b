"""launchready: tells a founder what will break their launch, ranked by business impact."""

__version__ = "0.1.0"
