"""The monitor's error root."""

from __future__ import annotations


class MonitorError(Exception):
    """The monitor cannot run as configured: bad [monitor] tables or an unusable store.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
