"""Loopback servers for monitor tests: a small HTTP(S) app the tests start and stop."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

SECRET = "s3cr3t-token-value-0123456789"


def health_app() -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "queue": 3})

    async def degraded(_: web.Request) -> web.Response:
        return web.json_response({"status": "degraded"})

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=503, text=f"upstream failed: password={SECRET}")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/degraded", degraded)
    app.router.add_get("/broken", broken)
    app.router.add_get("/slow", slow)
    return app


@asynccontextmanager
async def serve_http(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """Serve :func:`health_app` on 127.0.0.1; yields the port."""
    runner = web.AppRunner(health_app(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()
