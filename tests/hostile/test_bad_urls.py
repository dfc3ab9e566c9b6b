"""URLs and names no parser accepts, served by a hostile page or Location, become broken links.

None of them may raise out of the crawler, the HTTP probe or the checks.
"""

from __future__ import annotations

import asyncio

import pytest

from launchready.checks.app.health import judge as judge_health
from launchready.checks.web import links
from launchready.core.net import ConnectTo, NetSettings
from launchready.probes.crawl import CrawlLimits, CrawlResult, crawl, extract_links_checked
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpExchange, HttpProbe

from .rawserver import RawServer, page, redirect

SITE = "shop.test"

BAD_HREFS = [
    "http://[::1",
    "http://[zz]/",
    "https://[::1]:x/",
    "http://[1.2.3.4]/",
    "http://xn--zz--.shop.test/",
    "http://shop.test:99999/",
    "http://shop.test:-1/",
    "http://xn--.shop.test/",
    "http://" + "a" * 300 + ".shop.test/",
    "http://a..shop.test/",
]
UNPARSABLE_LOCATIONS = ["http://[::1", "http://[zz]/", "http://[1.2.3.4]/", "http://[", "//[::1", "https://[::1"]
ODD_LOCATIONS = [*BAD_HREFS[2:], "http:///", "ftp://shop.test/", "\x00", " ", "http://shop.test:0/"]


def _net(port: int) -> NetSettings:
    return NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", port),), timeout=3)


def _crawl(pages: dict[str, bytes]) -> CrawlResult:
    async def main() -> CrawlResult:
        async with RawServer(pages) as server:
            dns = DnsProbe(_net(server.port))
            http = HttpProbe(_net(server.port), dns)
            try:
                return await crawl(http, SITE, SITE, (f"http://{SITE}/",), CrawlLimits(rate=0))
            finally:
                await http.close()
                await dns.close()

    return asyncio.run(main())


def test_bad_hrefs_are_broken_links() -> None:
    result = _crawl({f"{SITE}/": page(*BAD_HREFS, "/fine"), "/fine": page()})
    [broken] = [f for f in links.judge(SITE, result) if f.id == "web.links.broken"]
    text = "\n".join(broken.evidence)
    for href in ("http://[::1", "http://[zz]/", "http://[1.2.3.4]/"):
        assert f"{href} (not a valid URL" in text
    for href in ("http://xn--zz--.shop.test/", "http://shop.test:99999/"):
        assert href in text  # parsed by urllib, refused by the HTTP client: a failed visit
    assert "/fine" not in text


def test_a_base_href_that_does_not_parse_is_ignored_and_reported() -> None:
    found, _, invalid = extract_links_checked(f"https://{SITE}/a/", '<base href="http://[::1"><a href="b">b</a>')
    assert [url for url, *_ in found] == [f"https://{SITE}/a/b"]
    assert [(raw, tag) for raw, _, tag, _ in invalid] == [("http://[::1", "base href")]
    result = _crawl({f"{SITE}/": page("/fine", base="http://[::1"), "/fine": page()})
    [broken] = [f for f in links.judge(SITE, result) if f.id == "web.links.broken"]
    assert any("<base href>" in line for line in broken.evidence)
    assert result.visit(f"http://{SITE}/fine") is not None


def _follow(location: str) -> tuple[HttpExchange, ...]:
    async def main() -> tuple[HttpExchange, ...]:
        async with RawServer({"/health": redirect(location)}) as server:
            dns = DnsProbe(_net(server.port))
            http = HttpProbe(_net(server.port), dns)
            try:
                return await http.follow(f"http://app.{SITE}/health")
            finally:
                await http.close()
                await dns.close()

    return asyncio.run(main())


@pytest.mark.parametrize("location", UNPARSABLE_LOCATIONS)
def test_an_unparsable_location_is_a_broken_link_and_a_down_health_route(location: str) -> None:
    result = _crawl({f"{SITE}/": page("/moved"), "/moved": redirect(location)})
    visit = result.visit(f"http://{SITE}/moved")
    assert visit is not None and visit.final.status == 302 and visit.stop == "bad-location"
    [broken] = [f for f in links.judge(SITE, result) if f.id == "web.links.broken"]
    assert any("/moved -302->" in line for line in broken.evidence)
    [hop] = _follow(location)
    assert hop.status == 302 and hop.redirect_stop == "bad-location"
    [finding] = judge_health("production", f"http://app.{SITE}/health", (hop,))
    assert finding.id == "app.health.down"


@pytest.mark.parametrize("location", ODD_LOCATIONS)
def test_odd_locations_end_in_a_fact(location: str) -> None:
    """Whatever each becomes (followed, off-site, a failed request), judging it raises nothing."""
    result = _crawl({f"{SITE}/": page("/moved"), "/moved": redirect(location)})
    visit = result.visit(f"http://{SITE}/moved")
    assert visit is not None
    links.judge(SITE, result)
    chain = _follow(location)
    judge_health("production", f"http://app.{SITE}/health", chain)
    assert chain[-1].status is not None or chain[-1].error is not None


@pytest.mark.parametrize("url", BAD_HREFS)
def test_fetching_a_bad_url_is_an_error_fact(url: str) -> None:
    async def main() -> HttpExchange:
        net = NetSettings(timeout=2)
        dns = DnsProbe(net)
        http = HttpProbe(net, dns)
        try:
            return await http.fetch(url.replace(".shop.test", ".invalid"))
        finally:
            await http.close()
            await dns.close()

    exchange = asyncio.run(main())
    assert exchange.status is None and exchange.error is not None
