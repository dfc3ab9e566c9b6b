"""email.dmarc: the domain publishes one valid DMARC policy, so receivers trust and report its mail."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.probes.dns import DnsAnswer

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC7489 = "https://www.rfc-editor.org/rfc/rfc7489"
_RFC7489_6_3 = "https://www.rfc-editor.org/rfc/rfc7489#section-6.3"
_RFC7489_6_6_3 = "https://www.rfc-editor.org/rfc/rfc7489#section-6.6.3"
_GMAIL_RULES = "https://support.google.com/a/answer/81126"
_YAHOO_RULES = "https://senders.yahooinc.com/best-practices/"

POLICIES = ("none", "quarantine", "reject")

# A record that was meant to be DMARC (so a typo is reported as invalid rather than missing).
_LOOKS_LIKE_DMARC = re.compile(r"^\s*v\s*=\s*dmarc", re.IGNORECASE)

_RAMP = (
    "Start with p=none and read the aggregate reports sent to the rua address for 2-4 weeks; once only "
    "your own services appear, move to `p=quarantine; pct=25`, then `p=quarantine`, then `p=reject`. "
    "The rua mailbox must exist (or use a DMARC report service's address)."
)

META = CheckMeta(
    id="email.dmarc",
    title="DMARC policy is published",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the TXT record at _dmarc.DOMAIN and checks that exactly one DMARC record exists, that it "
            "starts with v=DMARC1 and that it has a valid policy (p=none, quarantine or reject)."
        ),
        why=(
            "Since 2024 Gmail and Yahoo require bulk senders to publish DMARC, and they downgrade mail from "
            "domains without it: your verification and password-reset emails end up in spam. Without DMARC "
            "nobody tells you when someone phishes your members in your name, and nothing stops it."
        ),
        fix=(
            "Publish one TXT record at _dmarc.DOMAIN such as `v=DMARC1; p=none; rua=mailto:dmarc@DOMAIN`, "
            "watch the reports it brings in, then tighten the policy to quarantine and reject."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.dmarc.missing",
            title="No DMARC record: mail may be junked and spoofing goes unreported",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation='Publish `_dmarc.<domain>. TXT "v=DMARC1; p=none; rua=mailto:dmarc@<domain>"`.',
            references=(_RFC7489, _GMAIL_RULES, _YAHOO_RULES),
        ),
        FindingSpec(
            id="email.dmarc.multiple",
            title="More than one DMARC record: receivers apply no policy",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Keep exactly one v=DMARC1 TXT record at _dmarc and delete the others.",
            references=(_RFC7489_6_6_3,),
        ),
        FindingSpec(
            id="email.dmarc.invalid",
            title="The DMARC record is malformed and ignored",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation='Replace it with `"v=DMARC1; p=none; rua=mailto:dmarc@<domain>"`.',
            references=(_RFC7489_6_3, _RFC7489_6_6_3),
        ),
    ),
    references=(_RFC7489, _GMAIL_RULES),
    probes=("dns",),
)


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
        tags: list[tuple[str, str]] = []
        for part in raw.split(";"):
            name, sep, value = part.partition("=")
            if name.strip() or sep:
                tags.append((name.strip().lower(), value.strip()))
        return cls(raw=raw, tags=tuple(tags))

    @property
    def is_dmarc(self) -> bool:
        """RFC 7489 6.6.3: only records whose first tag is exactly v=DMARC1 count."""
        return bool(self.tags) and self.tags[0] == ("v", "DMARC1")

    @property
    def policy(self) -> str | None:
        p = self.tag("p")
        return p.lower() if p is not None and p.lower() in POLICIES else None

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
        return None


def _record(domain: str, policy: str = "none", rua: str | None = None) -> str:
    rua = rua or f"mailto:dmarc@{domain}"
    return f'`_dmarc.{domain}. 300 IN TXT "v=DMARC1; p={policy}; rua={rua}"`'


def judge(domain: str, txt: DnsAnswer) -> list[Finding]:
    """Judge the TXT answer at ``_dmarc.<domain>``."""
    name = f"_dmarc.{domain}"
    if txt.status in ("timeout", "servfail", "error"):
        raise CouldNotRun(f"TXT query for {name} failed ({txt.status}): {txt.error or 'no detail'}")
    parsed = [DmarcRecord.parse(r.strip()) for r in txt.records]
    dmarc = [r for r in parsed if r.is_dmarc]
    attempts = [r for r in parsed if not r.is_dmarc and _LOOKS_LIKE_DMARC.match(r.raw)]

    if not dmarc and not attempts:
        seen = f"{len(txt.records)} TXT record(s), none starts with v=DMARC1" if txt.ok else txt.status.upper()
        evidence = [f"TXT {name}: {seen}"]
        return [
            META.finding(
                "missing",
                target=domain,
                evidence=evidence,
                remediation=f"Publish {_record(domain)}. {_RAMP}",
            )
        ]
    if len(dmarc) > 1:
        policies = [r.policy for r in dmarc if r.policy]
        strongest = max(policies, key=POLICIES.index) if policies else "none"
        rua = next((r.tag("rua") for r in dmarc if r.tag("rua")), None)
        return [
            META.finding(
                "multiple",
                target=domain,
                evidence=[
                    *(f'TXT {name}: "{r.raw}"' for r in dmarc),
                    f"{len(dmarc)} v=DMARC1 records: receivers ignore all of them",
                ],
                remediation=f"Keep exactly one record, e.g. {_record(domain, strongest, rua)}, and delete the rest.",
            )
        ]
    record = dmarc[0] if dmarc else attempts[0]
    problem = record.problem
    if problem is None:
        return []
    rua = record.tag("rua")
    return [
        META.finding(
            "invalid",
            target=domain,
            evidence=[f'TXT {name}: "{record.raw}"', f"problem: {problem}"],
            remediation=f"Replace it with {_record(domain, record.policy or 'none', rua)}. {_RAMP}",
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if ctx.site.domain_missing:
        raise NotApplicable(f"{target} does not exist in DNS (dns.apex reports it)")
    txt = await ctx.dns.txt(f"_dmarc.{target}")
    return judge(target, txt)


CHECK = Check(meta=META, run=run)
