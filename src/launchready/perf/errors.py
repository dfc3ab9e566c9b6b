"""The performance tools' error root (load, growth, page load)."""

from __future__ import annotations


class PerfError(Exception):
    """A load or growth run that cannot start: no endpoints, a URL off the config's hosts, bad rate or login.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
