"""TlsProbe against real TLS servers on 127.0.0.1 with lab-CA certificates."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netutil import closed_port

from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.lab.ca import IssuedCert, LabCA
from launchready.probes.dns import DnsProbe
from launchready.probes.tls import TlsFacts, TlsProbe, hostname_matches

HOST = "shop.lab.test"


def _server_context(cert: IssuedCert, tmp_path: Path, *, max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    cert_file, key_file = cert.write(tmp_path, "server")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


@asynccontextmanager
async def _serve(ssl_ctx: ssl.SSLContext | None) -> AsyncIterator[int]:
    """A server on 127.0.0.1 that (with ssl_ctx) completes TLS, or (without) accepts TCP and stays silent."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.read()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_ctx)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


def _net(port: int, bundle: Path | None, *, host: str = HOST, timeout: float = 5.0) -> NetSettings:
    """Route ``host:443`` to the test server, as --connect-to does."""
    return NetSettings(
        ca_bundle=bundle,
        connect_to=(ConnectTo(host, 443, "127.0.0.1", port),),
        timeout=timeout,
    )


def _probe(net: NetSettings) -> TlsProbe:
    return TlsProbe(net, DnsProbe(net))


async def _handshake_with(
    ctx: ssl.SSLContext | None, bundle: Path | None, host: str = HOST, timeout: float = 5.0
) -> TlsFacts:
    async with _serve(ctx) as port:
        return await _probe(_net(port, bundle, timeout=timeout)).handshake(host)


def test_valid_certificate_verifies_with_the_bundle(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    ctx = _server_context(lab_ca.issue([HOST, "www.lab.test"]), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, lab_ca_bundle))
    assert facts.connected and facts.verified and facts.hostname_matches
    assert facts.error is None and facts.verify_error is None
    assert facts.protocol == "TLSv1.3" and facts.cipher
    assert facts.peer is not None and facts.peer.startswith("127.0.0.1:")
    assert facts.chain_length == 1
    leaf = facts.leaf
    assert leaf is not None
    assert leaf.common_name == HOST and leaf.san_dns == (HOST, "www.lab.test")
    assert leaf.issuer_common_name == "launchready lab CA"
    assert leaf.key_type == "EC" and leaf.key_bits == 256 and leaf.signature_hash == "sha256"
    assert not leaf.self_signed
    assert leaf.not_before.tzinfo is not None and leaf.not_before < leaf.not_after


def test_without_the_bundle_the_chain_is_untrusted(lab_ca: LabCA, tmp_path: Path) -> None:
    ctx = _server_context(lab_ca.issue([HOST]), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, None))
    assert facts.connected and not facts.verified
    assert facts.verify_error and "issuer" in facts.verify_error
    assert facts.hostname_matches and facts.leaf is not None


def test_expired_certificate_is_still_read(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    ended = datetime.now(UTC) - timedelta(days=3)
    ctx = _server_context(lab_ca.issue([HOST], not_after=ended), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, lab_ca_bundle))
    assert facts.connected and not facts.verified
    assert facts.verify_error is not None and "expired" in facts.verify_error
    assert facts.leaf is not None and abs(facts.leaf.not_after - ended) < timedelta(seconds=1)
    assert facts.hostname_matches


def test_wrong_host(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    ctx = _server_context(lab_ca.issue(["other.example.test"]), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, lab_ca_bundle))
    assert facts.connected and not facts.verified and not facts.hostname_matches
    assert facts.verify_error is not None and "mismatch" in facts.verify_error.lower()
    assert facts.leaf is not None and facts.leaf.san_dns == ("other.example.test",)


def test_self_signed(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    ctx = _server_context(lab_ca.issue([HOST], self_signed=True), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, lab_ca_bundle))
    assert facts.connected and not facts.verified and facts.hostname_matches
    assert facts.verify_error is not None and "self" in facts.verify_error
    assert facts.leaf is not None and facts.leaf.self_signed


def test_weak_rsa_key_is_reported_not_refused(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    cert_file, key_file = lab_ca.issue([HOST], key="rsa1024").write(tmp_path, "weak")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 would not even load a 1024-bit key
    ctx.load_cert_chain(cert_file, key_file)
    facts = asyncio.run(_handshake_with(ctx, lab_ca_bundle))
    assert facts.connected and not facts.verified and facts.verify_error
    assert facts.leaf is not None and facts.leaf.key_type == "RSA" and facts.leaf.key_bits == 1024


def test_protocol_support(lab_ca: LabCA, tmp_path: Path) -> None:
    tls12_only = _server_context(lab_ca.issue([HOST]), tmp_path, max_version=ssl.TLSVersion.TLSv1_2)

    async def scenario() -> tuple[bool | None, bool | None, str | None]:
        async with _serve(tls12_only) as port:
            probe = _probe(_net(port, None))
            v13 = await probe.accepts_protocol(HOST, 443, ssl.TLSVersion.TLSv1_3)
            v12 = await probe.accepts_protocol(HOST, 443, ssl.TLSVersion.TLSv1_2)
            return v13, v12, (await probe.handshake(HOST)).protocol

    assert asyncio.run(scenario()) == (False, True, "TLSv1.2")


def test_accepts_protocol_cannot_tell_when_refused() -> None:
    probe = _probe(_net(closed_port(), None))
    assert asyncio.run(probe.accepts_protocol(HOST, 443, ssl.TLSVersion.TLSv1_3)) is None


def test_silent_tcp_server_times_out() -> None:
    facts = asyncio.run(_handshake_with(None, None, timeout=0.5))
    assert not facts.connected and facts.error_kind == "timeout" and facts.error


def testclosed_port() -> None:
    facts = asyncio.run(_probe(_net(closed_port(), None)).handshake(HOST))
    assert not facts.connected and facts.error_kind == "refused"


def test_server_that_closes_during_handshake_is_a_reset() -> None:
    async def scenario() -> TlsFacts:
        async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(5)  # the ClientHello has arrived
            writer.transport.abort()

        server = await asyncio.start_server(slam, "127.0.0.1", 0)
        try:
            port = server.sockets[0].getsockname()[1]
            return await _probe(_net(port, None)).handshake(HOST)
        finally:
            server.close()
            await server.wait_closed()

    facts = asyncio.run(scenario())
    assert not facts.connected and facts.error_kind == "reset"


def test_name_that_does_not_resolve(udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, object]]) -> None:
    nameserver, _ = udp_dns_responder({})
    net = NetSettings(nameservers=(nameserver,), timeout=2.0)
    facts = asyncio.run(_probe(net).handshake("missing.lab.test"))
    assert not facts.connected and facts.error_kind == "dns"
    assert facts.error is not None and "nxdomain" in facts.error


def test_dns_path_and_single_flight(
    lab_ca: LabCA,
    lab_ca_bundle: Path,
    tmp_path: Path,
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, object]],
) -> None:
    """No --connect-to: the name resolves through the lab nameserver; the port is the real one."""
    nameserver, _ = udp_dns_responder({HOST: "127.0.0.1"})
    ctx = _server_context(lab_ca.issue([HOST]), tmp_path)
    connections = 0

    async def scenario() -> list[TlsFacts]:
        nonlocal connections

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                await reader.read()
            except (OSError, ssl.SSLError):
                pass
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
        try:
            port = server.sockets[0].getsockname()[1]
            net = NetSettings(nameservers=(nameserver,), ca_bundle=lab_ca_bundle, timeout=5.0)
            probe = _probe(net)
            return list(await asyncio.gather(*(probe.handshake(HOST, port) for _ in range(3))))
        finally:
            server.close()
            await server.wait_closed()

    results = asyncio.run(scenario())
    assert all(r.verified for r in results)
    assert results[0] is results[1] is results[2]
    assert connections == 1


def test_hostname_matching_rules() -> None:
    assert hostname_matches("shop.lab.test", ("shop.lab.test",), ())
    assert hostname_matches("Shop.Lab.Test.", ("shop.lab.test",), ())
    assert hostname_matches("a.lab.test", ("*.lab.test",), ())
    assert not hostname_matches("lab.test", ("*.lab.test",), ())
    assert not hostname_matches("a.b.lab.test", ("*.lab.test",), ())
    assert not hostname_matches("a.test", ("*.test",), ())
    assert not hostname_matches("foo.lab.test", ("f*.lab.test",), ())
    assert not hostname_matches("a.lab.test", ("a.*.test",), ())
    assert not hostname_matches("xn--bcher-kva.lab.test", ("*.lab.test",), ())
    assert hostname_matches("127.0.0.1", (), ("127.0.0.1",))
    assert not hostname_matches("127.0.0.1", ("127.0.0.1",), ())


def test_unreadable_ca_bundle_is_reported(lab_ca: LabCA, tmp_path: Path) -> None:
    bundle = tmp_path / "broken.pem"
    bundle.write_text("not a certificate\n")
    ctx = _server_context(lab_ca.issue([HOST]), tmp_path)
    facts = asyncio.run(_handshake_with(ctx, bundle))
    assert not facts.connected and facts.error_kind == "other"
    assert facts.error is not None and "--ca-bundle" in facts.error
