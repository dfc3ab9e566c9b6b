"""No pass without an observation: a server that never gives a usable page makes checks "could not run".

A hostile HTTPS server on 127.0.0.1 (certificate from a test CA, routed by --connect-to) answers
every request one bad way: a 100 KB header, 5,000 headers, a body in an encoding nobody asked
for, a slowloris trickle, a reset, a bad status line, a redirect to itself. Every check that reads
the site's pages must then say it could not run, with the reason, never report a pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from launchready.checks.app.health import judge as judge_health
from launchready.config.model import Config
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.core.registry import load_registry
from launchready.engine.context import AuditContext, Probes
from launchready.engine.discovery import discover
from launchready.lab.ca import LabCA
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe

from .rawserver import RawServer, redirect, response

SITE = "shop.test"
WWW = f"www.{SITE}"
PAGE_CHECKS = (
    "web.headers",
    "web.mixed-content",
    "web.caching",
    "web.canonical-host",
    "web.admin-surface",
    "web.edge",
    "perf.cache",
)

# Behaviours where a status line and headers arrive (only the body or the redirect target fails).
HEADERS_ARRIVE = ("br body", "redirect loop")

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _request_path(reader: asyncio.StreamReader) -> str:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    return head.split(" ", 2)[1]


def _answering(raw: Callable[[str], bytes]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            path = await _request_path(reader)
            writer.write(raw(path))
            await writer.drain()
        writer.close()

    return handle


async def _slowloris(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await _request_path(reader)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"a" * 10_000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)
    writer.close()


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await _request_path(reader)
        sock = writer.get_extra_info("socket")
        # Linger 0: close() sends a TCP reset instead of a clean end.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


_HTML = "text/html; charset=utf-8"
BEHAVIOURS: dict[str, Handler] = {
    "100 KB header": _answering(lambda _: response(200, b"<html></html>", "X-Big: " + "a" * 100_000, ctype=_HTML)),
    "5,000 headers": _answering(
        lambda _: response(200, b"<html></html>", *(f"X-H{i}: v" for i in range(5000)), ctype=_HTML)
    ),
    "zstd body": _answering(
        lambda _: response(200, b"\x28\xb5\x2f\xfd garbage", "Content-Encoding: zstd", ctype=_HTML)
    ),
    "br body": _answering(lambda _: response(200, b"\xff\xff not brotli", "Content-Encoding: br", ctype=_HTML)),
    "slowloris": _slowloris,
    "reset": _reset,
    "bad status line": _answering(lambda _: b"HTTP/1.1 two hundred\r\nContent-Length: 0\r\n\r\n"),
    "redirect loop": _answering(lambda path: redirect(path)),
}


def _server_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca = LabCA.create()
    cert_file, key_file = ca.issue((SITE, WWW, f"admin.{SITE}")).write(tmp_path, "leaf")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, ca.write_bundle(tmp_path / "ca.pem")


async def _outcomes(
    handler: Handler, context: ssl.SSLContext, bundle: Path, nameserver: Nameserver
) -> dict[str, list[Finding] | CouldNotRun | NotApplicable]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    net = NetSettings(
        nameservers=(nameserver,),
        connect_to=(ConnectTo(None, 443, "127.0.0.1", port), ConnectTo(None, 80, "127.0.0.1", port)),
        ca_bundle=bundle,
        timeout=1.5,
    )
    config = Config.model_validate({"audit": {"discover": False}})
    probes = Probes.open(net)
    registry = load_registry()
    outcomes: dict[str, list[Finding] | CouldNotRun | NotApplicable] = {}
    try:
        site = await discover(SITE, config, probes.dns)
        ctx = AuditContext(domain=SITE, config=config, net=net, probes=probes, site=site)
        for check_id in PAGE_CHECKS:
            try:
                outcomes[check_id] = list(await registry.get(check_id).run(ctx, SITE))
            except (CouldNotRun, NotApplicable) as exc:
                outcomes[check_id] = exc
    finally:
        await probes.close()
        server.close()
    return outcomes


@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
def test_checks_could_not_run_when_no_page_answers(
    behaviour: str,
    tmp_path: Path,
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    nameserver, _ = udp_dns_responder({SITE: "127.0.0.1", WWW: "127.0.0.1"})
    context, bundle = _server_context(tmp_path)
    outcomes = asyncio.run(_outcomes(BEHAVIOURS[behaviour], context, bundle, nameserver))
    for check_id, outcome in outcomes.items():
        if check_id == "web.edge" and behaviour in HEADERS_ARRIVE:
            # web.edge reads only headers; they arrived and name no edge, which is reported, not passed.
            assert isinstance(outcome, list) and outcome, f"{check_id}: {outcome!r}"
            continue
        assert isinstance(outcome, CouldNotRun), f"{behaviour}: {check_id} gave {outcome!r}"
        assert str(outcome).strip(), f"{check_id}: no reason given"


def test_health_route_redirecting_off_site_to_a_200_is_not_healthy() -> None:
    async def main() -> Any:
        async with RawServer(
            {"/health": redirect("http://status.elsewhere.test/ok"), "/ok": response(200, b"ok")}
        ) as s:
            net = NetSettings(connect_to=(ConnectTo(None, 80, "127.0.0.1", s.port),), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return await http.follow(f"http://app.{SITE}/health", max_hops=5)
            finally:
                await http.close()
                await dns.close()

    chain = asyncio.run(main())
    assert chain[-1].url == "http://status.elsewhere.test/ok" and chain[-1].status == 200
    [finding] = judge_health("production", f"http://app.{SITE}/health", chain, domain=SITE)
    assert finding.id == "app.health.down"
    assert "off-site" in finding.title
    assert any("redirected off-site to status.elsewhere.test" in line for line in finding.evidence)


def test_health_route_redirecting_within_the_site_is_healthy() -> None:
    async def main() -> Any:
        async with RawServer({"/health": redirect(f"http://www.{SITE}/ok"), "/ok": response(200, b"ok")}) as s:
            net = NetSettings(connect_to=(ConnectTo(None, 80, "127.0.0.1", s.port),), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return await http.follow(f"http://app.{SITE}/health", max_hops=5)
            finally:
                await http.close()
                await dns.close()

    chain = asyncio.run(main())
    assert chain[-1].status == 200
    assert judge_health("production", f"http://app.{SITE}/health", chain, domain=SITE) == []


class _ServfailDns(asyncio.DatagramProtocol):
    """A DNS server on 127.0.0.1 that answers every question SERVFAIL."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not derive from asyncio.DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        reply.set_rcode(dns.rcode.SERVFAIL)
        self.transport.sendto(reply.to_wire(), addr)


async def _dns_check_outcomes(answering: bool) -> dict[str, list[Finding] | CouldNotRun | NotApplicable]:
    """dns.cname and email.dkim against a name server that answers SERVFAIL, or never answers."""
    loop = asyncio.get_running_loop()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    transport, _ = await loop.create_datagram_endpoint(_ServfailDns, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1] if answering else silent.getsockname()[1]
    net = NetSettings(nameservers=(Nameserver("127.0.0.1", port),), timeout=1)
    config = Config.model_validate({"audit": {"discover": False}})
    probes = Probes.open(net)
    registry = load_registry()
    outcomes: dict[str, list[Finding] | CouldNotRun | NotApplicable] = {}
    try:
        site = await discover(SITE, config, probes.dns)
        ctx = AuditContext(domain=SITE, config=config, net=net, probes=probes, site=site)
        for check_id in ("dns.cname", "email.dkim"):
            try:
                outcomes[check_id] = list(await registry.get(check_id).run(ctx, SITE))
            except (CouldNotRun, NotApplicable) as exc:
                outcomes[check_id] = exc
    finally:
        await probes.close()
        transport.close()
        silent.close()
    return outcomes


@pytest.mark.parametrize("answering", [True, False], ids=["servfail", "timeout"])
def test_dns_checks_could_not_run_when_every_query_fails(answering: bool) -> None:
    outcomes = asyncio.run(_dns_check_outcomes(answering))
    for check_id, outcome in outcomes.items():
        assert isinstance(outcome, CouldNotRun), f"{check_id} gave {outcome!r}"
        assert str(outcome).strip(), f"{check_id}: no reason given"


class _PartlyFailingDns(asyncio.DatagramProtocol):
    """An authoritative server on 127.0.0.1 for SITE: SERVFAIL for ``broken.``, silence for ``silent.``,
    a CNAME to a missing name for ``old.``, and a plain answer (NXDOMAIN or an address) for the rest."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not derive from asyncio.DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        if name == f"silent.{SITE}":
            return  # never answers: the client times out
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        if name == f"broken.{SITE}":
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif name == f"old.{SITE}" and question.rdtype == dns.rdatatype.CNAME:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "CNAME", f"gone.{SITE}."))
        elif name in (SITE, f"www.{SITE}", f"ok.{SITE}"):
            if question.rdtype == dns.rdatatype.A:
                reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "192.0.2.1"))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)


def test_dns_cname_reports_the_names_whose_queries_failed_as_not_verified() -> None:
    async def main() -> list[Finding] | CouldNotRun | NotApplicable:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(_PartlyFailingDns, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        net = NetSettings(nameservers=(Nameserver("127.0.0.1", port),), timeout=1)
        config = Config.model_validate({"audit": {"discover": False}, "subdomains": ["ok", "old", "broken", "silent"]})
        probes = Probes.open(net)
        try:
            site = await discover(SITE, config, probes.dns)
            ctx = AuditContext(domain=SITE, config=config, net=net, probes=probes, site=site)
            try:
                return list(await load_registry().get("dns.cname").run(ctx, SITE))
            except (CouldNotRun, NotApplicable) as exc:
                return exc
        finally:
            await probes.close()
            transport.close()

    outcome = asyncio.run(main())
    assert isinstance(outcome, list), outcome
    found = {(f.id, f.target) for f in outcome}
    assert found == {
        ("dns.cname.not-verified", f"broken.{SITE}"),
        ("dns.cname.not-verified", f"silent.{SITE}"),
        ("dns.cname.dangling", f"old.{SITE}"),
    }
    [broken] = [f for f in outcome if f.target == f"broken.{SITE}"]
    assert any("servfail" in line for line in broken.evidence)
    [silent] = [f for f in outcome if f.target == f"silent.{SITE}"]
    assert any("timeout" in line for line in silent.evidence), silent.evidence
