"""DMARC records (RFC 7489 6.3): tags, policy, report addresses; never raises.

RFC 7489 6.3 and 6.6.3: a record is unusable only when v= or p= is wrong (missing, invalid,
duplicated) or sp= is invalid; an invalid value of any other optional tag is ignored and that
tag's default applies, so the policy still holds. ``fallbacks`` lists those ignored values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from launchready.email.tags import parse_tags

POLICIES = ("none", "quarantine", "reject")
_MAILTO = re.compile(r"^mailto:([^@\s!]+)@([^\s!]+?)(?:!\d+[kmgt]?)?$", re.IGNORECASE)
# RFC 7489 6.2: a URI (RFC 3986 scheme ":" rest) with an optional "!" size limit in k, m, g or t.
_DMARC_URI = re.compile(r"^[a-z][a-z0-9+.-]*:[^\s!,]+(?:!\d+[kmgt]?)?$", re.IGNORECASE)
_FO = re.compile(r"^[01ds](?::[01ds])*$", re.IGNORECASE)

# The default that replaces an invalid value of each optional tag (RFC 7489 6.3).
DEFAULTS = {
    "pct": "100",
    "adkim": "r",
    "aspf": "r",
    "fo": "0",
    "rf": "afrf",
    "ri": "86400",
    "rua": "(no aggregate reports)",
    "ruf": "(no failure reports)",
}


@dataclass(frozen=True)
class Fallback:
    """An optional tag whose value receivers ignore: what was published and what applies instead."""

    tag: str
    value: str
    default: str
    reason: str

    def text(self) -> str:
        return f"{self.tag}={self.value}: {self.reason}; receivers ignore it and use {self.tag}={self.default}"


def valid_report_uri(uri: str) -> bool:
    return bool(_DMARC_URI.match(uri.strip()))


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
    def pct(self) -> int:
        """The percentage receivers apply: the published one, or 100 when absent or invalid."""
        value = self.tag("pct")
        return int(value) if value is not None and _valid_pct(value) else 100

    def alignment(self, tag: str) -> str:
        """adkim= or aspf= as receivers read it: "r" (the default, also for an invalid value) or "s"."""
        value = (self.tag(tag) or "r").lower()
        return value if value in ("r", "s") else "r"

    def report_uris(self, tag: str) -> tuple[str, ...]:
        """The syntactically valid URIs of rua= or ruf= (any scheme; invalid ones are ignored)."""
        value = self.tag(tag) or ""
        return tuple(u.strip() for u in value.split(",") if valid_report_uri(u))

    def report_domains(self, tag: str) -> tuple[str, ...]:
        """The domains of the mailto: URIs in rua= or ruf=."""
        out: list[str] = []
        for uri in self.report_uris(tag):
            m = _MAILTO.match(uri)
            if m:
                out.append(m[2].lower().rstrip("."))
        return tuple(out)

    @property
    def problem(self) -> str | None:
        """Why receivers discard the record (None: the policy applies)."""
        if not self.is_dmarc:
            first = f"{self.tags[0][0]}={self.tags[0][1]}" if self.tags else "(nothing)"
            return f"the first tag must be exactly v=DMARC1, found {first!r}"
        count = sum(1 for name, _ in self.tags if name == "p")
        p = self.tag("p")
        if p is None:
            return "no p= tag (the policy: none, quarantine or reject)"
        if count > 1:
            values = ", ".join(f"p={v}" for name, v in self.tags if name == "p")
            return f"p= appears {count} times ({values}): receivers cannot tell which policy applies"
        if self.policy is None:
            return f"p={p} is not one of none, quarantine, reject"
        sp = self.tag("sp")
        if sp is not None and sp.lower() not in POLICIES:
            return f"sp={sp} is not one of none, quarantine, reject"
        return None

    @property
    def fallbacks(self) -> tuple[Fallback, ...]:
        """Optional tags with an invalid value (RFC 7489 6.3): ignored, their default applies."""
        out: list[Fallback] = []
        pct = self.tag("pct")
        if pct is not None and not _valid_pct(pct):
            out.append(Fallback("pct", pct, DEFAULTS["pct"], "not a whole number from 0 to 100"))
        for align in ("adkim", "aspf"):
            value = self.tag(align)
            if value is not None and value.lower() not in ("r", "s"):
                out.append(Fallback(align, value, DEFAULTS[align], "must be r (relaxed) or s (strict)"))
        for uri_tag in ("rua", "ruf"):
            value = self.tag(uri_tag)
            if value is None:
                continue
            bad = [u.strip() for u in value.split(",") if not valid_report_uri(u)]
            if bad:
                kept = self.report_uris(uri_tag)
                default = ",".join(kept) if kept else DEFAULTS[uri_tag]
                reason = (
                    f"{', '.join(repr(b) for b in bad)} is not a valid URI "
                    "(scheme:address, optionally !SIZE with k, m, g or t)"
                )
                out.append(Fallback(uri_tag, value, default, reason))
        fo = self.tag("fo")
        if fo is not None and not _FO.match(fo.strip()):
            out.append(Fallback("fo", fo, DEFAULTS["fo"], "must be 0, 1, d or s, separated by ':'"))
        rf = self.tag("rf")
        if rf is not None and rf.strip().lower() != "afrf":
            out.append(Fallback("rf", rf, DEFAULTS["rf"], "the only report format is afrf"))
        ri = self.tag("ri")
        if ri is not None and not (ri.isascii() and ri.isdigit() and len(ri) <= 10):
            out.append(Fallback("ri", ri, DEFAULTS["ri"], "not a whole number of seconds"))
        return tuple(out)

    def corrected(self) -> str:
        """The record with every ignored value removed (or, for rua/ruf, only the valid URIs kept)."""
        dropped = {f.tag for f in self.fallbacks}
        parts: list[str] = []
        for name, value in self.tags:
            if name in ("rua", "ruf") and name in dropped:
                kept = self.report_uris(name)
                if kept:
                    parts.append(f"{name}={','.join(kept)}")
            elif name not in dropped:
                parts.append(f"{name}={value}")
        return "; ".join(parts)


def _valid_pct(value: str) -> bool:
    v = value.strip()
    return v.isascii() and v.isdigit() and len(v) <= 3 and int(v) <= 100
