"""HttpProbe against real HTTP(S) servers on 127.0.0.1 (aiohttp.web and raw asyncio servers)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from netutil import closed_port

from launchready import __version__
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.lab.ca import LabCA
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpExchange, HttpProbe

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def _web_app(app: web.Application, ssl_ctx: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_ctx)
    await site.start()
    try:
        server = site._server  # noqa: SLF001 - the only way to learn the ephemeral port
        assert server is not None and server.sockets
        yield server.sockets[0].getsockname()[1]
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _raw_server(handler: RawHandler) -> AsyncIterator[int]:
    """A hand-written (mis)behaving HTTP server; its connections are torn down on exit."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.transport.abort()
        await server.wait_closed()


def _net(port: int, *, timeout: float = 5.0, bundle: Path | None = None, host: str = "shop.lab.test") -> NetSettings:
    """Send every request for ``host`` (any port) to the test server, as --connect-to does."""
    return NetSettings(ca_bundle=bundle, connect_to=(ConnectTo(host, None, "127.0.0.1", port),), timeout=timeout)


async def _fetch_once(net: NetSettings, url: str, **kwargs: object) -> HttpExchange:
    probe = HttpProbe(net, DnsProbe(net))
    try:
        return await probe.fetch(url, **kwargs)  # type: ignore[arg-type]
    finally:
        await probe.close()


# --- ordinary responses --------------------------------------------------------------------


def test_status_headers_repeated_cookies_and_user_agent() -> None:
    seen: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        seen.update(request.headers)
        resp = web.Response(status=201, text="hello", headers={"X-Frame-Options": "DENY"})
        resp.headers.add("Set-Cookie", "a=1; Secure")
        resp.headers.add("Set-Cookie", "b=2; HttpOnly")
        return resp

    async def scenario() -> HttpExchange:
        app = web.Application()
        app.router.add_get("/", page)
        async with _web_app(app) as port:
            return await _fetch_once(_net(port), "http://shop.lab.test/", headers={"X-Probe": "1"})

    ex = asyncio.run(scenario())
    assert ex.error is None and ex.status == 201
    assert ex.body == b"hello" and ex.body_size == 5 and not ex.body_truncated
    assert ex.header("x-frame-options") == "DENY"
    assert ex.header_all("Set-Cookie") == ("a=1; Secure", "b=2; HttpOnly")
    assert all(name == name.lower() for name, _ in ex.headers)
    assert seen["User-Agent"] == f"launchready/{__version__} (+launch audit)"
    assert seen["X-Probe"] == "1"
    assert ex.peer is not None and ex.peer.startswith("127.0.0.1:")


def _redirect_app(routes: dict[str, str]) -> web.Application:
    """Each path in ``routes`` redirects (302) to its value; "/end" answers 200."""

    async def hop(request: web.Request) -> web.Response:
        if request.path == "/end":
            return web.Response(text="done")
        return web.Response(status=302, headers={"Location": routes[request.path]})

    app = web.Application()
    app.router.add_get("/{tail:.*}", hop)
    return app


def test_fetch_never_follows_redirects() -> None:
    async def scenario() -> HttpExchange:
        async with _web_app(_redirect_app({"/": "/end"})) as port:
            return await _fetch_once(_net(port), "http://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.status == 302 and ex.is_redirect and ex.location == "/end" and ex.error is None


def test_follow_chain_loop_and_max_hops() -> None:
    routes = {
        "/a": "/b",
        "/b": "http://shop.lab.test/end",
        "/x": "/y",
        "/y": "/x#again",
        "/1": "/2",
        "/2": "/3",
        "/3": "/end",
    }

    async def scenario() -> tuple[tuple[HttpExchange, ...], ...]:
        async with _web_app(_redirect_app(routes)) as port:
            net = _net(port)
            probe = HttpProbe(net, DnsProbe(net))
            try:
                return (
                    await probe.follow("http://shop.lab.test/a"),
                    await probe.follow("http://shop.lab.test/x"),
                    await probe.follow("http://shop.lab.test/1", max_hops=2),
                )
            finally:
                await probe.close()

    chain, loop, capped = asyncio.run(scenario())
    assert [e.url for e in chain] == [
        "http://shop.lab.test/a",
        "http://shop.lab.test/b",
        "http://shop.lab.test/end",
    ]
    assert [e.status for e in chain] == [302, 302, 200] and chain[-1].redirect_stop is None
    assert [e.url for e in loop] == ["http://shop.lab.test/x", "http://shop.lab.test/y"]
    assert loop[-1].redirect_stop == "loop"
    assert len(capped) == 3 and capped[-1].redirect_stop == "max-hops" and capped[-1].status == 302


# --- routing -------------------------------------------------------------------------------


def _echo_host_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("Host", ""))

    app = web.Application()
    app.router.add_get("/", echo)
    return app


def test_connect_to_changes_the_port_and_keeps_the_host_header() -> None:
    async def scenario() -> tuple[HttpExchange, int]:
        async with _web_app(_echo_host_app()) as port:
            net = NetSettings(connect_to=(ConnectTo("example.test", 80, "127.0.0.1", port),), timeout=5.0)
            return await _fetch_once(net, "http://example.test:80/"), port

    ex, port = asyncio.run(scenario())
    assert ex.status == 200 and ex.body == b"example.test"
    assert ex.peer == f"127.0.0.1:{port}"


def test_names_resolve_through_the_runs_nameserver(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, object]],
) -> None:
    nameserver, responder = udp_dns_responder({"example.test": "127.0.0.1"})

    async def scenario() -> tuple[HttpExchange, HttpExchange, int]:
        async with _web_app(_echo_host_app()) as port:
            net = NetSettings(nameservers=(nameserver,), timeout=3.0)
            probe = HttpProbe(net, DnsProbe(net))
            try:
                found = await probe.fetch(f"http://example.test:{port}/")
                missing = await probe.fetch(f"http://missing.test:{port}/")
            finally:
                await probe.close()
            return found, missing, port

    found, missing, port = asyncio.run(scenario())
    assert found.status == 200 and found.body == f"example.test:{port}".encode()
    assert ("example.test", "A") in responder.queries  # type: ignore[attr-defined]
    assert missing.status is None and missing.error_kind == "dns" and missing.error


# --- TLS -----------------------------------------------------------------------------------


def _tls_context(lab_ca: LabCA, tmp_path: Path, **issue: object) -> ssl.SSLContext:
    cert_file, key_file = lab_ca.issue(["shop.lab.test"], **issue).write(tmp_path, "web")  # type: ignore[arg-type]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


def test_https_verified_with_the_bundle(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    async def scenario() -> HttpExchange:
        async with _web_app(_echo_host_app(), _tls_context(lab_ca, tmp_path)) as port:
            return await _fetch_once(_net(port, bundle=lab_ca_bundle), "https://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error is None and ex.status == 200 and ex.body == b"shop.lab.test"


def test_https_expired_certificate_is_a_tls_error(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    expired = _tls_context(lab_ca, tmp_path, not_after=datetime.now(UTC) - timedelta(days=2))

    async def scenario() -> tuple[HttpExchange, HttpExchange]:
        async with _web_app(_echo_host_app(), expired) as port:
            net = _net(port, bundle=lab_ca_bundle)
            probe = HttpProbe(net, DnsProbe(net))
            try:
                return (
                    await probe.fetch("https://shop.lab.test/"),
                    await probe.fetch("https://shop.lab.test/", verify_tls=False),
                )
            finally:
                await probe.close()

    checked, unchecked = asyncio.run(scenario())
    assert checked.status is None and checked.error_kind == "tls"
    assert checked.error is not None and "expired" in checked.error
    assert unchecked.error is None and unchecked.status == 200


# --- failures ------------------------------------------------------------------------------


def test_refused() -> None:
    ex = asyncio.run(_fetch_once(_net(closed_port()), "http://shop.lab.test/"))
    assert ex.status is None and ex.error_kind == "refused"


def test_reset_mid_response_keeps_the_status() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()

    async def scenario() -> HttpExchange:
        async with _raw_server(cut) as port:
            return await _fetch_once(_net(port), "http://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error_kind == "reset" and ex.status == 200 and ex.error


def test_close_before_any_response_is_a_reset() -> None:
    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    async def scenario() -> HttpExchange:
        async with _raw_server(slam) as port:
            return await _fetch_once(_net(port), "http://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error_kind == "reset" and ex.status is None


def test_stall_mid_body_is_a_timeout_with_status() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Seen: yes\r\n\r\nfirst bytes")
        await writer.drain()
        await reader.read()  # hold the connection open until the client gives up

    async def scenario() -> HttpExchange:
        async with _raw_server(stall) as port:
            return await _fetch_once(_net(port, timeout=0.5), "http://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error_kind == "timeout" and ex.status == 200 and ex.header("x-seen") == "yes"
    assert ex.body == b"first bytes"


def test_silent_server_is_a_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def scenario() -> HttpExchange:
        async with _raw_server(silent) as port:
            return await _fetch_once(_net(port, timeout=0.5), "https://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error_kind == "timeout" and ex.status is None


def test_garbage_is_a_protocol_error() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n")
        await writer.drain()
        writer.close()

    async def scenario() -> HttpExchange:
        async with _raw_server(garbage) as port:
            return await _fetch_once(_net(port), "http://shop.lab.test/")

    ex = asyncio.run(scenario())
    assert ex.error_kind == "protocol" and ex.status is None


def test_body_is_capped() -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 200_000)

    async def scenario() -> tuple[HttpExchange, HttpExchange]:
        app = web.Application()
        app.router.add_get("/", big)
        async with _web_app(app) as port:
            net = _net(port)
            probe = HttpProbe(net, DnsProbe(net))
            try:
                capped = await probe.fetch("http://shop.lab.test/", max_body=1000)
                whole = await probe.fetch("http://shop.lab.test/")
            finally:
                await probe.close()
            return capped, whole

    capped, whole = asyncio.run(scenario())
    assert capped.error is None and capped.status == 200
    assert capped.body_truncated and capped.body == b"x" * 1000 and capped.body_size == 1000
    assert not whole.body_truncated and whole.body_size == 200_000


def test_identical_requests_are_sent_once() -> None:
    hits = 0

    async def counted(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(text=str(hits))

    async def scenario() -> list[HttpExchange]:
        app = web.Application()
        app.router.add_route("*", "/", counted)
        async with _web_app(app) as port:
            net = _net(port)
            probe = HttpProbe(net, DnsProbe(net))
            url = "http://shop.lab.test/"
            try:
                # Concurrent: the later two join the first one's request (single flight).
                results = list(await asyncio.gather(*(probe.fetch(url) for _ in range(3))))
                results.append(await probe.fetch(url))  # cached
                results.append(await probe.fetch(url, headers={"Accept": "text/html"}))  # other key
                results.append(await probe.fetch(url, use_cache=False))  # forced
                results.append(await probe.fetch(url, method="POST"))  # never cached
                results.append(await probe.fetch(url, method="POST"))
            finally:
                await probe.close()
            return results

    results = asyncio.run(scenario())
    assert [r.body for r in results[:4]] == [b"1"] * 4
    assert results[0] is results[3]
    assert hits == 5


def test_unreadable_ca_bundle_and_bad_urls(tmp_path: Path) -> None:
    bundle = tmp_path / "broken.pem"
    bundle.write_text("not a certificate\n")

    async def scenario() -> tuple[HttpExchange, HttpExchange]:
        net = _net(closed_port(), bundle=bundle)
        probe = HttpProbe(net, DnsProbe(net))
        try:
            return await probe.fetch("https://shop.lab.test/"), await probe.fetch("ftp://shop.lab.test/")
        finally:
            await probe.close()

    broken_bundle, not_http = asyncio.run(scenario())
    assert broken_bundle.error_kind == "tls" and "--ca-bundle" in (broken_bundle.error or "")
    assert not_http.error_kind == "other" and not_http.status is None
