"""A hostile zone or page cannot blow up the report: evidence is capped, repeats are grouped."""

from __future__ import annotations

import asyncio

from launchready.checks.email import mx
from launchready.checks.web import links
from launchready.core.check import (
    GROUP_REPEATS_AT,
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_LINES,
    bounded_evidence,
    group_repeated,
)
from launchready.core.dns import DnsAnswer
from launchready.core.net import ConnectTo, NetSettings
from launchready.probes.crawl import CrawlLimits, CrawlResult, crawl
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe

from .rawserver import RawServer, page

DOMAIN = "shop.test"


def test_evidence_is_capped_in_lines_and_characters() -> None:
    policy = "version: STSv1\nmode: enforce\n" + "mx: mail.example.test\n" * 3500  # about 75 KB echoed
    kept = bounded_evidence([policy, *(f"record {n}" for n in range(1000))])
    assert len(kept) == MAX_EVIDENCE_LINES
    assert len(kept[0]) < MAX_EVIDENCE_CHARS + 40 and kept[0].endswith("more characters)")
    assert kept[-1] == f"... and {1001 - (MAX_EVIDENCE_LINES - 1)} more evidence line(s) not shown"
    assert bounded_evidence(["a", "b"]) == ("a", "b")
    exactly = [f"line {n}" for n in range(MAX_EVIDENCE_LINES)]
    assert bounded_evidence(exactly) == tuple(exactly)


def test_a_thousand_mx_records_are_one_grouped_finding() -> None:
    hosts = [f"mx{n}.{DOMAIN}" for n in range(1000)]
    answer = DnsAnswer(DOMAIN, "MX", "ok", tuple(f"10 {h}." for h in hosts))
    targets = tuple(mx.MxTarget(10, h, DnsAnswer(h, "A", "nxdomain"), DnsAnswer(h, "AAAA", "nxdomain")) for h in hosts)
    raw = mx.judge(DOMAIN, answer, targets, receives_mail=True, sends_mail=True)
    assert len(raw) == 1000
    findings = group_repeated(raw)
    assert len(findings) == 1
    [grouped] = findings
    assert grouped.id == "email.mx.no-address" and grouped.title.endswith("(1000 times)")
    assert len(grouped.evidence) == MAX_EVIDENCE_LINES
    assert len(grouped.model_dump_json()) < 100_000  # was megabytes: every finding echoed all 1,000 records


def test_few_repeats_stay_separate() -> None:
    hosts = [f"mx{n}.{DOMAIN}" for n in range(GROUP_REPEATS_AT - 1)]
    answer = DnsAnswer(DOMAIN, "MX", "ok", tuple(f"10 {h}." for h in hosts))
    targets = tuple(mx.MxTarget(10, h, DnsAnswer(h, "A", "nxdomain")) for h in hosts)
    findings = group_repeated(mx.judge(DOMAIN, answer, targets, receives_mail=True, sends_mail=True))
    assert len(findings) == GROUP_REPEATS_AT - 1


def test_a_page_of_ten_thousand_broken_links_gives_a_bounded_finding() -> None:
    hrefs = [f"/gone/{n}" for n in range(10_000)]

    async def main() -> CrawlResult:
        async with RawServer({f"{DOMAIN}/": page(*hrefs)}) as server:
            net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return await crawl(http, DOMAIN, DOMAIN, (f"http://{DOMAIN}/",), CrawlLimits(rate=0, max_pages=50))
            finally:
                await http.close()
                await dns.close()

    result = asyncio.run(main())
    assert result.links_cut == 10_000 - CrawlLimits().max_links_per_page
    assert result.page_budget_hit
    [broken] = [f for f in links.judge(DOMAIN, result) if f.id == "web.links.broken"]
    assert len(broken.evidence) <= MAX_EVIDENCE_LINES
    assert any("more" in line for line in broken.evidence)
