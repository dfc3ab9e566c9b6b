"""What the crawl-based web checks share: where a host's crawl starts and within which bounds.

Not a check (no CHECK): web.links, web.mixed-content, web.caching and web.headers read the same
crawl, which the run's CrawlProbe performs once per host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from launchready.probes.crawl import CrawlLimits, CrawlResult

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

# How many items a finding lists before "and N more": enough to act on, short enough to read.
EVIDENCE_ITEMS = 10


def limits(ctx: AuditContext) -> CrawlLimits:
    web = ctx.config.web
    return CrawlLimits(max_pages=web.crawl_max_pages, max_depth=web.crawl_depth, rate=web.crawl_rate)


def start_urls(ctx: AuditContext, host: str) -> tuple[str, ...]:
    """The home page, plus the configured key pages on the apex and www (the marketing site)."""
    urls = [f"https://{host}/"]
    if host in (ctx.domain, f"www.{ctx.domain}"):
        urls += [f"https://{host}{path}" for path in ctx.config.web.key_pages]
    return tuple(dict.fromkeys(urls))


async def crawl_host(ctx: AuditContext, host: str) -> CrawlResult:
    return await ctx.probes.crawl.crawl(ctx.domain, host, start_urls(ctx, host), limits(ctx))


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
