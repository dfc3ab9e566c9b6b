"""The intake's error root. Request-level problems carry the HTTP status the SDK gets."""

from __future__ import annotations


class IntakeError(Exception):
    """Root of every error the intake raises."""


class Rejected(IntakeError):
    """A request the intake refuses: ``status`` is the HTTP status, the message says why (one line)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] = {}

    def with_headers(self, headers: dict[str, str]) -> Rejected:
        self.headers = headers
        return self


class ProjectError(IntakeError):
    """A project name or DSN that cannot be used (unknown, duplicate, malformed)."""
