"""Exceptions with a meaning to the runner and the CLI."""

from __future__ import annotations


class CouldNotRun(Exception):
    """A check could not observe what it needs (timeout, refused, missing tool).

    The runner records it as an ERROR result with this message as the reason.
    """


class NotApplicable(Exception):
    """The check does not apply to this target; the runner records SKIPPED with the reason."""


class UsageError(Exception):
    """Bad input from the user: the CLI prints the one-line message and exits with code 2."""


class CheckDefinitionError(Exception):
    """A check module's metadata is invalid; raised while the registry loads."""
