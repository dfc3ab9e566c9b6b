"""The engine's error root for runs that cannot start: the CLI exits 2 with the message."""

from __future__ import annotations


class AuditError(Exception):
    """An audit that cannot produce a trustworthy report (e.g. no DNS resolver answers)."""


class ResolverUnreachable(AuditError):
    """No resolver answers: every DNS fact would be a false finding, so the audit does not judge."""
