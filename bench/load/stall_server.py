"""A server that answers at once except for a 1 s pause every 10 s (the stall test's target)."""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web

PERIOD_S = 10.0
STALL_S = 1.0


def main(port: int) -> None:
    started = time.monotonic()

    async def handler(request: web.Request) -> web.StreamResponse:
        phase = (time.monotonic() - started) % PERIOD_S
        if phase >= PERIOD_S - STALL_S:
            await asyncio.sleep(PERIOD_S - phase)
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
