"""web.links: internal links work, in one permanent hop at most, keeping their query strings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urljoin, urlsplit

from launchready.checks.web.crawled import bounds_note, crawl_host, listed, optional_starts
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import CrawlResult, Visit
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC9110_REDIRECT = "https://www.rfc-editor.org/rfc/rfc9110#section-15.4"
_GOOGLE_REDIRECTS = "https://developers.google.com/search/docs/crawling-indexing/301-redirects"
_MDN_REDIRECTS = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Redirections"
_MDN_404 = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/404"

# A temporary redirect to a sign-in page is how apps ask for a login, not a moved page.
_AUTH_PATH = re.compile(r"/(log-?in|sign-?in|auth|sso|oauth2?|session|account/login)(/|$|\?)", re.IGNORECASE)
_TEMPORARY = (302, 307)

META = CheckMeta(
    id="web.links",
    title="Internal links work without redirect chains, loops or temporary moves",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Crawls each web host from its home page and the [web] key_pages (on every host; a key page that is "
            "404 on a host other than the apex and www, with no link to it, is taken as not living there) within "
            "bounds: 200 requests, 3 link levels, 10 requests per second by default, GET only, never leaving "
            "the domain. Every internal link and asset is requested and each redirect hop recorded: links "
            "that end in 404/410/5xx or no answer, chains of more than one redirect, 302/307 used for moved "
            "pages, redirect loops, redirects that drop the query string, and hops from https back to http."
        ),
        why=(
            "Broken links and loops are dead ends for visitors and crawlers; every extra redirect hop costs a "
            "round trip on mobile and dilutes search ranking; a temporary redirect tells search engines to "
            "keep the old URL; a dropped query string loses campaign tracking (utm_*) and referral codes, so "
            "marketing cannot tell what paid off."
        ),
        fix=(
            "Point links straight at the final URL, answer moved pages with one 301 (or 308) to their final "
            "address keeping the query (nginx `return 301 /new$is_args$args;`), break loops by fixing the rule "
            "that sends the URL back to itself, and never redirect from https to http."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.links.broken",
            title="Internal links lead to missing or failing pages",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation="Fix or remove each broken link, or redirect the old URL with a 301 to its replacement.",
            references=(_MDN_404, _GOOGLE_REDIRECTS),
        ),
        FindingSpec(
            id="web.links.redirect-chain",
            title="Links go through more than one redirect",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation="Make each old URL redirect in one hop to the final URL, and update links to point at it.",
            references=(_GOOGLE_REDIRECTS, _MDN_REDIRECTS),
        ),
        FindingSpec(
            id="web.links.temporary-redirect",
            title="Moved pages answer with a temporary redirect (302/307)",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation="Use 301 (or 308) for pages that moved for good: nginx `return 301 /new$is_args$args;`.",
            references=(_RFC9110_REDIRECT, _GOOGLE_REDIRECTS),
        ),
        FindingSpec(
            id="web.links.redirect-loop",
            title="A link redirects in a loop and never reaches a page",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Find the two rules that send the URL back and forth (often a trailing-slash rule fighting the "
                "app's own redirect) and remove one."
            ),
            references=(_MDN_REDIRECTS,),
        ),
        FindingSpec(
            id="web.links.lost-query",
            title="Redirects drop the query string",
            severity=Severity.MEDIUM,
            impact=Impact.SIGNUP,
            remediation=(
                "Keep the query on redirects: nginx `return 301 /new$is_args$args;` (or `rewrite ^ /new permanent;`, "
                "which keeps it), Express `res.redirect(301, '/new' + req.url.slice(req.path.length))`."
            ),
            references=(_RFC9110_REDIRECT,),
        ),
        FindingSpec(
            id="web.links.served-over-http",
            title="Pages of the site are served over plain http://",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=(
                "Link to https:// URLs and make port 80 answer every path with a 301 to https: nginx "
                "`return 301 https://$host$request_uri;` in the port-80 server block."
            ),
            references=(_MDN_REDIRECTS,),
        ),
        FindingSpec(
            id="web.links.https-downgrade",
            title="A redirect sends visitors from https back to http",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=(
                "Redirect to https:// URLs only; behind a proxy, tell the app the original scheme "
                "(`proxy_set_header X-Forwarded-Proto $scheme;`) so it stops building http:// Locations."
            ),
            references=(_MDN_REDIRECTS,),
        ),
    ),
    references=(_MDN_REDIRECTS, _GOOGLE_REDIRECTS, _RFC9110_REDIRECT),
    probes=("http", "crawl"),
)


def _target(exchange: HttpExchange) -> str:
    try:
        return urljoin(exchange.url, exchange.location or "")
    except ValueError:  # a Location no parser accepts ("http://[::1") is shown as sent
        return exchange.location or ""


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:
        return SplitResult("", "", url, "", "")


def _is_auth_redirect(exchange: HttpExchange) -> bool:
    return bool(_AUTH_PATH.search(_split(_target(exchange)).path + "/"))


def _hop_line(visit: Visit) -> str:
    parts = [visit.url]
    for hop in visit.hops:
        if hop.is_redirect:
            parts.append(f"-{hop.status}-> {_target(hop)}")
        elif hop.status is not None:
            parts.append(f"({hop.status})")
        else:
            parts.append(f"(no answer: {hop.error or hop.error_kind})")
    return " ".join(parts)


def _referrers(result: CrawlResult, url: str) -> str:
    pages = sorted({link.page for link in result.links_to(url)})
    if not pages:
        return ""
    more = f" and {len(pages) - 2} more" if len(pages) > 2 else ""
    return f" (linked from {', '.join(pages[:2])}{more})"


def _broken(visit: Visit) -> bool:
    final = visit.final
    if visit.stop == "bad-location":
        return True
    if visit.stop is not None:  # left the site, ran out of budget, or looped: judged elsewhere
        return False
    if final.status is None:
        return True
    return final.status in (404, 410) or final.status >= 500


def judge(host: str, result: CrawlResult, *, optional: frozenset[str] = frozenset()) -> list[Finding]:
    """Judge one host's crawl; only URLs the crawl reached by a link (or a key page) are judged.

    ``optional``: start URLs (key pages on hosts where they may not apply) whose 404/410 is no
    finding when no page links to them.
    """
    starts = set(result.start)
    home = f"https://{host}/"
    buckets: dict[str, list[str]] = {
        k: [] for k in ("broken", "chain", "temporary", "loop", "query", "downgrade", "plain")
    }
    for visit in result.visits:
        # The bare home page is where the crawl starts, not a link: an API host answering 404 there is
        # normal, and a dead host is tls.certificate's finding.
        linked = visit.url != home or bool(result.links_to(visit.url))
        if visit.url in starts and not linked:
            continue
        if visit.url in optional and not result.links_to(visit.url) and visit.final.status in (404, 410):
            continue  # this key page lives on another host of the site
        where = _referrers(result, visit.url)
        line = _hop_line(visit) + where
        if visit.stop in ("loop", "max-hops"):
            buckets["loop"].append(line)
            continue
        if _broken(visit):
            buckets["broken"].append(line)
        if visit.final.status == 200 and visit.final.url.startswith("http://"):
            buckets["plain"].append(line)
        redirects = [h for h in visit.hops if h.is_redirect]
        if len(redirects) > 1 and visit.stop is None:
            buckets["chain"].append(line)
        for hop in redirects:
            if hop.status in _TEMPORARY and not _is_auth_redirect(hop):
                buckets["temporary"].append(f"{hop.url} -{hop.status}-> {_target(hop)}{where}")
            source, target = _split(hop.url), _split(_target(hop))
            if source.query and not target.query and not _is_auth_redirect(hop):
                buckets["query"].append(f"{hop.url} -{hop.status}-> {_target(hop)}{where}")
            if source.scheme == "https" and target.scheme == "http":
                buckets["downgrade"].append(f"{hop.url} -{hop.status}-> {_target(hop)}{where}")
    for link, why in result.unparsable:
        if link.kind != "form":
            buckets["broken"].append(f"{link.url} (not a valid URL: {why}; linked from {link.page} <{link.tag}>)")
    note = bounds_note(result)
    ids = {
        "broken": "broken",
        "chain": "redirect-chain",
        "temporary": "temporary-redirect",
        "loop": "redirect-loop",
        "query": "lost-query",
        "downgrade": "https-downgrade",
        "plain": "served-over-http",
    }
    findings: list[Finding] = []
    for key, finding_id in ids.items():
        items = sorted(set(buckets[key]))
        if items:
            title = None
            if key == "broken":
                title = f"{len(items)} internal link(s) lead to missing or failing pages"
            findings.append(META.finding(finding_id, target=host, evidence=[*listed(items), note], title=title))
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    result = await crawl_host(ctx, target)
    home = result.visit(f"https://{target}/")
    if home is not None and home.final.status is None and len(result.visits) == 1:
        final = home.final
        raise CouldNotRun(f"GET https://{target}/ failed: {final.error or final.error_kind or 'no response'}")
    return judge(target, result, optional=optional_starts(ctx, target))


CHECK = Check(meta=META, run=run)
