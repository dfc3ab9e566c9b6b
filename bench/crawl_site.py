"""Benchmark: the bounded crawler against a 400-page loopback site, vs plain sequential fetches.

Run by hand:  .venv/bin/python bench/crawl_site.py [--pages 400] [--rounds 3]

Baseline (named, measured in the same run): the same URLs fetched one after another with
HttpProbe.fetch (no parsing, no concurrency). The crawl runs with rate=0 (no pacing) and its
default concurrency of 4, so the ratio shows what link extraction and scheduling cost or save.
Also prints peak memory (tracemalloc) of a crawl of one page holding 10,000 links.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from crawlserver import CrawlServer, html  # noqa: E402

from launchready.core.net import ConnectTo, NetSettings  # noqa: E402
from launchready.probes.crawl import CrawlLimits, crawl  # noqa: E402
from launchready.probes.dns import DnsProbe  # noqa: E402
from launchready.probes.http import HttpProbe  # noqa: E402

SITE = "site.test"


def site(pages: int) -> dict[str, bytes]:
    # A tree: each page links to its two children and back home, so depth stays within 10.
    out = {f"{SITE}/": html("/p1", "/p2")}
    for i in range(1, pages):
        out[f"{SITE}/p{i}"] = html(f"/p{2 * i + 1}", f"/p{2 * i + 2}", "/")
    return out


async def measure(pages: int) -> tuple[float, float, int]:
    async with CrawlServer(site(pages)) as server:
        net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=5.0)
        dns = DnsProbe(net)
        http = HttpProbe(net, dns)
        limits = CrawlLimits(max_pages=pages + 10, max_depth=20, rate=0)
        started = time.perf_counter()
        result = await crawl(http, SITE, SITE, (f"http://{SITE}/",), limits)
        crawl_s = time.perf_counter() - started
        await http.close()
        http = HttpProbe(net, dns)  # a fresh cache: the baseline must really fetch
        started = time.perf_counter()
        for visit in result.visits:
            await http.fetch(visit.url)
        baseline_s = time.perf_counter() - started
        await http.close()
        await dns.close()
        return crawl_s, baseline_s, len(result.visits)


async def many_links_peak() -> int:
    async with CrawlServer({f"{SITE}/": html(*(f"/l{i}" for i in range(10_000)))}) as server:
        net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=5.0)
        dns = DnsProbe(net)
        http = HttpProbe(net, dns)
        tracemalloc.start()
        await crawl(http, SITE, SITE, (f"http://{SITE}/",), CrawlLimits(rate=0))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        await http.close()
        await dns.close()
        return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs = [asyncio.run(measure(args.pages)) for _ in range(args.rounds)]
    crawl_s = statistics.median(r[0] for r in runs)
    base_s = statistics.median(r[1] for r in runs)
    fetched = runs[0][2]
    print(f"pages fetched per crawl: {fetched}")
    print(f"crawl (4 concurrent, parse + schedule): median {crawl_s:.3f}s  ({fetched / crawl_s:.0f} pages/s)")
    print(f"baseline (sequential HttpProbe.fetch):  median {base_s:.3f}s  ({fetched / base_s:.0f} pages/s)")
    print(f"ratio crawl/baseline: {crawl_s / base_s:.2f}")
    print(
        f"peak memory, one page with 10,000 links (crawl of 200 requests): {asyncio.run(many_links_peak()) / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
