"""dns.apex: the bare domain must exist and resolve to an address, or nobody reaches the product."""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC1035 = "https://www.rfc-editor.org/rfc/rfc1035"
_RFC3596 = "https://www.rfc-editor.org/rfc/rfc3596"
_RFC8499 = "https://www.rfc-editor.org/rfc/rfc8499"
_MDN_DNS = "https://developer.mozilla.org/en-US/docs/Glossary/DNS"

META = CheckMeta(
    id="dns.apex",
    title="The domain resolves to an address",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Asks DNS for the A (IPv4) and AAAA (IPv6) records of the bare domain, e.g. "
            "example.com without www. It tells apart a domain that does not exist at all "
            "(NXDOMAIN), one that exists but points nowhere, and one whose nameservers do not answer."
        ),
        why=(
            "People type the bare domain into the browser, paste it into chats and put it on slides. "
            "If it has no address, launch-day visitors get a browser error page instead of your product, "
            "and links in press and social posts are dead on arrival."
        ),
        fix=(
            "At your DNS provider, publish an A record (and an AAAA record if your host has IPv6) for the "
            "bare domain pointing at your server or load balancer. Hosting platforms that give you a host "
            "name instead of an IP need an ALIAS/ANAME record or CNAME flattening (Cloudflare) at the apex, "
            "because a plain CNAME is not allowed there. If the domain does not exist, check that it is "
            "registered and that the registrar's NS records point at your DNS provider."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.apex.nxdomain",
            title="The domain does not exist in DNS",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Check that the domain is registered and not expired, and that the registrar delegates it "
                "to your DNS provider's nameservers: `dig NS <domain> +trace` must end at the nameservers "
                "your DNS provider lists for the zone."
            ),
            references=(_RFC8499, _RFC1035),
        ),
        FindingSpec(
            id="dns.apex.no-address",
            title="The bare domain has no A or AAAA record",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            remediation="Publish an A record for the bare domain: `<domain>. 300 IN A <your server IP>`.",
            references=(_RFC1035, _RFC3596, _MDN_DNS),
        ),
        FindingSpec(
            id="dns.apex.unresolvable",
            title="The domain's nameservers do not answer",
            severity=Severity.BLOCKER,
            impact=Impact.AVAILABILITY,
            confidence=Confidence.FIRM,
            remediation=(
                "Check that the nameservers delegated at the registrar are the ones your DNS provider "
                "assigned and that they serve the zone (`dig SOA <domain> @<each nameserver>` must answer)."
            ),
            references=(_RFC1035, _RFC8499),
        ),
    ),
    references=(_RFC1035, _RFC3596, _MDN_DNS),
    probes=("dns",),
    needs_existing_domain=False,
)


def _describe(answer: DnsAnswer) -> str:
    if answer.ok:
        return f"{answer.rdtype} {answer.name}: {', '.join(answer.records)}"
    detail = f" ({answer.error})" if answer.error else ""
    return f"{answer.rdtype} {answer.name}: {answer.status.upper()}{detail}"


def _no_address_fix(domain: str, www_addresses: tuple[str, ...]) -> str:
    v4 = [a for a in www_addresses if ":" not in a]
    v6 = [a for a in www_addresses if ":" in a]
    if v4 or v6:
        records = [f"`{domain}. 300 IN A {a}`" for a in v4] + [f"`{domain}. 300 IN AAAA {a}`" for a in v6]
        lead = f"www.{domain} already resolves; to serve the same site on the bare domain publish " + " and ".join(
            records
        )
    else:
        lead = f"Publish `{domain}. 300 IN A <your server IP>` (and `{domain}. 300 IN AAAA <IPv6>` if you have one)"
    return (
        f"{lead}. If your host gives you a host name rather than an IP (Vercel, Netlify, Heroku, Render...), "
        "a CNAME is not allowed at the apex: use an ALIAS/ANAME record (Route 53 alias, DNSimple, NS1) or "
        "Cloudflare's CNAME flattening pointing at that host name, or redirect the apex to www at your DNS provider."
    )


def judge(
    domain: str,
    a: DnsAnswer,
    aaaa: DnsAnswer,
    *,
    www_addresses: tuple[str, ...] = (),
    resolver: str = "",
) -> list[Finding]:
    """Judge the apex's A/AAAA answers; ``www_addresses`` lets the fix name a concrete IP."""
    if a.ok or aaaa.ok:
        return []
    evidence = [_describe(a), _describe(aaaa)]
    if resolver:
        evidence.append(f"asked: {resolver}")
    if "nxdomain" in (a.status, aaaa.status):
        # NXDOMAIN is an authoritative "this name does not exist"; the other answer cannot add to that.
        return [
            META.finding(
                "nxdomain",
                target=domain,
                evidence=evidence,
                remediation=(
                    f"Check that {domain} is registered and not expired (look it up at your registrar), and that "
                    f"the registrar delegates it to your DNS provider's nameservers: `dig NS {domain} +trace` must "
                    "end at the nameservers your DNS provider lists for the zone."
                ),
            )
        ]
    if a.failed and aaaa.failed:
        return [
            META.finding(
                "unresolvable",
                target=domain,
                evidence=evidence,
                remediation=(
                    f"Check the nameservers delegated for {domain} at the registrar against the ones your DNS "
                    f"provider assigned, and that each answers for the zone: `dig SOA {domain} @<nameserver>`. "
                    "Timeouts mean the nameservers are down or unreachable; SERVFAIL often means a broken "
                    "delegation or DNSSEC (a DS record at the registrar that does not match the zone's keys)."
                ),
            )
        ]
    if a.failed or aaaa.failed:
        failed = a if a.failed else aaaa
        raise CouldNotRun(
            f"{failed.rdtype} query for {domain} failed ({failed.status}); cannot tell whether it has an address"
        )
    fix = _no_address_fix(domain, www_addresses)
    return [META.finding("no-address", target=domain, evidence=evidence, remediation=fix)]


def _resolver_label(ctx: AuditContext) -> str:
    servers = ctx.net.nameservers
    return ", ".join(str(ns) for ns in servers) if servers else "the system resolver"


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    a, aaaa = await ctx.dns.addresses(target)
    www = ctx.site.host(f"www.{target}")
    return judge(target, a, aaaa, www_addresses=www.addresses if www else (), resolver=_resolver_label(ctx))


CHECK = Check(meta=META, run=run)
