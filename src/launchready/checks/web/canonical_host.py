"""web.canonical-host: exactly one of the apex and www serves the site; the other redirects to it in one hop."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.checks.web.crawled import answered, why_unanswered
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_GOOGLE_CANONICAL = "https://developers.google.com/search/docs/crawling-indexing/consolidate-duplicate-urls"
_GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
_MDN_REDIRECTS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Redirections"


def _fix(apex: str) -> str:
    return (
        f"Pick one host (say {apex}) and redirect the other to it with one 301 keeping the path: nginx "
        f"`server {{ listen 443 ssl; server_name www.{apex}; return 301 https://{apex}$request_uri; }}`; "
        "on Vercel/Netlify/Cloudflare Pages add the other name as a redirect domain."
    )


META = CheckMeta(
    id="web.canonical-host",
    title="One canonical host: the apex and www do not both serve the site",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Requests https://DOMAIN/ and https://www.DOMAIN/ (when www resolves) and follows their redirects "
            "within the domain: exactly one should serve the page, and the other should redirect to it with a "
            "permanent 301/308 in a single hop."
        ),
        why=(
            "Two hosts serving the same pages split search ranking and links between duplicates, give members "
            "two cookie jars (logged in on one, logged out on the other) and double what you must keep working. "
            "A temporary or multi-hop redirect between them costs every visitor a round trip and is not "
            "remembered by browsers or search engines."
        ),
        fix=(
            "Choose the canonical host, serve the site only there, and redirect the other with one 301 to the "
            "same path on the canonical host (nginx `return 301 https://example.com$request_uri;`)."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.canonical-host.both-serve",
            title="Both the apex and www serve the site",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation="Redirect one host to the other with a single 301 that keeps the path.",
            references=(_GOOGLE_CANONICAL, _GOOGLE_REDIRECTS),
        ),
        FindingSpec(
            id="web.canonical-host.not-permanent",
            title="The apex/www redirect is temporary",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation="Answer with 301 (or 308) instead of 302/307 between the apex and www.",
            references=(_GOOGLE_REDIRECTS, _MDN_REDIRECTS),
        ),
        FindingSpec(
            id="web.canonical-host.multi-hop",
            title="The apex/www redirect takes more than one hop",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation="Redirect straight to https://CANONICAL/path in one hop, not via another host or http://.",
            references=(_GOOGLE_REDIRECTS, _MDN_REDIRECTS),
        ),
    ),
    references=(_GOOGLE_CANONICAL, _GOOGLE_REDIRECTS),
    probes=("http",),
)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _line(hops: tuple[HttpExchange, ...]) -> str:
    parts = [hops[0].url]
    for hop in hops:
        parts.append(
            f"-{hop.status}-> {urljoin(hop.url, hop.location or '')}" if hop.is_redirect else f"({hop.status})"
        )
    return " ".join(parts)


def judge(apex: str, apex_hops: tuple[HttpExchange, ...], www_hops: tuple[HttpExchange, ...]) -> list[Finding]:
    www = f"www.{apex}"
    evidence = [_line(apex_hops), _line(www_hops)]
    apex_final, www_final = apex_hops[-1], www_hops[-1]
    if apex_final.status is None or www_final.status is None:
        return []  # one of them does not answer: tls.certificate / web.links report that
    apex_serves = not apex_hops[0].is_redirect and apex_final.status == 200
    www_serves = not www_hops[0].is_redirect and www_final.status == 200
    if apex_serves and www_serves:
        return [META.finding("both-serve", target=apex, evidence=evidence, remediation=_fix(apex))]
    findings: list[Finding] = []
    for hops, other in ((www_hops, apex), (apex_hops, www)):
        if not hops[0].is_redirect or hops[-1].status != 200 or _host(hops[-1].url) != other:
            continue
        redirects = [h for h in hops if h.is_redirect]
        if any(h.status not in (301, 308) for h in redirects):
            findings.append(META.finding("not-permanent", target=_host(hops[0].url), evidence=evidence))
        if len(redirects) > 1:
            findings.append(META.finding("multi-hop", target=_host(hops[0].url), evidence=evidence))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    www = ctx.site.host(f"www.{target}")
    apex = ctx.site.host(target)
    if www is None or not www.has_address or apex is None or not apex.has_address:
        raise NotApplicable("the apex and www do not both resolve")
    apex_visit = await ctx.crawl.follow_in_site(target, f"https://{target}/", max_hops=5)
    www_visit = await ctx.crawl.follow_in_site(target, f"https://www.{target}/", max_hops=5)
    unanswered = [why_unanswered(v) for v in (apex_visit, www_visit) if not answered(v)]
    if unanswered:
        # Which host serves cannot be told without both answers.
        raise CouldNotRun("; ".join(unanswered))
    return judge(target, apex_visit.hops, www_visit.hops)


CHECK = Check(meta=META, run=run)
