"""Masking of secrets: every output path shows a short prefix and the length, never the value."""

from __future__ import annotations

import re

_KEEP = 4


def mask_secret(value: str, keep: int = _KEEP) -> str:
    """Return e.g. ``sk_l…(32 chars)``; values too short to mask safely lose everything."""
    if len(value) <= keep * 2:
        return f"…({len(value)} chars)"
    return f"{value[:keep]}…({len(value)} chars)"


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)


def mask_url_password(text: str) -> str:
    """Mask the password in any ``scheme://user:password@host`` inside text."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{mask_secret(m['pw'])}@", text)
