"""The web package's error root: the CLI turns these into one-line messages."""

from __future__ import annotations

from launchready.core.errors import UsageError


class WebSetupError(UsageError):
    """Bad input to a web set-up command (user or token name, password too short)."""
