"""The deploy gate's error root."""

from __future__ import annotations


class DeployError(Exception):
    """A deploy that cannot start: no deploy or rollback command declared for the environment.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
