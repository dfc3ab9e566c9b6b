"""The crawler over real loopback HTTP: GET only, never leaves the site, stays in its bounds."""

from __future__ import annotations

import asyncio

from crawlserver import CrawlServer, html

from launchready.core.net import ConnectTo, NetSettings
from launchready.probes.crawl import CrawlLimits, CrawlResult, crawl, extract_links
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe

SITE = "site.test"


async def _crawl(server: CrawlServer, limits: CrawlLimits, start: str = f"http://{SITE}/") -> CrawlResult:
    # Every host and port goes to the test server, so a request that left the site would be logged.
    net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3.0)
    dns = DnsProbe(net)
    http = HttpProbe(net, dns)
    try:
        return await crawl(http, SITE, SITE, (start,), limits)
    finally:
        await http.close()
        await dns.close()


def run(pages: dict[str, bytes], limits: CrawlLimits) -> tuple[CrawlResult, CrawlServer]:
    async def main() -> tuple[CrawlResult, CrawlServer]:
        async with CrawlServer(pages) as server:
            return await _crawl(server, limits), server

    return asyncio.run(main())


PAGES = {
    f"{SITE}/": html(
        "/a",
        "https://evil.test/steal",
        "http://other.test/",
        f"http://sub.{SITE}/page",
        "mailto:x@site.test",
        "javascript:void(0)",
        extra='<form method="post" action="/signup"><input name="email"></form><script src="//cdn.test/x.js"></script>',
    ),
    f"{SITE}/a": html("/b"),
    f"{SITE}/b": html("/c"),
    f"{SITE}/c": html("/d"),
    f"{SITE}/d": html("/e"),
    f"sub.{SITE}/page": html("/never-expanded"),
}


def test_crawler_sends_only_get_and_never_leaves_the_site() -> None:
    result, server = run(PAGES, CrawlLimits(max_depth=3, rate=0))
    methods = {m for m, _, _ in server.requests}
    hosts = {h for _, h, _ in server.requests}
    assert methods <= {"GET", "HEAD"}
    assert hosts <= {SITE, f"sub.{SITE}"}
    targets = {t for _, _, t in server.requests}
    # Depth 3: /a (1), /b (2), /c (3) fetched; /c's links are not followed.
    assert {"/", "/a", "/b", "/c"} <= targets and "/d" not in targets
    # Other hosts of the site are checked, not expanded; forms are never submitted or fetched.
    assert "/page" in targets and "/never-expanded" not in targets and "/signup" not in targets
    assert result.depth_limit_hit
    assert result.off_site_links == 3  # evil.test, other.test, cdn.test
    assert any(link.kind == "form" and link.url.endswith("/signup") for link in result.links)


def test_page_with_10000_links_stays_within_the_page_budget() -> None:
    many = html(*(f"/p{i}" for i in range(10_000)))
    result, server = run({f"{SITE}/": many}, CrawlLimits(max_pages=40, rate=0, max_links_per_page=1000))
    assert len(server.requests) <= 40
    assert result.requests <= 40
    assert result.page_budget_hit
    assert result.links_cut == 9000


def test_rate_limit_spaces_requests() -> None:
    pages = {f"{SITE}/": html(*(f"/p{i}" for i in range(5)))}
    loop_time: list[float] = []

    async def main() -> None:
        async with CrawlServer(pages) as server:
            start = asyncio.get_running_loop().time()
            await _crawl(server, CrawlLimits(rate=20.0))
            loop_time.append(asyncio.get_running_loop().time() - start)

    asyncio.run(main())
    # 6 requests at 20/s cannot all start at once: the pacer spaced them (no upper bound asserted).
    assert loop_time[0] >= 5 / 20.0 * 0.9


def test_extract_links_resolves_base_and_kinds() -> None:
    page = (
        '<base href="https://site.test/docs/">'
        '<a href="intro#top">x</a><img srcset="a.png 1x, b.png 2x"><link rel="stylesheet" href="/s.css">'
        '<iframe src="http://site.test/embed"></iframe><a href="tel:123">t</a>'
    )
    found, cut = extract_links("https://site.test/", page)
    urls = {(u, k) for u, k, _ in found}
    assert ("https://site.test/docs/intro", "a") in urls
    assert ("https://site.test/docs/a.png", "img") in urls and ("https://site.test/docs/b.png", "img") in urls
    assert ("https://site.test/s.css", "style") in urls
    assert ("http://site.test/embed", "iframe") in urls
    assert cut == 0 and len(found) == 5
