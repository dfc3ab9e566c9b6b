"""The smoke flows' error root."""

from __future__ import annotations


class SmokeError(Exception):
    """Smoke flows that cannot run: bad flow files, unknown environment or flow, missing ${env:NAME}.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
