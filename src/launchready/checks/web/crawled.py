"""What the crawl-based web checks share: where a host's crawl starts and within which bounds.

Not a check (no CHECK): web.links, web.mixed-content, web.caching and web.headers read the same
crawl, which the run's CrawlProbe performs once per host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.core.crawl import CrawlLimits, CrawlResult, Visit
from launchready.core.errors import CouldNotRun

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

# How many items a finding lists before "and N more": enough to act on, short enough to read.
EVIDENCE_ITEMS = 10


def limits(ctx: AuditContext) -> CrawlLimits:
    web = ctx.config.web
    return CrawlLimits(max_pages=web.crawl_max_pages, max_depth=web.crawl_depth, rate=web.crawl_rate)


def start_urls(ctx: AuditContext, host: str) -> tuple[str, ...]:
    """The home page, plus every configured key page, on every web host.

    Key pages are paths; the same path may live on the marketing site (/pricing) or on the app
    (/dashboard), so each host's crawl starts from all of them. Where one does not apply (a 404
    or 410 that no page links to, on a host other than the apex and www) it is simply not there:
    see :func:`optional_starts`.
    """
    urls = [f"https://{host}/"] + [f"https://{host}{path}" for path in ctx.config.web.key_pages]
    return tuple(dict.fromkeys(urls))


def optional_starts(ctx: AuditContext, host: str) -> frozenset[str]:
    """Start URLs whose 404/410 is not a broken link: key pages on hosts other than apex and www.

    On the apex and www (the site people type) a missing key page is a broken page, as before.
    """
    if host in (ctx.domain, f"www.{ctx.domain}"):
        return frozenset()
    return frozenset(f"https://{host}{path}" for path in ctx.config.web.key_pages) - {f"https://{host}/"}


async def crawl_host(ctx: AuditContext, host: str) -> CrawlResult:
    return await ctx.crawl.crawl(ctx.domain, host, start_urls(ctx, host), limits(ctx))


def listed(items: list[str], limit: int = EVIDENCE_ITEMS) -> list[str]:
    """At most ``limit`` items, then one line saying how many more there are."""
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... and {len(items) - limit} more"]


def bounds_note(result: CrawlResult) -> str:
    parts = [f"crawled {result.requests} URL(s) on {result.host}"]
    if result.page_budget_hit:
        parts.append("page budget reached (raise [web] crawl_max_pages to see more)")
    if result.depth_limit_hit:
        parts.append("depth limit reached")
    if result.links_cut:
        parts.append(f"{result.links_cut} link(s) beyond the per-page limit not followed")
    return "; ".join(parts)


def why_unanswered(visit: Visit) -> str:
    """Why a visit ended without an answer to judge (a failed request, a redirect loop)."""
    final = visit.final
    if final.status is None:
        return f"GET {visit.url} failed: {final.error or final.error_kind or 'no response'}"
    if final.error is not None:
        return f"GET {final.url} -> {final.status}, but the response broke off: {final.error}"
    return f"GET {visit.url} ended in a redirect {visit.stop} after {visit.redirects} hop(s)"


def answered(visit: Visit) -> bool:
    """The visit ended on a whole response: not a failed request, not a body that broke off or
    cannot be decoded, not a redirect loop or hop limit."""
    final = visit.final
    return final.status is not None and final.error is None and visit.stop not in ("loop", "max-hops")


def require_answers(visits: tuple[Visit, ...] | list[Visit], what: str) -> None:
    """Raise CouldNotRun when no visit got an answer: judging nothing must not read as a pass."""
    if visits and any(answered(v) for v in visits):
        return
    reasons = listed([why_unanswered(v) for v in visits], 3) or ["no page was requested"]
    raise CouldNotRun(f"no page of {what} could be fetched: " + "; ".join(reasons))
