"""web.edge: a CDN/WAF fronts the main hosts, and the origin behind it is not exposed under another name.

The lab runs on loopback with no real CDN: its clean state emulates one with the lab-only header
signature in data/edge/vendors.json (see lab/surface.py); the ``no-cdn`` fault removes it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity
from launchready.edge.data import Ranges, Vendor, by_address, by_headers, ranges, vendors

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_CF_ORIGIN = "https://developers.cloudflare.com/fundamentals/concepts/cloudflare-ip-addresses/"
_CF_DDOS = "https://developers.cloudflare.com/ddos-protection/about/"
_OWASP_DOS = "https://cheatsheetseries.owasp.org/cheatsheets/Denial_of_Service_Cheat_Sheet.html"

# Names that commonly point straight at the origin server (field experience: origin leaks).
ORIGIN_LABELS: tuple[str, ...] = (
    "origin",
    "direct",
    "direct-connect",
    "origin-www",
    "backend",
    "cpanel",
    "ftp",
    "server",
)
# The host fact naming what fronts each main host (read back by the handover's "what serves" table).
EDGE_FACT = "Edge (CDN/WAF)"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

META = CheckMeta(
    id="web.edge",
    title="A CDN/WAF fronts the main hosts and the origin is not exposed",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "For the apex, www and the hosts of configured environments, recognises the CDN/WAF in front "
            "(Cloudflare, Fastly, CloudFront, Akamai, Vercel, Netlify, Fly.io, ...) by its response headers or by "
            "the vendor's published address ranges (data/edge/, refreshed with `launchready edge refresh-ranges`). "
            "Then looks for an exposed origin: another name of the domain (subdomains, MX hosts, origin., direct., "
            "cpanel., ...) that is not behind the edge yet serves the same home page. What fronts each main host is "
            'stored as the host fact "Edge (CDN/WAF)" (the handover\'s "what serves" table shows it).'
        ),
        why=(
            "Without an edge, launch-day traffic and any DDoS land on the single origin server: no caching of "
            "assets near visitors, no rate limiting, no bot filtering, and a Hacker News spike becomes an outage. "
            "An exposed origin makes the CDN pointless: attackers skip the edge and hit the origin address directly."
        ),
        fix=(
            "Put the site behind a CDN/WAF (Cloudflare proxied records, Fastly, CloudFront; Vercel/Netlify/Fly "
            "include one), then lock the origin to accept only the edge's addresses (firewall allow-list or "
            "authenticated origin pulls / Cloudflare Tunnel), and remove or re-point names that resolve to it."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.edge.no-cdn",
            title="No CDN or WAF in front of the site",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Front the host with a CDN/WAF: on Cloudflare set the DNS record to Proxied (orange cloud); on AWS "
                "put CloudFront before the load balancer; or deploy on a platform with an edge (Vercel, Netlify, Fly)."
            ),
            references=(_CF_DDOS, _OWASP_DOS),
        ),
        FindingSpec(
            id="web.edge.exposed-origin",
            title="The origin server is reachable directly, bypassing the CDN",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Delete or re-point the listed names, move the origin to a new address, and allow only the CDN's "
                "ranges to reach it (e.g. `ufw allow from 173.245.48.0/20 to any port 443` for each Cloudflare "
                "range, or Cloudflare Tunnel / authenticated origin pulls)."
            ),
            references=(_CF_ORIGIN, _CF_DDOS),
        ),
    ),
    references=(_CF_DDOS, _CF_ORIGIN),
    probes=("http", "dns"),
)


@dataclass(frozen=True)
class HostEdge:
    host: str
    addresses: tuple[str, ...]
    exchange: HttpExchange
    vendor: str | None
    evidence: str | None


def detect(
    host: str, addresses: tuple[str, ...], exchange: HttpExchange, known: tuple[Vendor, ...], nets: tuple[Ranges, ...]
) -> HostEdge:
    found = by_headers(exchange.headers, known) if exchange.status is not None else None
    if found is None:
        for address in addresses:
            found = by_address(address, nets)
            if found:
                break
    return HostEdge(host, addresses, exchange, found[0] if found else None, found[1] if found else None)


def fingerprint(exchange: HttpExchange) -> tuple[str, ...]:
    """What makes two home pages "the same site": the body digest and the <title>."""
    if exchange.status != 200 or not exchange.body:
        return ()
    marks = [hashlib.sha256(exchange.body).hexdigest()]
    title = _TITLE.search(exchange.body)
    if title and title.group(1).strip():
        marks.append("title:" + title.group(1).strip().decode("utf-8", "replace"))
    return tuple(marks)


def judge(domain: str, main: list[HostEdge], others: list[HostEdge]) -> list[Finding]:
    findings: list[Finding] = []
    for edge in main:
        if edge.vendor is None and edge.exchange.status is not None:
            findings.append(
                META.finding(
                    "no-cdn",
                    target=edge.host,
                    evidence=[
                        f"addresses: {', '.join(edge.addresses) or '(via --connect-to)'}",
                        f"GET {edge.exchange.url} -> {edge.exchange.status}",
                        "no CDN/WAF header or published CDN range matched "
                        f"(server: {edge.exchange.header('server') or '(none)'})",
                    ],
                )
            )
    fronted = [e for e in main if e.vendor is not None]
    if not fronted:
        return findings
    site_marks = {m for e in fronted for m in fingerprint(e.exchange)}
    exposed = []
    for other in others:
        if other.vendor is not None:
            continue
        shared = set(fingerprint(other.exchange)) & site_marks
        if shared:
            exposed.append(
                f"{other.host} ({', '.join(other.addresses)}) serves the site's home page without the edge "
                f"({'same body' if any(len(m) == 64 for m in shared) else 'same title'}); the site is fronted by "
                f"{fronted[0].vendor} ({fronted[0].evidence})"
            )
    if exposed:
        findings.append(META.finding("exposed-origin", target=domain, evidence=exposed))
    return findings


MAX_MAIL_HOSTS = 10


async def _edge(ctx: AuditContext, host: str, addresses: tuple[str, ...]) -> HostEdge:
    exchange = await ctx.http.fetch(f"https://{host}/", verify_tls=False)
    return detect(host, addresses, exchange, vendors(include_lab=ctx.config.web.lab_edge), ranges())


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    site_hosts = {h.name: h for h in ctx.site.hosts if h.has_address}
    main_names = [target, f"www.{target}"]
    for env in ctx.config.environments.values():
        name = (urlsplit(str(env.base_url)).hostname or "").lower()
        if name and name not in main_names:
            main_names.append(name)
    main_names = [n for n in main_names if n in site_hosts]
    if not main_names:
        raise NotApplicable("neither the apex nor www has an address")
    # The most preferred mail hosts only (already looked up by discovery): a zone of a thousand MX
    # records must not make a thousand fetches.
    preferred_mx, _ = ctx.site.mx.preferred_mx(MAX_MAIL_HOSTS)
    mail_names = [m.exchange for m in preferred_mx if not m.is_null]
    other_names = [h for h in ctx.site.web_hosts if h not in main_names] + mail_names
    for label in ORIGIN_LABELS:
        name = f"{label}.{target}"
        if name in other_names or name in main_names:
            continue
        a, aaaa = await ctx.dns.addresses(name)
        if a.records or aaaa.records:
            other_names.append(name)

    async def addresses_of(name: str) -> tuple[str, ...]:
        info = site_hosts.get(name)
        if info is not None:
            return info.addresses
        a, aaaa = await ctx.dns.addresses(name)
        return a.records + aaaa.records

    async def edge_of(name: str) -> HostEdge:
        return await _edge(ctx, name, await addresses_of(name))

    # An MX target written as an IP literal is the zone's word, not the user's: a private one
    # (169.254.169.254, 10.x) is never fetched.
    other_names = [n for n in other_names if ctx.net.steering_refusal(n.strip("[]")) is None]
    main = await asyncio.gather(*(edge_of(n) for n in main_names))
    others = await asyncio.gather(*(edge_of(n) for n in dict.fromkeys(other_names)))
    for e in main:
        if e.vendor is not None:
            ctx.facts.add(e.host, EDGE_FACT, e.vendor, check_id=META.id, detail=(e.evidence or "",))
        elif e.exchange.status is not None:
            ctx.facts.add(
                e.host,
                EDGE_FACT,
                "none detected",
                check_id=META.id,
                detail=(f"GET {e.exchange.url} -> {e.exchange.status}: no CDN/WAF header or published range matched",),
            )
    failed = [e for e in main if e.exchange.status is None]
    if len(failed) == len(main) and all(e.vendor is None for e in main):
        # Neither headers nor addresses name an edge, and no page answered: nothing was observed.
        raise CouldNotRun(
            "; ".join(
                f"GET {e.exchange.url} failed: {e.exchange.error or e.exchange.error_kind or 'no response'}"
                for e in failed
            )
        )
    return judge(target, list(main), list(others))


CHECK = Check(meta=META, run=run)
