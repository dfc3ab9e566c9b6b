"""web.caching: static assets are cached long with validators; HTML is not kept stale in shared caches."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from launchready.checks.web.crawled import bounds_note, crawl_host, listed, require_answers
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.crawl import CrawlResult
from launchready.core.finding import Finding
from launchready.core.headers import CacheControl
from launchready.core.http import HttpExchange
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_MDN_CACHING = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Caching"
_MDN_CC = "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control"
_WEBDEV_CACHE = "https://web.dev/articles/http-cache"
_RFC9111 = "https://www.rfc-editor.org/rfc/rfc9111"

ASSET_KINDS = frozenset({"script", "style", "font", "img", "icon"})
# A week: below this, returning visitors re-download assets that did not change.
ASSET_MIN_SECONDS = 7 * 86400
# An hour in a shared cache without revalidation: the longest a fix or price change may stay invisible.
HTML_MAX_SHARED_SECONDS = 3600
ASSET_CACHE = "Cache-Control: public, max-age=31536000, immutable"

META = CheckMeta(
    id="web.caching",
    title="Static assets are cacheable for long; HTML is not served stale from shared caches",
    scope=Scope.WEB_HOST,
    doc=CheckDoc(
        what=(
            "From the bounded crawl (see web.links), reads the Cache-Control, ETag and Last-Modified of every "
            "script, stylesheet, font and image on the host, and of every HTML page. Assets should be cacheable "
            "for at least a week (ideally a year, `immutable`, under content-hashed names) and carry a validator; "
            "HTML should not stay in shared caches for more than an hour without revalidation. (HTML that sets a "
            "cookie and is publicly cacheable is web.private-cache's blocker.)"
        ),
        why=(
            "Uncacheable assets are downloaded again on every page view: slower pages on mobile, more load on "
            "the origin exactly when launch traffic peaks, and a bigger CDN bill. HTML kept for a day in a CDN "
            "shows yesterday's prices or a bug you already fixed, and purging becomes part of every deploy."
        ),
        fix=(
            f"Serve hashed assets with `{ASSET_CACHE}` (plus the ETag your server adds) and HTML with "
            "`Cache-Control: no-cache` (or a short `s-maxage` with `stale-while-revalidate`)."
        ),
    ),
    findings=(
        FindingSpec(
            id="web.caching.asset-uncacheable",
            title="Static assets cannot be cached",
            severity=Severity.MEDIUM,
            impact=Impact.PERFORMANCE,
            remediation=(
                f"Serve versioned assets with `{ASSET_CACHE}`: nginx `location /static/ {{ expires 1y; "
                'add_header Cache-Control "public, max-age=31536000, immutable"; }`; Next.js/Vite/Rails do it for '
                "their hashed build output when the server does not override it."
            ),
            references=(_MDN_CC, _WEBDEV_CACHE),
        ),
        FindingSpec(
            id="web.caching.asset-short-lived",
            title="Static assets are cached for less than a week",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation=f"Give content-hashed assets `{ASSET_CACHE}`; unhashed ones at least `max-age=604800` with an ETag.",
            references=(_WEBDEV_CACHE,),
        ),
        FindingSpec(
            id="web.caching.asset-no-validator",
            title="Static assets have no ETag or Last-Modified",
            severity=Severity.LOW,
            impact=Impact.PERFORMANCE,
            remediation="Let the server send ETag or Last-Modified for static files (nginx and CDNs do by default; check `etag off;`).",
            references=(_MDN_CACHING, _RFC9111),
        ),
        FindingSpec(
            id="web.caching.html-stale",
            title="HTML pages stay in shared caches for long without revalidation",
            severity=Severity.LOW,
            impact=Impact.TRUST,
            remediation=(
                "Send HTML with `Cache-Control: no-cache` (browsers and CDNs revalidate each time), or at most "
                "`public, s-maxage=300, stale-while-revalidate=60`, and purge the CDN on deploy."
            ),
            references=(_MDN_CC, _RFC9111),
        ),
    ),
    references=(_MDN_CACHING, _WEBDEV_CACHE, _RFC9111),
    probes=("http", "crawl"),
)


def asset_lifetime(cc: CacheControl) -> int | None:
    """Seconds a browser may reuse the asset without asking; None when not cacheable at all."""
    d = cc.directives
    if "no-store" in d or "no-cache" in d:
        return None
    max_age = cc.seconds("max-age")
    return max_age if max_age else None


def judge_asset(exchange: HttpExchange) -> str | None:
    """The problem id for one asset response (status 200), or None when it is fine."""
    cc = CacheControl.parse(exchange.header_all("cache-control"))
    validator = exchange.header("etag") or exchange.header("last-modified")
    lifetime = asset_lifetime(cc)
    if lifetime is None and (exchange.header("expires") is None or "no-store" in cc.directives):
        return "asset-uncacheable"
    if lifetime is not None and lifetime < ASSET_MIN_SECONDS:
        return "asset-short-lived"
    if not validator and "immutable" not in cc.directives:
        return "asset-no-validator"
    return None


def judge_html(exchange: HttpExchange) -> bool:
    """True when an HTML page may sit in a shared cache for over an hour without revalidation."""
    if exchange.header_all("set-cookie"):
        return False  # web.private-cache judges those (a blocker, not staleness)
    cc = CacheControl.parse(exchange.header_all("cache-control"))
    d = cc.directives
    if not cc.shared_cacheable or "no-cache" in d or "must-revalidate" in d or "proxy-revalidate" in d:
        return False
    shared = cc.seconds("s-maxage")
    lifetime = shared if shared is not None else cc.seconds("max-age")
    return lifetime is not None and lifetime > HTML_MAX_SHARED_SECONDS


def judge(host: str, result: CrawlResult) -> list[Finding]:
    asset_urls = {link.url for link in result.links if link.kind in ASSET_KINDS}
    problems: dict[str, list[str]] = {}
    for visit in result.visits:
        final = visit.final
        if final.status != 200 or (urlsplit(final.url).hostname or "") != host:
            continue
        cache_line = f"Cache-Control: {', '.join(final.header_all('cache-control')) or '(absent)'}"
        validators = (
            ", ".join(f"{n}: {final.header(n)}" for n in ("etag", "last-modified") if final.header(n))
            or "no ETag/Last-Modified"
        )
        ctype = (final.header("content-type") or "").lower()
        if visit.url in asset_urls and "text/html" not in ctype:
            problem = judge_asset(final)
            if problem:
                problems.setdefault(problem, []).append(f"{final.url}: {cache_line}; {validators}")
        elif "text/html" in ctype and judge_html(final):
            problems.setdefault("html-stale", []).append(f"{final.url}: {cache_line}")
    note = bounds_note(result)
    return [
        META.finding(problem, target=host, evidence=[*listed(sorted(set(items))), note])
        for problem, items in sorted(problems.items())
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    result = await crawl_host(ctx, target)
    require_answers(result.visits, target)
    return judge(target, result)


CHECK = Check(meta=META, run=run)
