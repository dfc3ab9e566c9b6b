"""The web package's errors, under the monitor's root: the CLI turns them into one-line messages."""

from __future__ import annotations

from launchready.monitor.errors import MonitorError


class WebSetupError(MonitorError):
    """Bad input to a web set-up command (user or token name, password too short)."""
