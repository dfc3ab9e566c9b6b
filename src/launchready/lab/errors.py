"""The lab's error root."""

from __future__ import annotations


class LabError(ValueError):
    """The lab cannot start as asked: unknown fault switch, a bind address that is not an IP, a bad seed count.

    Also a ValueError: callers that caught the lab's ValueError before it had a root still do.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
