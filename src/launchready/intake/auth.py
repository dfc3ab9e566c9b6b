"""DSNs and the ways an SDK presents its public key (header, query string, envelope header)."""

from __future__ import annotations

import re

from launchready.core.errortracking import Dsn, DsnError
from launchready.core.errortracking import parse_dsn as parse_core_dsn
from launchready.intake.errors import ProjectError

__all__ = ["Dsn", "key_from_auth_header", "key_from_dsn_header", "parse_dsn"]

_AUTH_PAIR = re.compile(r"(\w+)\s*=\s*([^,\s]*)")


def parse_dsn(text: str) -> Dsn:
    """``core.errortracking.parse_dsn`` with the intake's error root (the CLI maps it)."""
    try:
        return parse_core_dsn(text)
    except DsnError as exc:
        raise ProjectError(str(exc)) from None


def key_from_auth_header(value: str | None) -> str | None:
    """``sentry_key`` from ``X-Sentry-Auth: Sentry sentry_key=..., sentry_version=7``."""
    if not value:
        return None
    text = value.strip()
    if text[:6].lower() == "sentry":
        text = text[6:]
    for name, found in _AUTH_PAIR.findall(text):
        if name == "sentry_key" and found:
            return str(found)
    return None


def key_from_dsn_header(value: object) -> str | None:
    """The public key of the envelope header's ``dsn``, if it is one."""
    if not isinstance(value, str):
        return None
    try:
        return parse_dsn(value).public_key
    except ProjectError:
        return None
