"""``[owners]``: who holds each account the product depends on (a name and a role, never a credential).

Each key is an account kind (``registrar``, ``dns``, ``hosting``, ``email``, ``payments``,
``errors``, ``monitoring``) or a provider's name (``cloudflare``, ``stripe``); each value either a
string (``"Ana Lima, CTO <ana@example.com>"``) or a table ``{ name = "...", role = "..." }``.
A value that looks like a password, token or key is refused: this file is committed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, PlainValidator

from launchready.config.strict import StrictModel

_CREDENTIAL_PATTERNS = (
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"),  # Stripe keys
    re.compile(r"\bwhsec_[A-Za-z0-9_-]{8,}"),  # webhook signing secrets
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"),  # GitLab tokens
    re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),  # SendGrid keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."),  # JWTs
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[:=]"),  # "password: hunter2"
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # a URL with user:password
)
# A long run of letters and digits with no space is a key, not a name ("Ana Lima <ana@x.com>" has spaces).
_KEY_LIKE = re.compile(r"[A-Za-z0-9_+/=-]{32,}")


def looks_like_credential(value: str) -> bool:
    """Whether ``value`` looks like a password, token or key rather than a person's name or role."""
    if any(p.search(value) for p in _CREDENTIAL_PATTERNS):
        return True
    for run in _KEY_LIKE.findall(value):
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return False


def _owner_text(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("expected a name, got an empty string")
    if looks_like_credential(text):
        raise ValueError("this looks like a credential; [owners] holds names and roles only, never secrets")
    return text


OwnerText = Annotated[str, AfterValidator(_owner_text)]


class Owner(StrictModel):
    name: OwnerText = Field(description="Who holds the account (a person or a team; an address is fine).")
    role: OwnerText | None = Field(default=None, description='Their role ("CTO", "agency", "freelancer").')

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


def _shown(value: object) -> str:
    # As config/messages.py shows values (it imports the model, so it cannot be imported here).
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _owner_entry(value: object) -> str | Owner:
    """The short form (a string) stays a string; the long form (a table) becomes an Owner.

    Checked by hand rather than as a pydantic union so an error names the key as written
    (``owners.dns``), not the union branch pydantic tried.
    """
    if isinstance(value, Owner):
        return value
    if isinstance(value, str):
        return _owner_text(value)
    if isinstance(value, dict):
        unknown = [key for key in value if key not in ("name", "role")]
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (an owner has a name and a role)")
        if "name" not in value:
            raise ValueError("missing key 'name' (an owner has a name and a role)")
        fields: dict[str, str] = {}
        for key in ("name", "role"):
            if key not in value:
                continue
            if not isinstance(value[key], str):
                raise ValueError(f"{key}: expected a string, got {_shown(value[key])}")
            try:
                fields[key] = _owner_text(value[key])
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return Owner(**fields)
    raise ValueError(f"expected a string, got {_shown(value)}")


# A value under [owners]: a name (the short form) or a table with a name and a role.
OwnerEntry = Annotated[str | Owner, PlainValidator(_owner_entry, json_schema_input_type=str | Owner)]
