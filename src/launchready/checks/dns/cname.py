"""dns.cname: aliases under the domain lead somewhere that exists and that nobody else can claim."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.engine.discovery import COMMON_SUBDOMAINS
from launchready.probes.cname import CnameChain, follow_all

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC1034_3_6_2 = "https://www.rfc-editor.org/rfc/rfc1034#section-3.6.2"
_RFC1912_2_4 = "https://www.rfc-editor.org/rfc/rfc1912#section-2.4"
_TAKEOVER = "https://github.com/EdOverflow/can-i-take-over-xyz"
_MDN_TAKEOVER = "https://developer.mozilla.org/en-US/docs/Web/Security/Subdomain_takeovers"

META = CheckMeta(
    id="dns.cname",
    title="CNAMEs point at names that exist (no dangling aliases)",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Follows the CNAME of the apex, www, every declared and discovered subdomain hop by hop: it "
            "reports a CNAME at the apex, loops and over-long chains, and aliases whose target does not "
            "exist, naming the hosting service when the target's suffix is one where anyone can claim the "
            "name (fingerprints from can-i-take-over-xyz, CC-BY-4.0)."
        ),
        why=(
            "A CNAME left pointing at a deleted Heroku app, S3 bucket or Azure site lets anyone who creates "
            "a resource with that name serve their content on your subdomain: phishing pages under your "
            "brand, stolen session cookies scoped to your domain. A broken alias is also a dead link for members."
        ),
        fix=(
            "Delete the CNAME of every service you no longer use, or re-create the resource it points at. "
            "Never delete a hosting resource before removing the DNS record that points at it."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.cname.takeover-risk",
            title="A CNAME points at an unclaimed hosting name: subdomain takeover risk",
            severity=Severity.HIGH,
            impact=Impact.DATA_EXPOSURE,
            remediation="Delete the CNAME record now (or re-create the hosting resource it names).",
            references=(_TAKEOVER, _MDN_TAKEOVER),
        ),
        FindingSpec(
            id="dns.cname.dangling",
            title="A CNAME points at a name that does not exist",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Delete the CNAME record, or point it at a name that exists.",
            references=(_MDN_TAKEOVER, _RFC1034_3_6_2),
        ),
        FindingSpec(
            id="dns.cname.loop",
            title="CNAMEs form a loop or an over-long chain: the name never resolves",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Point the CNAME at the final host name directly.",
            references=(_RFC1034_3_6_2,),
        ),
        FindingSpec(
            id="dns.cname.apex",
            title="A CNAME at the apex hides the domain's MX, NS and TXT records",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            confidence=Confidence.FIRM,
            remediation="Replace the apex CNAME with A/AAAA records or your DNS provider's ALIAS/ANAME/flattening.",
            references=(_RFC1912_2_4, _RFC1034_3_6_2),
        ),
    ),
    references=(_RFC1034_3_6_2, _MDN_TAKEOVER, _TAKEOVER),
    probes=("dns",),
)


@dataclass(frozen=True)
class Fingerprint:
    service: str
    suffixes: tuple[str, ...]
    nxdomain: bool
    vulnerable: bool


@lru_cache(maxsize=1)
def fingerprints() -> tuple[Fingerprint, ...]:
    raw = resources.files("launchready").joinpath("data", "dns", "takeover-fingerprints.json").read_text("utf-8")
    out: list[Fingerprint] = []
    for entry in json.loads(raw):
        suffixes = tuple(s.lower().strip(".") for s in entry.get("cname") or () if re.search(r"[a-z]", s, re.I))
        if suffixes:
            out.append(Fingerprint(str(entry["service"]), suffixes, bool(entry.get("nxdomain")), bool(entry.get("vulnerable"))))
    return tuple(out)


def service_for(target: str) -> Fingerprint | None:
    target = target.lower().rstrip(".")
    for fp in fingerprints():
        if any(target == s or target.endswith("." + s) for s in fp.suffixes):
            return fp
    return None


def judge(domain: str, chains: tuple[CnameChain, ...]) -> list[Finding]:
    findings: list[Finding] = []
    for c in chains:
        if not c.is_alias and c.end != "loop":
            continue
        shown = " -> ".join(c.chain)
        evidence = [f"CNAME chain: {shown}"]
        if c.name == domain:
            findings.append(
                META.finding(
                    "apex",
                    target=domain,
                    evidence=evidence,
                    remediation=(
                        f"Delete the CNAME at {domain} and publish `{domain}. 300 IN A <address>` instead, or use your "
                        f"DNS provider's ALIAS/ANAME (Cloudflare: CNAME flattening) pointing at {c.chain[1]}. A CNAME "
                        "cannot coexist with the MX, TXT and NS records the apex needs (RFC 1912 2.4)."
                    ),
                )
            )
        if c.end in ("loop", "too-long"):
            findings.append(
                META.finding("loop", target=c.name, evidence=[*evidence, c.detail],
                             remediation=f"Replace the CNAME at {c.name} with one pointing at the host that really serves it, e.g. `{c.name}. 300 IN CNAME <your-host>.` ending the chain.")
            )
        elif c.end == "nxdomain":
            service = service_for(c.target)
            if service is not None and service.vulnerable:
                findings.append(
                    META.finding(
                        "takeover-risk",
                        target=c.name,
                        evidence=[*evidence, f"{c.target} does not exist (NXDOMAIN)",
                                  f"{service.service} lets anyone create a resource named {c.target}"],
                        remediation=(
                            f"Delete the record `{c.name}. CNAME {c.target}.` today, or re-create the {service.service} "
                            f"resource named {c.target} under your account. Until then anyone can serve pages on {c.name}."
                        ),
                    )
                )
            else:
                findings.append(
                    META.finding(
                        "dangling",
                        target=c.name,
                        evidence=[*evidence, f"{c.target} does not exist (NXDOMAIN)"],
                        remediation=f"Delete the record `{c.name}. CNAME {c.target}.`, or point it at a host name that exists.",
                    )
                )
    return findings


def _names(ctx: AuditContext, domain: str) -> tuple[str, ...]:
    names = [domain, f"www.{domain}", *(h.name for h in ctx.site.hosts)]
    for label in ctx.config.subdomains:
        names.append(label if label.endswith("." + domain) else f"{label}.{domain}")
    if ctx.config.audit.discover:
        # Discovery drops a name whose alias leads nowhere: ask the common names' CNAMEs again.
        names.extend(f"{label}.{domain}" for label in COMMON_SUBDOMAINS)
    return tuple(dict.fromkeys(n.lower() for n in names))


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    chains = await follow_all(ctx.dns, _names(ctx, target))
    return judge(target, chains)


CHECK = Check(meta=META, run=run)
