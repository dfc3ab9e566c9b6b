"""web.hsts: HTTPS responses tell browsers to never use plain HTTP for the host again."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.headers import HstsPolicy as HstsPolicy
from launchready.core.headers import parse_hsts as parse_hsts
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity
from launchready.core.tls import TlsFacts
from launchready.email.psl import organizational_domain

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC6797 = "https://www.rfc-editor.org/rfc/rfc6797"
_RFC6797_6_1 = "https://www.rfc-editor.org/rfc/rfc6797#section-6.1"
_MDN_HSTS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Strict-Transport-Security"
_PRELOAD = "https://hstspreload.org/"
_RFC6797_7_2 = "https://www.rfc-editor.org/rfc/rfc6797#section-7.2"
# hstspreload.org: max-age of at least a year, includeSubDomains and preload, on the apex.
PRELOAD_MIN_MAX_AGE = 31_536_000

# Six months: below this the protection lapses for visitors who come back less often, and it is
# the floor the HSTS preload list and most scanners use.
MIN_MAX_AGE = 15_552_000
RECOMMENDED = "Strict-Transport-Security: max-age=63072000; includeSubDomains"

_HOW = (
    f"Send `{RECOMMENDED}` on every HTTPS response. nginx (in the `listen 443` server block): "
    '`add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;`. '
    'Caddy: `header Strict-Transport-Security "max-age=63072000; includeSubDomains"`. '
    "Cloudflare: SSL/TLS > Edge Certificates > HTTP Strict Transport Security. Express: helmet(); "
    "Django: SECURE_HSTS_SECONDS. Ramp it: start with max-age=300, then 604800 (a week), then 2592000 "
    "(a month), then 63072000 once every subdomain serves valid HTTPS (includeSubDomains covers them all, "
    "and browsers will refuse plain HTTP on any of them for the whole max-age)."
)

META = CheckMeta(
    id="web.hsts",
    title="HTTPS responses send Strict-Transport-Security",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Requests https://HOST/ on every web host, without following redirects (a redirect response must "
            "carry the header too), and reads the Strict-Transport-Security header: present, parseable, and "
            "with a max-age of at least six months. On the apex it also judges includeSubDomains against a TLS "
            "handshake with every other web host of the audit: present while a host has no valid HTTPS (browsers "
            "will refuse that host), or absent while every host is ready for it. When the apex's header asks for "
            "preload, it applies hstspreload.org's rules: a registrable domain, exactly one header, max-age of a "
            "year with includeSubDomains, http://APEX/ redirecting to https on the same host first and every "
            "later redirect of that chain staying on HTTPS."
        ),
        why=(
            "Without HSTS, a visitor who types the domain or follows an old http:// link makes a first request "
            "in clear text; on a hostile Wi-Fi an attacker can answer it with a look-alike login page "
            "(SSL stripping) and collect passwords. HSTS makes the browser go straight to HTTPS for months."
        ),
        fix=(
            f"Add `{RECOMMENDED}` to every HTTPS response from the web server, CDN or app framework. Ramp the "
            "max-age up from a few minutes to two years as you confirm every subdomain serves valid HTTPS."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.hsts.missing",
            title="No Strict-Transport-Security header",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=_HOW,
            references=(_MDN_HSTS, _RFC6797),
        ),
        FindingSpec(
            id="web.hsts.short-max-age",
            title="HSTS max-age is shorter than six months",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=f"Raise max-age to at least 15552000 (six months); two years is usual: `{RECOMMENDED}`.",
            references=(_MDN_HSTS, _PRELOAD),
        ),
        FindingSpec(
            id="web.hsts.invalid",
            title="The Strict-Transport-Security header is malformed and ignored",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=f"Replace the header with exactly `{RECOMMENDED}`.",
            references=(_RFC6797_6_1, _MDN_HSTS),
        ),
        FindingSpec(
            id="web.hsts.http-only",
            title="HSTS is sent only over plain HTTP, where browsers ignore it",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=(
                "Move the header to the HTTPS server block: nginx `add_header Strict-Transport-Security "
                '"max-age=63072000; includeSubDomains" always;` inside `listen 443 ssl`, not `listen 80`.'
            ),
            references=(_RFC6797_7_2, _MDN_HSTS),
        ),
        FindingSpec(
            id="web.hsts.no-include-subdomains",
            title="HSTS on the apex does not cover its subdomains (includeSubDomains missing)",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                "Every web host under the domain already serves valid HTTPS, so add includeSubDomains on the apex: "
                f'`{RECOMMENDED}` (nginx: `add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" '
                "always;`). It protects names an attacker could otherwise serve over plain HTTP (cookie injection "
                "via a forgotten subdomain) and hstspreload.org requires it. Ramp it (max-age=300, then 604800, then "
                "63072000) if you are unsure about hosts this audit cannot see (intranet, staging)."
            ),
            references=(_RFC6797_6_1, _PRELOAD, _MDN_HSTS),
        ),
        FindingSpec(
            id="web.hsts.subdomain-not-https",
            title="HSTS includeSubDomains covers subdomains that do not serve valid HTTPS: browsers will refuse them",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Give every host under the domain a valid certificate on port 443 (e.g. `certbot --nginx -d HOST`, or "
                "turn on the CDN's edge certificate for it), so it keeps working for visitors who have the apex's policy. "
                "If a host cannot serve HTTPS soon, send `Strict-Transport-Security: max-age=0` from the apex "
                "first, then `max-age=63072000` without includeSubDomains: browsers that already stored the policy keep "
                "enforcing it until it expires or they see max-age=0, so removing includeSubDomains alone fixes nothing "
                "for them. Never preload the domain while this finding is open."
            ),
            references=(_RFC6797_6_1, _MDN_HSTS, _PRELOAD),
        ),
        FindingSpec(
            id="web.hsts.preload-ineligible",
            title="The header asks for HSTS preload but the site is not eligible",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                "Meet hstspreload.org's rules before submitting: exactly one `Strict-Transport-Security: "
                "max-age=63072000; includeSubDomains; preload` header on the apex, http://APEX/ must first redirect "
                "to https://APEX/ (same host), then to www if you use it, and every later redirect must stay on "
                "HTTPS. Only a registrable domain (public suffix + 1, e.g. example.com, not app.example.com) can be "
                "preloaded."
            ),
            references=(_PRELOAD, _RFC6797),
        ),
    ),
    references=(_RFC6797, _MDN_HSTS),
    probes=("http", "crawl"),
)


def preload_problems(
    policy: HstsPolicy,
    plain: HttpExchange | None,
    host: str,
    *,
    chain: tuple[HttpExchange, ...] = (),
    chain_end: str | None = None,
    header_count: int = 1,
) -> list[str]:
    """Why hstspreload.org would refuse the apex (empty: eligible as far as these facts show).

    ``chain``: every hop of following ``http://host/`` (the first is ``plain``'s request);
    ``chain_end``: where a redirect off the audited site pointed (not followed);
    ``header_count``: how many Strict-Transport-Security headers ``https://host/`` sent.
    """
    problems: list[str] = []
    registrable = organizational_domain(host)
    if registrable != host:
        problems.append(
            f"not eligible: {host} is not a registrable domain (only a public suffix + 1 can be preloaded): "
            f"preload the registrable domain {registrable}"
        )
    if header_count > 1:
        problems.append(f"{header_count} Strict-Transport-Security headers sent; hstspreload.org requires exactly one")
    if policy.max_age < PRELOAD_MIN_MAX_AGE:
        problems.append(f"max-age {policy.max_age} is below 31536000")
    if not policy.include_subdomains:
        problems.append("includeSubDomains is missing")
    if plain is not None and plain.status is not None:
        location = plain.location
        target = urlsplit(urljoin(plain.url, location)) if location and plain.is_redirect else None
        if target is None:
            problems.append(f"http://{host}/ answers {plain.status} instead of redirecting to https")
        elif target.scheme != "https" or (target.hostname or "").lower() != host:
            problems.append(f"http://{host}/ first redirects to {location}, not to https://{host}/ (same host first)")
    # hstspreload.org follows the whole chain: every later redirect must stay on HTTPS too.
    for hop in chain[1:]:
        if hop.is_redirect and hop.location:
            following = urljoin(hop.url, hop.location)
            if urlsplit(following).scheme != "https":
                problems.append(f"the redirect chain from http://{host}/ leaves HTTPS: {hop.url} -> {following}")
                break
    else:
        if chain_end is not None and urlsplit(chain_end).scheme != "https":
            problems.append(f"the redirect chain from http://{host}/ ends on {chain_end}, not on HTTPS")
    return problems


def https_problem(facts: TlsFacts) -> str | None:
    """Why a browser holding an includeSubDomains policy would refuse the host (None: it would not)."""
    if not facts.connected:
        return f"no TLS on port {facts.port}: {facts.error or facts.error_kind or 'no handshake'}"
    if not facts.verified:
        return f"certificate not valid: {facts.verify_error or 'verification failed'}"
    return None


def subdomain_findings(apex: str, policy: HstsPolicy, header: str, hosts: Mapping[str, TlsFacts]) -> list[Finding]:
    """Judge the apex policy's includeSubDomains against what every other web host serves on 443.

    ``hosts``: the TLS handshake facts of each web host under the apex (the apex itself excluded).
    """
    if policy.max_age == 0:
        return []  # max-age=0 removes the policy, includeSubDomains included
    problems = {
        name: problem
        for name, facts in sorted(hosts.items())
        if name != apex and name.endswith("." + apex) and (problem := https_problem(facts)) is not None
    }
    evidence = [f"https://{apex}/ Strict-Transport-Security: {header}"]
    if policy.include_subdomains and problems:
        names = ", ".join(problems)
        return [
            META.finding(
                "subdomain-not-https",
                target=apex,
                title=f"HSTS includeSubDomains covers {names}, which do(es) not serve valid HTTPS: browsers will refuse them",
                evidence=[
                    *evidence,
                    *(f"{name}: {problem}" for name, problem in problems.items()),
                    f"a browser that visited https://{apex}/ refuses plain HTTP and certificate errors on these hosts "
                    f"(no click-through) for {policy.max_age} s",
                ],
            )
        ]
    if not policy.include_subdomains and not problems:
        checked = ", ".join(sorted(h for h in hosts if h != apex)) or "none besides the apex"
        return [
            META.finding(
                "no-include-subdomains",
                target=apex,
                evidence=[*evidence, f"web hosts under {apex} serving valid HTTPS: {checked}"],
            )
        ]
    return []


def judge(
    host: str,
    exchange: HttpExchange,
    *,
    tls_trusted: bool = True,
    plain: HttpExchange | None = None,
    apex: bool = False,
    subdomains: Mapping[str, TlsFacts] | None = None,
    chain: tuple[HttpExchange, ...] = (),
    chain_end: str | None = None,
) -> list[Finding]:
    """Judge the un-followed answer to ``GET https://host/``.

    ``tls_trusted`` is False when the answer was only obtainable with verification off: the header
    is still observable, but browsers ignore HSTS until the certificate is fixed. ``subdomains``
    (apex only): TLS facts of the other web hosts, to judge includeSubDomains. ``chain`` and
    ``chain_end`` (apex only): the redirect chain from ``http://host/``, for preload eligibility.
    """
    if exchange.status is None:
        raise CouldNotRun(f"GET {exchange.url} failed: {exchange.error or exchange.error_kind or 'no response'}")
    evidence = [f"GET {exchange.url} -> {exchange.status}"]
    if not tls_trusted:
        evidence.append("certificate not trusted: browsers ignore HSTS until it is fixed (see tls.certificate)")
    values = exchange.header_all("strict-transport-security")
    if not values:
        evidence.append("Strict-Transport-Security: (absent)")
        plain_values = plain.header_all("strict-transport-security") if plain is not None else ()
        if plain is not None and plain_values:
            evidence += [
                f"GET {plain.url} -> {plain.status}",
                f"Strict-Transport-Security (plain HTTP): {plain_values[0]}",
            ]
            return [META.finding("http-only", target=host, evidence=evidence)]
        return [META.finding("missing", target=host, evidence=evidence)]
    # RFC 6797 8.1: a browser processes only the first header.
    evidence.append(f"Strict-Transport-Security: {values[0]}")
    if len(values) > 1:
        evidence.append(f"{len(values)} headers sent; browsers use only the first")
    policy = parse_hsts(values[0])
    if isinstance(policy, str):
        return [META.finding("invalid", target=host, evidence=[*evidence, f"problem: {policy}"])]
    findings: list[Finding] = []
    if apex and tls_trusted and subdomains is not None:
        findings += subdomain_findings(host, policy, values[0], subdomains)
    if policy.preload and apex:
        problems = preload_problems(policy, plain, host, chain=chain, chain_end=chain_end, header_count=len(values))
        if problems:
            findings.append(
                META.finding(
                    "preload-ineligible", target=host, evidence=[*evidence, *(f"preload: {p}" for p in problems)]
                )
            )
    if policy.max_age < MIN_MAX_AGE:
        days = policy.max_age / 86400
        note = (
            "max-age=0 tells browsers to forget HSTS for this host"
            if policy.max_age == 0
            else f"max-age={policy.max_age} is {days:.1f} day(s); at least 15552000 (180 days) is expected"
        )
        sub = "; includeSubDomains" if policy.include_subdomains else ""
        return findings + [
            META.finding(
                "short-max-age",
                target=host,
                evidence=[*evidence, note],
                remediation=(
                    "Raise max-age to two years once HTTPS is stable: "
                    f"`Strict-Transport-Security: max-age=63072000{sub}` "
                    "(ramp through 604800 and 2592000 if you are not sure every subdomain serves valid HTTPS)."
                ),
            )
        ]
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    url = f"https://{target}/"
    exchange = await ctx.http.fetch(url)
    trusted = True
    if exchange.status is None and exchange.error_kind == "tls":
        # The header is still there behind an invalid certificate; tls.certificate reports the cert.
        exchange = await ctx.http.fetch(url, verify_tls=False)
        trusted = False
    plain = await ctx.http.fetch(f"http://{target}/")
    apex = target == ctx.domain
    subdomains: dict[str, TlsFacts] | None = None
    chain: tuple[HttpExchange, ...] = ()
    chain_end: str | None = None
    if apex:
        visit = await ctx.crawl.follow_in_site(ctx.domain, f"http://{target}/")
        chain = visit.hops
        chain_end = visit.final.location if visit.stop == "off-site" else None
        others = [h for h in ctx.site.web_hosts if h != target]
        handshakes = await asyncio.gather(*(ctx.tls.handshake(h, 443) for h in others))
        subdomains = dict(zip(others, handshakes, strict=True))
    return judge(
        target,
        exchange,
        tls_trusted=trusted,
        plain=plain,
        apex=apex,
        subdomains=subdomains,
        chain=chain,
        chain_end=chain_end,
    )


CHECK = Check(meta=META, run=run)
