"""DSNs and the ways an SDK presents its public key (header, query string, envelope header)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from launchready.intake.errors import ProjectError

_AUTH_PAIR = re.compile(r"(\w+)\s*=\s*([^,\s]*)")


@dataclass(frozen=True)
class Dsn:
    scheme: str
    public_key: str
    host: str  # with the port, when there is one
    path_prefix: str  # "" or "/prefix" when the service sits under a path
    project_id: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.public_key}@{self.host}{self.path_prefix}/{self.project_id}"

    @property
    def envelope_url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path_prefix}/api/{self.project_id}/envelope/"


def parse_dsn(text: str) -> Dsn:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https"):
        raise ProjectError(f"DSN {text!r} does not start with http:// or https://")
    if not parts.username or not parts.hostname:
        raise ProjectError("DSN has no public key before '@' or no host")
    path = parts.path.rstrip("/")
    prefix, _, project = path.rpartition("/")
    if not project.isdigit():
        raise ProjectError("DSN does not end with a numeric project id")
    host = parts.netloc.rpartition("@")[2]
    return Dsn(parts.scheme, parts.username, host, prefix, int(project))


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
