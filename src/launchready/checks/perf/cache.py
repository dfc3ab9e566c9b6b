"""perf.cache: repeated refreshes are answered by caches, not by the origin re-sending everything.

web.caching reads what the headers promise; this check refreshes like a returning visitor and
watches what actually happens: a conditional request with the validator the server handed out
(If-None-Match / If-Modified-Since) must get a 304, and where a CDN reports its cache status
(Cache-Status, CF-Cache-Status, X-Cache), a cacheable asset must turn into a HIT after a few
requests instead of reaching the origin every time.
"""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from launchready.checks.web.crawled import answered, why_unanswered
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.headers import CacheControl
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC9110_COND = "https://www.rfc-editor.org/rfc/rfc9110#section-13"
_RFC9211 = "https://www.rfc-editor.org/rfc/rfc9211"
_MDN_COND = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Conditional_requests"
MAX_ASSETS = 8
CDN_REPEATS = 3
_STATUS_HEADERS = ("cache-status", "cf-cache-status", "x-cache", "x-cache-status")

META = CheckMeta(
    id="perf.cache",
    title="Repeated page views are served by caches, not re-sent by the origin",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "Fetches each host's home page and up to eight same-host stylesheets, scripts and images it uses, then "
            "repeats each request as a returning browser would: with the ETag or Last-Modified the server sent, a "
            "304 Not Modified is expected. Where a CDN reports its cache status, a cacheable asset must become a HIT "
            "within three requests."
        ),
        why=(
            "When validators are ignored, every refresh downloads every asset again: the origin serves the same bytes "
            "to every returning visitor, pages are slower on mobile, and launch-day traffic hits the backend in full. "
            "A CDN that never reports a hit is a bill with no benefit."
        ),
        fix=(
            "Let the server (or framework middleware) answer conditional requests: nginx and most static servers do "
            "it by default, Express `etag`/`fresh`, Django `ConditionalGetMiddleware`, Rails `fresh_when`; do not strip "
            "If-None-Match in a proxy. At the CDN, cache static paths and respect origin Cache-Control."
        ),
    ),
    findings=(
        FindingSpec(
            id="perf.cache.no-revalidation",
            title="Assets send validators but a refresh downloads them again (no 304)",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation=(
                "Make the server honour If-None-Match / If-Modified-Since with `304 Not Modified` (nginx serves static "
                "files this way by default; Django: `django.middleware.http.ConditionalGetMiddleware`; Express: "
                '`app.set("etag", true)`), and check no proxy strips the conditional headers.'
            ),
            references=(_RFC9110_COND, _MDN_COND),
        ),
        FindingSpec(
            id="perf.cache.cdn-miss",
            title="The CDN passes every request for a cacheable asset to the origin",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation=(
                "Add a cache rule for static paths at the CDN (Cloudflare: Cache Rules -> Eligible for cache; "
                "CloudFront: a cache behavior for /static/* honouring origin headers) and check it does not vary on cookies."
            ),
            references=(_RFC9211,),
        ),
    ),
    references=(_RFC9110_COND, _MDN_COND, _RFC9211),
    probes=("http", "crawl"),
)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").lower() and a.get("href"):
            self.refs.append(a["href"] or "")
        elif tag in ("script", "img") and a.get("src"):
            self.refs.append(a["src"] or "")


def asset_urls(page: HttpExchange) -> list[str]:
    """The page's first MAX_ASSETS same-host stylesheets, scripts and images.

    CPU-bound (a 2 MB page of tags takes seconds): callers run it in a thread, off the event loop.
    """
    parser = _Assets()
    parser.feed(page.body.decode("utf-8", "replace"))
    host = urlsplit(page.url).hostname
    # A dict, not a list: a page of 50,000 images made the "already seen?" test quadratic.
    out: dict[str, None] = {}
    for ref in parser.refs:
        try:
            url = urljoin(page.url, ref)
            same_host = urlsplit(url).hostname == host
        except ValueError:  # "http://[::1" and other references no parser accepts
            continue
        if same_host:
            out[url] = None
            if len(out) == MAX_ASSETS:
                break
    return list(out)


def cache_status(exchange: HttpExchange) -> str | None:
    for name in _STATUS_HEADERS:
        value = exchange.header(name)
        if value:
            return f"{name}: {value}"
    return None


def _is_hit(status: str) -> bool:
    text = status.lower()
    return "hit" in text and "miss" not in text.split("hit", 1)[0][-3:]


def judge_revalidation(first: HttpExchange, again: HttpExchange | None) -> Finding | None:
    if again is None or again.status != 200 or first.status != 200:
        return None
    validator = first.header("etag") or first.header("last-modified")
    return META.finding(
        "no-revalidation",
        target=first.url,
        evidence=[
            f"GET {first.url} -> 200, {first.body_size} bytes, validator {validator}",
            f"GET again with {'If-None-Match' if first.header('etag') else 'If-Modified-Since'} -> 200, "
            f"{again.body_size} bytes (expected 304 Not Modified)",
        ],
    )


def judge_cdn(exchanges: list[HttpExchange]) -> Finding | None:
    statuses = [cache_status(e) for e in exchanges]
    last = exchanges[-1]
    if not all(statuses) or last.status != 200:
        return None
    if not CacheControl.parse(last.header_all("cache-control")).shared_cacheable:
        return None
    if any(_is_hit(s or "") for s in statuses):
        return None
    return META.finding(
        "cdn-miss",
        target=last.url,
        evidence=[f"request {i + 1}: {s}" for i, s in enumerate(statuses)],
    )


async def _check_asset(ctx: AuditContext, url: str) -> list[Finding]:
    first = await ctx.http.fetch(url, use_cache=False)
    findings: list[Finding] = []
    if first.status != 200:
        return findings
    conditional: dict[str, str] = {}
    if first.header("etag"):
        conditional["If-None-Match"] = first.header("etag") or ""
    elif first.header("last-modified"):
        conditional["If-Modified-Since"] = first.header("last-modified") or ""
    if conditional:
        again = await ctx.http.fetch(url, headers=conditional, use_cache=False)
        finding = judge_revalidation(first, again)
        if finding:
            findings.append(finding)
    if cache_status(first):
        repeats = [first] + [await ctx.http.fetch(url, use_cache=False) for _ in range(CDN_REPEATS - 1)]
        finding = judge_cdn(repeats)
        if finding:
            findings.append(finding)
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    # In-site redirects followed (apex -> www, http -> https), so a loop is told from a page.
    visit = await ctx.crawl.follow_in_site(ctx.domain, f"https://{target}/", max_hops=5)
    if not answered(visit):
        raise CouldNotRun(why_unanswered(visit))
    page = visit.final
    content_type = (page.header("content-type") or "").lower()
    if page.status != 200 or "html" not in content_type:
        # No page to refresh here (a redirect, an API, a dead host: other checks report those).
        return []
    # Parsed in a thread, as the crawler does: a huge hostile page must not stall every other check.
    assets = await asyncio.to_thread(asset_urls, page)
    results = await asyncio.gather(*(_check_asset(ctx, url) for url in assets))
    return [f for found in results for f in found]


CHECK = Check(meta=META, run=run)
