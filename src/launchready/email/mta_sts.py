"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) records and the MTA-STS policy file; never raise.

Own parsers rather than a library: the formats are a few lines each (a tag list and a
``key: value`` file), and the libraries that read them (checkdmarc, postfix-mta-sts-resolver)
bring their own synchronous DNS or a daemon with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from launchready.email.tags import parse_tags

_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_MODES = ("enforce", "testing", "none")
MAX_AGE_LIMIT = 31_557_600  # RFC 8461 3.2: at most one year
# RFC 8461 3.2: a host name, optionally with "*." replacing exactly the leftmost label.
_MX_PATTERN = re.compile(
    r"^(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+\.?$", re.I
)
_RUA_URI = re.compile(r"^(mailto:[^@\s,]+@[^\s,]+|https://[^\s,]+)$", re.I)


@dataclass(frozen=True)
class StsRecord:
    """The TXT record at ``_mta-sts.DOMAIN``."""

    raw: str
    tags: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, raw: str) -> StsRecord:
        return cls(raw, parse_tags(raw))

    @property
    def is_sts(self) -> bool:
        return bool(self.tags) and self.tags[0] == ("v", "STSv1")

    @property
    def problem(self) -> str | None:
        if not self.is_sts:
            first = f"{self.tags[0][0]}={self.tags[0][1]}" if self.tags else "(nothing)"
            return f"the first tag must be exactly v=STSv1, found {first!r}"
        ids = [v for k, v in self.tags if k == "id"]
        if not ids:
            return "no id= tag (the policy version senders compare to refresh their copy)"
        if not _STS_ID.match(ids[0]):
            return f"id={ids[0]} must be 1 to 32 letters and digits"
        return None


@dataclass(frozen=True)
class StsPolicy:
    """The policy file at ``https://mta-sts.DOMAIN/.well-known/mta-sts.txt``."""

    fields: tuple[tuple[str, str], ...]  # (lower-cased key, value) in order

    @classmethod
    def parse(cls, text: str) -> StsPolicy:
        fields: list[tuple[str, str]] = []
        for line in text.replace("\r\n", "\n").split("\n"):
            key, sep, value = line.partition(":")
            if sep and key.strip():
                fields.append((key.strip().lower(), value.strip()))
        return cls(tuple(fields))

    def field(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def mode(self) -> str | None:
        mode = self.field("mode")
        return mode.lower() if mode is not None and mode.lower() in _MODES else None

    @property
    def mx(self) -> tuple[str, ...]:
        return tuple(v.lower().rstrip(".") for k, v in self.fields if k == "mx")

    @property
    def max_age(self) -> int | None:
        value = self.field("max_age")
        return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) <= 10 else None

    @property
    def problem(self) -> str | None:
        version = self.field("version")
        if version != "STSv1":
            return "version: STSv1 is missing" if version is None else f"version: {version} is not STSv1"
        mode = self.field("mode")
        if mode is None:
            return "mode: is missing (enforce, testing or none)"
        if self.mode is None:
            return f"mode: {mode} is not one of enforce, testing, none"
        if self.field("max_age") is None:
            return "max_age: is missing (seconds senders keep the policy)"
        max_age = self.max_age
        if max_age is None or max_age > MAX_AGE_LIMIT:
            return f"max_age: {self.field('max_age')} must be a whole number of seconds up to {MAX_AGE_LIMIT}"
        if self.mode != "none" and not self.mx:
            return "no mx: line (every MX host must match one)"
        bad = [p for p in self.mx if not _MX_PATTERN.match(p)]
        if bad:
            return f"mx: {bad[0]} is not a host name or *.domain pattern"
        return None

    def unmatched(self, mx_hosts: tuple[str, ...]) -> tuple[str, ...]:
        """MX hosts that no ``mx:`` pattern of the policy matches."""
        return tuple(h for h in mx_hosts if not any(mx_matches(p, h) for p in self.mx))


def mx_matches(pattern: str, host: str) -> bool:
    """RFC 8461 4.1: a wildcard matches exactly one leftmost label (``*.example.com``)."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:]
    return host == pattern


@dataclass(frozen=True)
class TlsRptRecord:
    """The TXT record at ``_smtp._tls.DOMAIN``."""

    raw: str
    tags: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, raw: str) -> TlsRptRecord:
        return cls(raw, parse_tags(raw))

    @property
    def is_tlsrpt(self) -> bool:
        return bool(self.tags) and self.tags[0] == ("v", "TLSRPTv1")

    @property
    def rua(self) -> tuple[str, ...]:
        for key, value in self.tags:
            if key == "rua":
                return tuple(u.strip() for u in value.split(",") if u.strip())
        return ()

    @property
    def problem(self) -> str | None:
        if not self.is_tlsrpt:
            first = f"{self.tags[0][0]}={self.tags[0][1]}" if self.tags else "(nothing)"
            return f"the first tag must be exactly v=TLSRPTv1, found {first!r}"
        if not self.rua:
            return "no rua= tag (where reports go: mailto: or https: URIs)"
        bad = [u for u in self.rua if not _RUA_URI.match(u)]
        if bad:
            return f"rua={bad[0]} must be a mailto: or https: URI"
        return None
