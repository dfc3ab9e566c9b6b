"""DMARC records (RFC 7489 6.3): tags, policy, report addresses; never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass

from launchready.email.tags import parse_tags

POLICIES = ("none", "quarantine", "reject")
_MAILTO = re.compile(r"^mailto:([^@\s!]+)@([^\s!]+?)(?:!\d+[kmgt]?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class DmarcRecord:
    raw: str
    tags: tuple[tuple[str, str], ...]  # (lower-cased name, value) in order

    def tag(self, name: str) -> str | None:
        for key, value in self.tags:
            if key == name:
                return value
        return None

    @classmethod
    def parse(cls, raw: str) -> DmarcRecord:
        return cls(raw=raw, tags=parse_tags(raw))

    @property
    def is_dmarc(self) -> bool:
        """RFC 7489 6.6.3: only records whose first tag is exactly v=DMARC1 count."""
        return bool(self.tags) and self.tags[0] == ("v", "DMARC1")

    @property
    def policy(self) -> str | None:
        p = self.tag("p")
        return p.lower() if p is not None and p.lower() in POLICIES else None

    @property
    def subdomain_policy(self) -> str | None:
        sp = self.tag("sp")
        return sp.lower() if sp is not None and sp.lower() in POLICIES else self.policy

    @property
    def pct(self) -> int | None:
        value = self.tag("pct")
        if value is None:
            return 100
        return int(value) if value.isascii() and value.isdigit() and int(value) <= 100 else None

    def report_domains(self, tag: str) -> tuple[str, ...]:
        """The domains of the mailto: URIs in rua= or ruf=."""
        value = self.tag(tag) or ""
        out: list[str] = []
        for uri in value.split(","):
            m = _MAILTO.match(uri.strip())
            if m:
                out.append(m[2].lower().rstrip("."))
        return tuple(out)

    @property
    def problem(self) -> str | None:
        if not self.is_dmarc:
            first = f"{self.tags[0][0]}={self.tags[0][1]}" if self.tags else "(nothing)"
            return f"the first tag must be exactly v=DMARC1, found {first!r}"
        p = self.tag("p")
        if p is None:
            return "no p= tag (the policy: none, quarantine or reject)"
        if self.policy is None:
            return f"p={p} is not one of none, quarantine, reject"
        sp = self.tag("sp")
        if sp is not None and sp.lower() not in POLICIES:
            return f"sp={sp} is not one of none, quarantine, reject"
        if self.pct is None:
            return f"pct={self.tag('pct')} is not a whole number from 0 to 100"
        for align in ("adkim", "aspf"):
            value = self.tag(align)
            if value is not None and value.lower() not in ("r", "s"):
                return f"{align}={value} must be r (relaxed) or s (strict)"
        for uri_tag in ("rua", "ruf"):
            value = self.tag(uri_tag)
            if value is not None and not all(_MAILTO.match(u.strip()) for u in value.split(",")):
                return f"{uri_tag}={value} must be mailto: addresses separated by commas"
        return None
