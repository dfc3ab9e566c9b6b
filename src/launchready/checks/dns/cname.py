"""dns.cname: aliases under the domain lead somewhere that exists and that nobody else can claim."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from launchready.core.check import GROUP_REPEATS_AT, Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import CnameChain, mx_not_checked
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.names import COMMON_SUBDOMAINS
from launchready.core.severity import Confidence, Impact, Severity

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
            "name (fingerprints from can-i-take-over-xyz, CC-BY-4.0). An alias that resolves to such a service "
            "is fetched once over plain HTTP: a page saying the resource does not exist is a takeover risk too. "
            "A name whose query fails (SERVFAIL, timeout) is reported as not verified; when every query fails the "
            "check could not run. Of a domain with more than 20 MX records only the 20 most preferred MX hosts "
            "are followed; a host fact says how many were not."
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
            id="dns.cname.not-verified",
            title="A name's CNAME could not be looked up, so it was not checked",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            confidence=Confidence.TENTATIVE,
            remediation=(
                "Ask the domain's name servers for the name yourself (`dig +norecurse NAME CNAME @ns1...`); a "
                "SERVFAIL or timeout there fails for visitors too (broken delegation, DNSSEC, a dead server). Fix "
                "it and re-run the audit: until a query answers, a dangling alias at that name cannot be ruled out."
            ),
            references=(_RFC1034_3_6_2, _MDN_TAKEOVER),
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
    probes=("dns", "http"),
)


@dataclass(frozen=True)
class Fingerprint:
    service: str
    suffixes: tuple[str, ...]
    nxdomain: bool
    vulnerable: bool
    # What the service's page says when nobody owns the name: alternatives, each a phrase or a
    # ".*" pattern (the list's own notation; "&#124;" separates alternatives in a few entries).
    page: tuple[str, ...] = ()

    def page_match(self, body: str) -> str | None:
        """The fingerprint phrase found in ``body``, or None."""
        for phrase in self.page:
            if ".*" in phrase:
                try:
                    m = re.search(phrase, body)
                except re.error:
                    m = None
                if m:
                    return m[0]
            elif phrase in body:
                return phrase
        return None


def _page_phrases(entry: dict[str, object]) -> tuple[str, ...]:
    text = str(entry.get("fingerprint") or "")
    if entry.get("nxdomain") or not text or text == "NXDOMAIN" or text.startswith("HTTP_STATUS="):
        return ()
    # Very short phrases ("404 Not Found") would match any error page: not a fingerprint.
    return tuple(p.strip() for p in text.split("&#124;") if len(p.strip()) >= 12)


@lru_cache(maxsize=1)
def fingerprints() -> tuple[Fingerprint, ...]:
    raw = resources.files("launchready").joinpath("data", "dns", "takeover-fingerprints.json").read_text("utf-8")
    out: list[Fingerprint] = []
    for entry in json.loads(raw):
        suffixes = tuple(s.lower().strip(".") for s in entry.get("cname") or () if re.search(r"[a-z]", s, re.I))
        if suffixes:
            out.append(
                Fingerprint(
                    str(entry["service"]),
                    suffixes,
                    bool(entry.get("nxdomain")),
                    bool(entry.get("vulnerable")),
                    _page_phrases(entry),
                )
            )
    return tuple(out)


def service_for(target: str) -> Fingerprint | None:
    target = target.lower().rstrip(".")
    for fp in fingerprints():
        if any(target == s or target.endswith("." + s) for s in fp.suffixes):
            return fp
    return None


def services_for(target: str) -> tuple[Fingerprint, ...]:
    """Every fingerprint whose suffix matches ``target`` (a suffix can have several entries)."""
    target = target.lower().rstrip(".")
    return tuple(fp for fp in fingerprints() if any(target == s or target.endswith("." + s) for s in fp.suffixes))


def page_candidates(chains: tuple[CnameChain, ...]) -> tuple[CnameChain, ...]:
    """Aliases that resolve to a service whose "no such resource" page is known: worth one GET."""
    return tuple(
        c for c in chains
        if c.is_alias and c.end == "resolves" and any(fp.vulnerable and fp.page for fp in services_for(c.target))
    )  # fmt: skip


def _unclaimed_page(c: CnameChain, page: HttpExchange | None) -> tuple[Fingerprint, str] | None:
    if page is None or page.status is None:
        return None
    body = page.body.decode("utf-8", "replace")
    for fp in services_for(c.target):
        if fp.vulnerable:
            phrase = fp.page_match(body)
            if phrase is not None:
                return fp, phrase
    return None


def judge(
    domain: str, chains: tuple[CnameChain, ...], pages: Mapping[str, HttpExchange] | None = None
) -> list[Finding]:
    """``pages`` maps an alias name to the page it serves (fetched for :func:`page_candidates`)."""
    if chains and all(c.end == "dns-error" for c in chains):
        # Not one name answered: "no dangling alias" would be a guess.
        shown = "; ".join(f"{c.name}: {c.detail or 'no answer'}" for c in chains[:3])
        more = f" (and {len(chains) - 3} more)" if len(chains) > 3 else ""
        raise CouldNotRun(f"every CNAME query failed: {shown}{more}")
    findings = _not_verified(domain, [c for c in chains if c.end == "dns-error"])
    for c in chains:
        if c.end == "dns-error":
            continue
        unclaimed = _unclaimed_page(c, (pages or {}).get(c.name)) if c.end == "resolves" else None
        if unclaimed is not None:
            fp, phrase = unclaimed
            exchange = (pages or {})[c.name]
            findings.append(
                META.finding(
                    "takeover-risk",
                    target=c.name,
                    evidence=[
                        f"CNAME chain: {' -> '.join(c.chain)}",
                        f"GET {exchange.url} -> {exchange.status}: the page says {phrase!r}",
                        f"{fp.service} shows this page for a name nobody has claimed: anyone can create it",
                    ],
                    remediation=(
                        f"Delete the record `{c.name}. CNAME {c.target}.` today, or create the {fp.service} resource "
                        f"{c.target} under your own account. Until then anyone can serve pages on {c.name}."
                    ),
                )
            )
            continue
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
                META.finding(
                    "loop",
                    target=c.name,
                    evidence=[*evidence, c.detail],
                    remediation=f"Replace the CNAME at {c.name} with one pointing at the host that really serves it, e.g. `{c.name}. 300 IN CNAME <your-host>.` ending the chain.",
                )
            )
        elif c.end == "nxdomain":
            service = service_for(c.target)
            if service is not None and service.vulnerable:
                findings.append(
                    META.finding(
                        "takeover-risk",
                        target=c.name,
                        evidence=[
                            *evidence,
                            f"{c.target} does not exist (NXDOMAIN)",
                            f"{service.service} lets anyone create a resource named {c.target}",
                        ],
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


def _not_verified(domain: str, failed: list[CnameChain]) -> list[Finding]:
    """Names whose query failed while others answered: not verified, never counted as clean.

    One finding per name, or one for the domain listing them once there are GROUP_REPEATS_AT or
    more (a zone whose thousand mail hosts time out must not make a thousand findings).
    """

    def fix(name: str) -> str:
        return (
            f"Run `dig +norecurse {name} CNAME` against each of {domain}'s name servers; a SERVFAIL or timeout "
            "there fails for visitors too (broken delegation, DNSSEC, a dead server). Fix it and re-run the audit: "
            f"until {name} answers, a dangling alias there cannot be ruled out."
        )

    if len(failed) < GROUP_REPEATS_AT:
        return [
            META.finding(
                "not-verified",
                target=c.name,
                evidence=[f"CNAME chain so far: {' -> '.join(c.chain)}", f"query failed: {c.detail or 'no answer'}"],
                remediation=fix(c.name),
            )
            for c in failed
        ]
    return [
        META.finding(
            "not-verified",
            target=domain,
            title=f"The CNAMEs of {len(failed)} names could not be looked up, so they were not checked",
            evidence=[f"{c.name}: query failed: {c.detail or 'no answer'}" for c in failed],
            remediation=fix("each name listed"),
        )
    ]


def _names(ctx: AuditContext, domain: str) -> tuple[str, ...]:
    names = [domain, f"www.{domain}", *(h.name for h in ctx.site.hosts)]
    for label in ctx.config.subdomains:
        names.append(label if label.endswith("." + domain) else f"{label}.{domain}")
    if ctx.config.audit.discover:
        # Discovery drops a name whose alias leads nowhere: ask the common names' CNAMEs again.
        names.extend(f"{label}.{domain}" for label in COMMON_SUBDOMAINS)
    return tuple(dict.fromkeys(n.lower() for n in names))


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    chains = await ctx.cname.follow_all(_names(ctx, target))
    if ctx.site.mx_omitted:
        # Discovery looked up only the most preferred MX hosts: their aliases are the ones followed.
        ctx.facts.add(
            target,
            "CNAMEs followed",
            f"{len(chains)} names",
            check_id=META.id,
            detail=(mx_not_checked(ctx.site.mx_omitted),),
        )
    candidates = page_candidates(chains)
    # Plain HTTP, as the fingerprints were taken: the name's certificate is the provider's, or none.
    fetched = await asyncio.gather(*(ctx.http.fetch(f"http://{c.name}/", max_body=256_000) for c in candidates))
    return judge(target, chains, {c.name: page for c, page in zip(candidates, fetched, strict=True)})


CHECK = Check(meta=META, run=run)
