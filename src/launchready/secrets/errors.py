"""The secret scanner's error root."""

from __future__ import annotations


class SecretsError(Exception):
    """A scan that cannot run: no git, not a repository, a bad allowlist, baseline or env file.

    ``str(exc)`` is one line naming the file:line, key or flag at fault; the CLI prints it as is
    and exits with code 2. Library code raises it; only the CLI decides how it is shown.
    """
