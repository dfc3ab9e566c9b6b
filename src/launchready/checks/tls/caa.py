"""tls.caa: the domain publishes CAA, and it permits the CA that issued the live certificate.

This check owns CAA: its absence (with the records to publish for the CA the live certificates
come from) and the comparison of the records with the live certificate's issuer.
"""

from __future__ import annotations

import asyncio
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
from launchready.email.psl import organizational_domain

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC8659 = "https://www.rfc-editor.org/rfc/rfc8659"
_LE_CAA = "https://letsencrypt.org/docs/caa/"
_RFC8659_4 = "https://www.rfc-editor.org/rfc/rfc8659#section-4"
_INTERNET_NL_CAA = "https://internet.nl/faqs/https/"


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
            "names with a shipped table of public CAs; an issuer not in it is not judged. When neither the domain "
            "nor its closest ancestor (up to the registrable domain) publishes CAA, it says so once, with the exact "
            "records to publish for the CA(s) the live certificates come from."
        ),
        why=(
            "CAs must refuse to issue when CAA names another CA. The current certificate keeps working, but the "
            "next automatic renewal fails and the site goes down with an expired certificate weeks later, usually "
            "after someone 'tightened' CAA to a CA the platform does not use. Without any CAA, every public CA may "
            "issue for the domain: a mis-issued certificate (a CA tricked by a hijacked DNS or HTTP validation) "
            "is not stopped at the CA, which is why internet.nl and Hardenize recommend publishing it."
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
        FindingSpec(
            id="tls.caa.missing",
            title="No CAA record: any certificate authority may issue certificates for the domain",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                'Publish `<domain>. 3600 IN CAA 0 issue "<your CA\'s CAA name>"`, `0 issuewild ";"` unless you use '
                'wildcard certificates, and `0 iodef "mailto:security@<domain>"`.'
            ),
            references=(_RFC8659_4, _LE_CAA, _INTERNET_NL_CAA),
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


def _issue_value(leaf: CertificateFacts) -> str | None:
    names = issuer_identifiers(leaf)
    return names[0] if names else None


def judge_missing(domain: str, asked: tuple[str, ...], leaves: tuple[CertificateFacts, ...]) -> list[Finding]:
    """No CAA at ``domain`` nor at its ancestors ``asked``: one low finding with the records to publish.

    ``leaves``: the certificates the domain's web hosts serve; the records name their CAs.
    """
    issuers: dict[str, str] = {}  # CAA name -> the issuer it was read from
    unknown: list[str] = []
    for leaf in leaves:
        value = _issue_value(leaf)
        if value is None:
            if leaf.issuer not in unknown:
                unknown.append(leaf.issuer)
        else:
            issuers.setdefault(value, leaf.issuer)
    wildcard = any(name.startswith("*.") for leaf in leaves for name in leaf.san_dns)
    owner = f"{domain}. 3600 IN CAA"
    records = [f'`{owner} 0 issue "{name}"`' for name in issuers]
    records += [f'`{owner} 0 issue "<CAA name of {issuer}>"`' for issuer in unknown]
    if not records:
        records.append(f'`{owner} 0 issue "<your CA\'s CAA name, e.g. letsencrypt.org>"`')
    if wildcard:
        records += [f'`{owner} 0 issuewild "{name}"`' for name in issuers]
        wild_advice = "a live certificate is a wildcard, so issuewild names the same CA"
    else:
        records.append(f'`{owner} 0 issuewild ";"`')
        wild_advice = 'no live certificate is a wildcard, so `issuewild ";"` forbids wildcard issuance'
    records.append(f'`{owner} 0 iodef "mailto:security@{domain}"`')
    evidence = [f"CAA {name}: none" for name in asked]
    evidence += [f"live certificate issuer: {issuer} (CAA name {name})" for name, issuer in issuers.items()]
    evidence += [f"live certificate issuer: {issuer} (not in the CA table: look up its CAA name)" for issuer in unknown]
    return [
        META.finding(
            "missing",
            target=domain,
            evidence=evidence,
            remediation=(
                "Publish " + ", ".join(records) + f" ({wild_advice}; iodef tells CAs where to report refused "
                "requests). Add every CA you issue from (CDN, e-mail provider, other platforms) before publishing: "
                "CAs must then refuse all others, so a forgotten one fails its next renewal."
            ),
        )
    ]


def _caa_owners(host: str, top: str) -> tuple[str, ...]:
    """``host`` and its ancestors up to ``top`` (the registrable domain), closest first."""
    names = [host]
    name = host
    while name != top and name.endswith("." + top):
        name = name.split(".", 1)[1]
        names.append(name)
    return tuple(names)


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    facts = await ctx.tls.handshake(target, 443)
    if facts.leaf is None:
        raise CouldNotRun(
            f"no certificate observed on {target}:443: {facts.error or facts.error_kind or 'no handshake'}"
        )
    # RFC 8659 3: the host's own CAA, else its closest ancestor's; above the audited domain only up to
    # the registrable domain (a public suffix's CAA is not the owner's to set).
    top = organizational_domain(ctx.domain)
    asked: list[str] = []
    for name in _caa_owners(target, top):
        answer = await ctx.dns.query(name, "CAA")
        if not answer.answered:
            raise CouldNotRun(f"CAA lookup for {name} failed: {answer.status}")
        asked.append(name)
        if answer.records:
            return judge(target, facts.leaf, answer)
    # Said once per audit: on the apex, or on the first web host when the apex serves no web.
    hosts = ctx.site.web_hosts
    if target != ctx.domain and (ctx.domain in hosts or target != min(hosts, default=target)):
        return []
    handshakes = await asyncio.gather(*(ctx.tls.handshake(h, 443) for h in hosts))
    leaves = tuple(h.leaf for h in handshakes if h.leaf is not None) or (facts.leaf,)
    return judge_missing(ctx.domain, tuple(asked), leaves)


CHECK = Check(meta=META, run=run)
