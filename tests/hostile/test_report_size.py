"""A hostile zone or page cannot blow up the report: evidence is capped, repeats are grouped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import ssl
import threading
import time
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.rrset
import pytest
from cliutil import run_cli

from launchready.checks.email import mx
from launchready.checks.perf.cache import MAX_ASSETS, asset_urls
from launchready.checks.web import links
from launchready.checks.web.edge import MAX_MAIL_HOSTS
from launchready.config.model import Config
from launchready.core.check import (
    GROUP_REPEATS_AT,
    MAX_EVIDENCE_CHARS,
    MAX_EVIDENCE_LINES,
    MAX_REMEDIATION_CHARS,
    bounded_evidence,
    group_repeated,
)
from launchready.core.dns import MAX_MX_TARGETS, DnsAnswer
from launchready.core.finding import CheckResult, Status
from launchready.core.http import HttpExchange
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.core.registry import load_registry
from launchready.engine.audit import MAX_LISTED_HOSTS
from launchready.engine.context import AuditContext, Probes, SiteMap
from launchready.engine.runner import RunnerOptions, run_one
from launchready.lab.ca import LabCA
from launchready.probes.crawl import CrawlLimits, CrawlResult, crawl
from launchready.probes.dns import DnsProbe
from launchready.probes.dnsmap import MAX_RECORDS_PER_SET
from launchready.probes.http import HttpProbe

from .hostile_zone import MX_COUNT, hostile_zone
from .rawserver import RawServer, page, response

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


# -- a huge page is parsed off the event loop --------------------------------------------------


class _HeldDns:
    """A UDP DNS server on 127.0.0.1 (own thread) that holds every answer until ``release`` is set,
    then waits ``delay`` once more, so its first answer lands while the client parses the page."""

    def __init__(self, release: threading.Event, delay: float) -> None:
        self.release = release
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.release.wait(30)
            if self.answered == 0:
                time.sleep(self.delay)
            query = dns.message.from_wire(wire)
            reply = dns.message.make_response(query)
            question = query.question[0]
            if question.rdtype == dns.rdatatype.A:
                reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "192.0.2.1"))
            self.sock.sendto(reply.to_wire(), client)
            self.answered += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_a_huge_page_does_not_stall_a_concurrent_dns_check(tmp_path: Path) -> None:
    """perf.cache reads a 2 MB page that takes the HTML parser seconds while dns.apex waits for its
    answer: parsed on the event loop, the DNS check's runner timeout would fire before the loop
    could read the answer; parsed in a thread, the DNS check completes and the cache check too."""
    ca = LabCA.create()
    cert, key = ca.issue((DOMAIN,)).write(tmp_path, "leaf")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    body = b"<html><body>" + b"<" * 2_000_000  # the parser's slowest input, at the crawl's 2 MB page limit
    page_sent = threading.Event()

    async def serve_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response(200, body, ctype="text/html; charset=utf-8"))
            await writer.drain()
            page_sent.set()
        writer.close()

    held = _HeldDns(page_sent, delay=0.2)

    async def main() -> tuple[CheckResult, CheckResult]:
        server = await asyncio.start_server(serve_page, "127.0.0.1", 0, ssl=tls)
        net = NetSettings(
            nameservers=(Nameserver("127.0.0.1", held.port),),
            connect_to=(ConnectTo(DOMAIN, 443, "127.0.0.1", server.sockets[0].getsockname()[1]),),
            ca_bundle=ca.write_bundle(tmp_path / "ca.pem"),
            timeout=20,
        )
        config = Config.model_validate({"domain": DOMAIN, "audit": {"discover": False}})
        probes = Probes.open(net)
        registry = load_registry()
        try:
            site = SiteMap(DOMAIN, (), DnsAnswer(DOMAIN, "MX", "nodata"))
            ctx = AuditContext(domain=DOMAIN, config=config, net=net, probes=probes, site=site)
            cache, apex = await asyncio.gather(
                run_one(registry.get("perf.cache"), ctx, DOMAIN, RunnerOptions(check_timeout=60)),
                run_one(registry.get("dns.apex"), ctx, DOMAIN, RunnerOptions(check_timeout=1.5)),
            )
        finally:
            await probes.close()
            server.close()
        return cache, apex

    try:
        cache, apex = asyncio.run(main())
    finally:
        held.stop()
    assert page_sent.is_set() and held.answered >= 1
    assert apex.status is Status.PASSED, (apex.status, apex.reason)
    assert cache.status is Status.PASSED, (cache.status, cache.reason)  # no assets on the page: nothing to judge


def test_asset_urls_stop_at_the_limit_and_skip_references_no_parser_accepts() -> None:
    refs = ['<img src="http://[::1">', '<script src="http://[zz]/x.js"></script>']
    refs += [f'<img src="/i/{n}.png">' for n in range(50_000)]
    exchange = HttpExchange(f"https://{DOMAIN}/", "GET", status=200, body="".join(refs).encode())
    assert asset_urls(exchange) == [f"https://{DOMAIN}/i/{n}.png" for n in range(MAX_ASSETS)]


# -- a real audit of a hostile zone -----------------------------------------------------------

REPORT_CAP = 1_000_000  # bytes: a report a person or a CI artifact store can take


def test_a_real_audit_of_a_hostile_zone_writes_a_bounded_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "launchready.toml"
    config.write_text(f'domain = "{DOMAIN}"\n[audit]\ndiscover = false\n[web]\ncrawl_rate = 200.0\n')
    report = tmp_path / "report.json"
    with hostile_zone() as zone:
        code, out, err = run_cli(
            [
                "audit", "-c", str(config), "--format", "json", "-o", str(report), "-q", "--no-history",
                "--no-git-history", "--skip", "repo", "--skip", "perf.pageload", *zone.flags,
            ],
            capsys,
        )  # fmt: skip
    assert "Traceback" not in err and code in (0, 1), (code, err)
    size = report.stat().st_size
    print(f"JSON report of the hostile zone: {size} bytes")  # the figure the hardening note states
    data = json.loads(report.read_text())
    findings = data["findings"]
    ids = {f["id"] for f in findings}
    # The zone's faults are all reported, each once, however many records carry them.
    assert {"email.mx.no-address", "web.links.broken", "email.mta-sts.policy-invalid"} <= ids, sorted(ids)
    assert sum(1 for f in findings if f["id"] == "email.mx.no-address") == 1
    assert max(len(f["evidence"]) for f in findings) <= MAX_EVIDENCE_LINES
    assert max(len(line) for f in findings for line in f["evidence"]) <= MAX_EVIDENCE_CHARS + 40
    assert max(len(f["remediation"]) for f in findings) <= MAX_REMEDIATION_CHARS + 40
    # The listings are bounded and say what they leave out.
    # Discovery looks up only the most preferred MX hosts and counts the rest as left out.
    assert len(data["hosts"]) <= MAX_LISTED_HOSTS and data["hosts_omitted"] == MX_COUNT - MAX_MX_TARGETS
    not_looked_up = f"{MX_COUNT - MAX_MX_TARGETS} more MX host(s) not looked up"
    assert any(line.startswith(not_looked_up) for line in data["dns_map"]["omitted"]), data["dns_map"]["omitted"]
    assert f"MX {DOMAIN}: {MX_COUNT - MAX_RECORDS_PER_SET} more record(s) not listed" in data["dns_map"]["omitted"]
    assert size < REPORT_CAP
    # The work is bounded too: the edge check asks only the first mail hosts, not all thousand.
    mail_hosts_asked = {h for h in zone.hosts_asked if h.startswith("mx")}
    assert 0 < len(mail_hosts_asked) <= MAX_MAIL_HOSTS < MX_COUNT // 10, len(mail_hosts_asked)
    # No check resolves all thousand: discovery, email.mx, dns.cname and the DNS map ask the same
    # most preferred few, and the ones never asked are reported, not passed.
    mx_names_resolved = {n for n in zone.names_asked if re.fullmatch(rf"mx\d+\.{re.escape(DOMAIN)}", n)}
    assert 0 < len(mx_names_resolved) <= MAX_MX_TARGETS, sorted(mx_names_resolved)
    [too_many] = [f for f in findings if f["id"] == "email.mx.too-many"]
    assert f"not looked up or checked: {MX_COUNT - MAX_MX_TARGETS}" in too_many["evidence"]
    print(f"DNS queries of the hostile audit: {zone.dns_queries}")
