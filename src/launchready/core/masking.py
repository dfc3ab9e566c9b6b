"""Masking of secrets: every output path shows a short prefix and the length, never the value."""

from __future__ import annotations

import re

_KEEP = 4


def mask_secret(value: str, keep: int = _KEEP) -> str:
    """Return e.g. ``sk_l…(32 chars)``; values too short to mask safely lose everything."""
    if len(value) <= keep * 2:
        return f"…({len(value)} chars)"
    return f"{value[:keep]}…({len(value)} chars)"


# Linear on any input (these run on page bodies a hostile server writes): a match may start only
# where a scheme or key name starts (the lookbehinds), name parts are bounded, and the runs before
# a delimiter they cannot contain are possessive. Unbounded, a 40 KB run of letters took minutes.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,40}://)(?P<user>[^:/@\s]*+):(?P<pw>[^@/\s]++)@", re.I
)


def mask_url_password(text: str) -> str:
    """Mask the password in any ``scheme://user:password@host`` inside text."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{mask_secret(m['pw'])}@", text)


# key=value and "key": "value" pairs whose value is a credential (query strings, JSON, HTML, logs).
_SECRET_PAIR = re.compile(
    r"""(?P<key>(?<![\w.-])["']?[\w.-]{0,100}(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|"""
    r"""private[_-]?key|dsn|signature|session)[\w.-]{0,100}["']?\s{0,100}[:=]\s{0,100})(?P<quote>["']?)"""
    r"""(?P<value>[^"'\s,;}&]++)""",
    re.IGNORECASE,
)


def _mask_once(value: str) -> str:
    # A value masked already (by a caller's list of known secrets) is left as it is.
    return value if "…(" in value else mask_secret(value)


def mask_credentials(text: str) -> str:
    """Mask URL passwords and secret-looking key/value pairs in free text (page bodies, errors)."""
    text = mask_url_password(text)
    return _SECRET_PAIR.sub(lambda m: f"{m['key']}{m['quote']}{_mask_once(m['value'])}", text)
