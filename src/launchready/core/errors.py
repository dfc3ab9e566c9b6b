"""Exceptions with a meaning to the runner.

Bad input from the user is not here: each subsystem has its own error root (``ConfigError``,
``NetFlagError``, ``SecretsError``, ``SmokeError``, ...) and only the CLI (``cli/errors.py``) turns
them into a one-line message and an exit code.
"""

from __future__ import annotations


class CouldNotRun(Exception):
    """A check could not observe what it needs (timeout, refused, missing tool).

    The runner records it as an ERROR result with this message as the reason.
    """


class NotApplicable(Exception):
    """The check does not apply to this target; the runner records SKIPPED with the reason."""


class NotConfigured(NotApplicable):
    """The check would apply, but the configuration does not say enough to run it (no flows, no
    environments declared). Unlike a plain NotApplicable this is "not verified": the product very
    likely has the flow, nobody tested it. ``configure`` says what to add to run it."""

    def __init__(self, reason: str, configure: str) -> None:
        super().__init__(reason)
        self.configure = configure


class CheckDefinitionError(Exception):
    """A check module's metadata is invalid; raised while the registry loads."""
