"""Link liveness against a real HTTPS server on loopback (lab CA, reached through --connect-to):
HEAD then GET, redirects, dead and refused links, the private-address rule and the bounds."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from launchready.core.net import ConnectTo, NetSettings
from launchready.lab.ca import LabCA
from launchready.mailtest.links import LinkReport, check_links, dialable
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe
from tests.netutil import closed_port

HOST = "app.mailtest.test"
DEAD_HOST = "gone.mailtest.test"


def _app() -> web.Application:
    app = web.Application()

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def gone(_: web.Request) -> web.Response:
        return web.Response(status=404, text="no such page")

    async def head_refused(request: web.Request) -> web.Response:
        # A framework that answers only GET: HEAD is 405, GET works.
        return web.Response(status=405) if request.method == "HEAD" else web.Response(text="ok")

    async def redirect(_: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def to_private(_: web.Request) -> web.Response:
        raise web.HTTPFound("https://10.1.2.3/internal")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def login_wall(_: web.Request) -> web.Response:
        return web.Response(status=401, text="log in")

    async def reset_token(_: web.Request) -> web.Response:
        return web.Response(text="choose a new password")

    app.router.add_route("*", "/ok", ok)
    app.router.add_route("*", "/gone", gone)
    app.router.add_route("*", "/head-refused", head_refused)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_route("*", "/loop", loop)
    app.router.add_route("*", "/to-private", to_private)
    app.router.add_route("*", "/broken", broken)
    app.router.add_route("*", "/account", login_wall)
    app.router.add_route("*", "/reset/{token}", reset_token)
    return app


async def _with_server(body: Callable[[NetSettings], Coroutine[Any, Any, LinkReport]]) -> LinkReport:
    ca = LabCA.create()
    issued = ca.issue([HOST])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        cert, key = issued.write(Path(directory), "app")
        context.load_cert_chain(cert, key)
        bundle = ca.write_bundle(Path(directory) / "ca.pem")
        runner = web.AppRunner(_app(), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        net = NetSettings(
            ca_bundle=bundle,
            timeout=5,
            connect_to=(ConnectTo(HOST, 443, "127.0.0.1", port), ConnectTo(DEAD_HOST, 443, "127.0.0.1", closed_port())),
        )
        try:
            return await body(net)
        finally:
            await runner.cleanup()


async def _check(net: NetSettings, links: list[str], images: list[str] = (), **kw: Any) -> LinkReport:  # type: ignore[assignment]
    dns = DnsProbe(net)
    http = HttpProbe(net, dns)
    try:
        return await check_links(http, net, links, images, **kw)
    finally:
        await http.close()
        await dns.close()


def test_live_and_dead_links() -> None:
    links = [
        f"https://{HOST}/ok",
        f"https://{HOST}/gone",
        f"https://{HOST}/head-refused",
        f"https://{HOST}/redirect",
        f"https://{HOST}/loop",
        f"https://{HOST}/to-private",
        f"https://{HOST}/broken",
        f"https://{HOST}/account",
        f"https://{HOST}/reset/Zx9c8v7b6n5m4a3s2d1f0g9h8j7k",
        f"https://{DEAD_HOST}/welcome",
        "http://localhost:3000/verify",  # a content finding already; never dialled
        "mailto:help@example.com",
        f"https://{HOST}/ok",  # repeated: asked once
    ]
    report = asyncio.run(_with_server(lambda net: _check(net, links, [f"https://{HOST}/gone"])))
    by_url = {c.url: c for c in report.checks}
    assert len(report.checks) == 10 and report.not_checked == ()
    assert [(c.alive, c.status) for c in (by_url[f"https://{HOST}/ok"], by_url[f"https://{HOST}/head-refused"])] == [
        (True, 200),
        (True, 200),
    ]
    assert by_url[f"https://{HOST}/redirect"].detail == "200 after 1 redirect(s)"
    assert by_url[f"https://{HOST}/account"].alive
    assert (by_url[f"https://{HOST}/gone"].alive, by_url[f"https://{HOST}/gone"].detail) == (False, "404")
    assert not by_url[f"https://{HOST}/broken"].alive
    assert by_url[f"https://{HOST}/loop"].detail.startswith("a redirect loop")
    assert "10.1.2.3 is a private address" in by_url[f"https://{HOST}/to-private"].detail
    assert by_url[f"https://{DEAD_HOST}/welcome"].detail.startswith("no answer: refused")
    # Tokens in the path are masked in evidence.
    assert "Zx9c8v7b6n5m4a3s2d1f0g9h8j7k" not in by_url[f"https://{HOST}/reset/Zx9c8v7b6n5m4a3s2d1f0g9h8j7k"].evidence()
    # The same URL as an image was already asked as a link: one request, reported once.
    assert sum(1 for c in report.checks if c.url == f"https://{HOST}/gone") == 1
    assert {c.url for c in report.dead} == {
        f"https://{HOST}/gone",
        f"https://{HOST}/loop",
        f"https://{HOST}/to-private",
        f"https://{HOST}/broken",
        f"https://{DEAD_HOST}/welcome",
    }


def test_count_bound_leaves_the_rest_not_checked() -> None:
    links = [f"https://{HOST}/ok?n={n}" for n in range(5)]
    report = asyncio.run(_with_server(lambda net: _check(net, links, max_links=2)))
    assert len(report.checks) == 2 and all(c.alive for c in report.checks)
    assert len(report.not_checked) == 3 and report.reason_not_checked == "3 past the first 2"


def test_what_is_dialled() -> None:
    assert dialable("https://app.example.com/x")
    assert not dialable("https://127.0.0.1/x") and not dialable("http://intranet/x")
    assert not dialable("mailto:a@b.c") and not dialable("/relative") and not dialable("https://[::1/")
