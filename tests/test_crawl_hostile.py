"""Hostile servers give findings (or a clean "could not run"), never hangs or crashes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import UTC, datetime

from crawlserver import HUGE_HEADERS, MALFORMED, CrawlServer, html

from launchready.checks.tls import certificate
from launchready.checks.web import links
from launchready.core.net import ConnectTo, NetSettings
from launchready.probes.crawl import CrawlLimits, crawl
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe
from launchready.probes.tls import TlsProbe

SITE = "site.test"
PAGES = {
    f"{SITE}/": html("/loop/0", "/big", "/malformed", "/headers", "/ok"),
    "/malformed": MALFORMED,
    "/headers": HUGE_HEADERS,
    f"{SITE}/ok": html(),
}


def test_hostile_pages_become_link_findings() -> None:
    async def main() -> tuple[list[str], list[str]]:
        async with CrawlServer(PAGES) as server:
            net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3.0)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                result = await crawl(http, SITE, SITE, (f"http://{SITE}/",), CrawlLimits(rate=0, max_body=1_000_000))
            finally:
                await http.close()
                await dns.close()
        big = result.visit(f"http://{SITE}/big")
        assert big is not None and big.final.body_truncated and big.final.body_size <= 1_000_000
        findings = links.judge(SITE, result)
        return [f.id for f in findings], [e for f in findings for e in f.evidence]

    ids, evidence = asyncio.run(main())
    assert "web.links.redirect-loop" in ids  # endless redirects stop at the hop limit
    assert "web.links.broken" in ids
    assert any("/malformed" in e and "no answer" in e for e in evidence)
    assert any("/headers" in e and "no answer" in e for e in evidence)


def test_tls_server_stalling_mid_handshake_is_unreachable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        held: list[socket.socket] = []

        async def main() -> list[str]:
            net = NetSettings(connect_to=(ConnectTo(None, 443, "127.0.0.1", port),), timeout=0.5)
            dns = DnsProbe(net)
            tls = TlsProbe(net, dns)
            loop = asyncio.get_running_loop()

            async def accept() -> None:
                # Accept and read the ClientHello, then say nothing: the handshake stalls.
                listener.setblocking(False)
                conn, _ = await loop.sock_accept(listener)
                held.append(conn)

            acceptor = asyncio.ensure_future(accept())
            try:
                facts = await tls.handshake(SITE, 443)
            finally:
                acceptor.cancel()
                with contextlib.suppress(BaseException):
                    await acceptor
                await tls.close()
                await dns.close()
            return [f.id for f in certificate.judge(SITE, facts, datetime.now(UTC))]

        try:
            assert asyncio.run(main()) == ["tls.certificate.unreachable"]
        finally:
            for conn in held:
                conn.close()
