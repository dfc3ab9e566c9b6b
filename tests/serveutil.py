"""`launchready monitor serve` as a real process, and the loopback servers its end-to-end tests drive:
a target whose health route the test switches off and on (by stopping its listener) and a webhook
receiver that records every delivery, can hold its answers, and tells acknowledged from abandoned ones.

Waits are bounded by generous deadlines so a broken build fails instead of hanging; nothing asserts
on how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

_T = TypeVar("_T")
WAIT_S = 90.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


class LoopThread:
    """An asyncio loop in a daemon thread; ``call`` runs a coroutine there and returns its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Target:
    """An HTTP app with ``/health``; ``down()`` stops listening (connection refused), ``up()`` resumes
    on the same port."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.up()

    def _app(self) -> web.Application:
        async def health(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/health", health)
        return app

    def up(self) -> None:
        async def start() -> int:
            runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self.port)
            await site.start()
            self._runner = runner
            return int(runner.addresses[0][1])

        self.port = self._loop.call(start())

    def down(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self._loop.call(runner.cleanup())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"


@dataclass
class Delivery:
    path: str
    headers: Mapping[str, str]
    body: bytes
    acknowledged: bool = False  # answered 2xx on a connection the sender still held

    @property
    def payload(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    @property
    def key(self) -> str:
        return str(self.payload["idempotency_key"])


@dataclass
class Receiver:
    """Records every POST; ``hold`` keeps answers back until released (or the sender hangs up);
    ``fail_with`` answers that status instead of 200."""

    loop: LoopThread
    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    hold: threading.Event | None = None
    fail_with: int | None = None
    _runner: web.AppRunner | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        async def receive(request: web.Request) -> web.StreamResponse:
            delivery = Delivery(request.path, dict(request.headers), await request.read())
            with self._lock:
                self.deliveries.append(delivery)
            hold = self.hold
            while hold is not None and not hold.is_set():
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # the sender is gone: never acknowledged
                await asyncio.sleep(0.02)
            if self.fail_with is not None:
                return web.Response(status=self.fail_with, text="not now")
            response = web.Response(text="ok")
            try:
                await response.prepare(request)
                await response.write_eof()
            except ConnectionError:  # the sender hung up before the answer went out
                return response
            delivery.acknowledged = request.transport is not None and not request.transport.is_closing()
            return response

        async def start() -> int:
            app = web.Application()
            app.router.add_post("/{tail:.*}", receive)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runner = runner
            return int(runner.addresses[0][1])

        self.port = self.loop.call(start())
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self.loop.call(self._runner.cleanup())

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)

    def alerts(self, kind: str, status: str) -> list[Delivery]:
        return [d for d in self.received() if d.payload.get("kind") == kind and d.payload.get("status") == status]

    def wait_for(self, kind: str, status: str, count: int = 1) -> list[Delivery]:
        wait_until(lambda: len(self.alerts(kind, status)) >= count, f"{count} {kind} {status} alert(s)")
        return self.alerts(kind, status)


@contextlib.contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A Receiver on a loop thread of its own; stopped, and the loop closed, on leaving."""
    loop = LoopThread()
    hook = Receiver(loop).start()
    try:
        yield hook
    finally:
        hook.stop()
        loop.close()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Serve:
    """``launchready monitor serve`` in a child process; stderr collected line by line."""

    def __init__(
        self,
        config: Path,
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        listen: str = "127.0.0.1:0",
    ) -> None:
        self.config = config
        self.listen = listen
        self.env = {**os.environ, **(env or {})}
        self.args = list(args)
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "launchready",
            "monitor",
            "serve",
            "--config",
            str(self.config),
            "--listen",
            self.listen,
            "--timeout",
            "2",
            *self.args,
        ]

    def start(self) -> Serve:
        self.lines = []
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.config.parent,
        )
        process = self.process

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.lines.append(line.rstrip("\n"))

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        wait_until(lambda: self.url is not None or process.poll() is not None, "monitor serve to listen")
        assert self.url is not None, "\n".join(self.lines)
        return self

    @property
    def url(self) -> str | None:
        for line in list(self.lines):
            if line.startswith("dashboard, pings and API: "):
                return line.rsplit(" ", 1)[1]
        return None

    def saw(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def wait_for_line(self, text: str) -> None:
        wait_until(lambda: self.saw(text), f"{text!r} on monitor serve's stderr")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit code (SIGKILL: -9)."""
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(60)
        if self._reader is not None:
            self._reader.join(10)
        return code

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def store_rows(store: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store) as conn:
        return conn.execute(query).fetchall()


def integrity(store: Path) -> str:
    with sqlite3.connect(store) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
