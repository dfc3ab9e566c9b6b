"""The monitor's error root: the CLI (and `monitor serve`) turn these into one-line messages."""

from __future__ import annotations


class MonitorError(Exception):
    """The monitor cannot run as configured: bad [monitor] tables or an unusable store.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """


class MonitorStoreError(MonitorError):
    """The store refused a read or write (full disk, read-only file, database down, bad URL).

    The scheduler catches it around every write: it logs it, keeps checking, keeps the checks'
    state in memory and still writes flips (alerts) when the store comes back.
    """


class MonitorSetupError(MonitorError):
    """The monitor cannot start as configured (unknown smoke flow, no environment for it, ...)."""
