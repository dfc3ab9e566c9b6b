"""tls.caa: the CA that issued the live certificate is one the domain's CAA records permit.

This check owns the comparison of CAA with the live certificate's issuer; the DNS area's CAA
check judges the records themselves (presence, syntax).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.core.tls import CertificateFacts

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC8659 = "https://www.rfc-editor.org/rfc/rfc8659"
_LE_CAA = "https://letsencrypt.org/docs/caa/"


@dataclass(frozen=True)
class KnownCa:
    match: tuple[str, ...]
    caa: tuple[str, ...]


@cache
def known_cas() -> tuple[KnownCa, ...]:
    """The shipped issuer -> CAA identifier table (data/tls/ca_identifiers.json)."""
    text = resources.files("launchready").joinpath("data/tls/ca_identifiers.json").read_text(encoding="utf-8")
    return tuple(KnownCa(tuple(e["match"]), tuple(e["caa"])) for e in json.loads(text)["cas"])


META = CheckMeta(
    id="tls.caa",
    title="CAA records permit the CA that issued the live certificate",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Reads the issuer of the certificate served on port 443 and the CAA records that apply to the host "
            "(the host's own, else the closest parent's up to the domain, RFC 8659), and checks that an `issue` "
            "(or, for a wildcard certificate, `issuewild`) property names that CA. Issuers are matched to CAA "
            "names with a shipped table of public CAs; an issuer not in it, or no CAA at all, is not judged."
        ),
        why=(
            "CAs must refuse to issue when CAA names another CA. The current certificate keeps working, but the "
            "next automatic renewal fails and the site goes down with an expired certificate weeks later, usually "
            "after someone 'tightened' CAA to a CA the platform does not use."
        ),
        fix=(
            'Add the issuing CA to CAA (e.g. `example.com. 3600 IN CAA 0 issue "letsencrypt.org"`), or move '
            "issuance to a CA CAA already allows."
        ),
    ),
    findings=(
        FindingSpec(
            id="tls.caa.issuer-not-permitted",
            title="CAA does not permit the CA that issued the live certificate: renewal will fail",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Add `0 issue \"<the CA's CAA name>\"` to the domain's CAA records before the next renewal.",
            references=(_RFC8659, _LE_CAA),
        ),
    ),
    references=(_RFC8659, _LE_CAA),
    probes=("tls", "dns"),
)


def issuer_identifiers(leaf: CertificateFacts) -> tuple[str, ...]:
    text = leaf.issuer.lower()
    for ca in known_cas():
        if any(m in text for m in ca.match):
            return ca.caa
    return ()


def judge(host: str, leaf: CertificateFacts, caa: DnsAnswer) -> list[Finding]:
    """``caa`` is the CAA answer that applies to ``host`` (its own, or its closest parent's)."""
    caa_owner = caa.name
    wanted = issuer_identifiers(leaf)
    parsed = [(record.tag, record.issuer_domain) for record in caa.caa]
    wildcard = any(name.startswith("*.") for name in leaf.san_dns)
    tags = ("issuewild",) if wildcard and any(t == "issuewild" for t, _ in parsed) else ("issue",)
    allowed = [domain for tag, domain in parsed if tag in tags]
    if not wanted or not any(tag in tags for tag, _ in parsed):
        return []  # issuer unknown to the table, or CAA does not restrict issuance
    if any(domain in wanted for domain in allowed):
        return []
    evidence = [
        f"issuer: {leaf.issuer}",
        f"that CA's CAA name(s): {', '.join(wanted)}",
        f"CAA at {caa_owner}: " + "; ".join(caa.records),
        f"expires: {leaf.not_after:%Y-%m-%d}",
    ]
    remediation = (
        f'Publish `{caa_owner}. 3600 IN CAA 0 {tags[0]} "{wanted[0]}"` besides the existing CAA records (or switch CA).'
    )
    return [META.finding("issuer-not-permitted", target=host, evidence=evidence, remediation=remediation)]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    facts = await ctx.tls.handshake(target, 443)
    if facts.leaf is None:
        raise CouldNotRun(
            f"no certificate observed on {target}:443: {facts.error or facts.error_kind or 'no handshake'}"
        )
    name = target
    while True:
        answer = await ctx.dns.query(name, "CAA")
        if not answer.answered:
            raise CouldNotRun(f"CAA lookup for {name} failed: {answer.status}")
        if answer.records:
            return judge(target, facts.leaf, answer)
        if name == ctx.domain or "." not in name:
            return []
        name = name.split(".", 1)[1]


CHECK = Check(meta=META, run=run)
