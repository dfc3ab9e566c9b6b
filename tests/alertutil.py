"""Loopback receivers and stores for the alert tests: a webhook/Slack receiver counting deliveries
by idempotency key, SQLite (WAL) and PostgreSQL stores in a schema of their own per test."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from monitorutil import store_engine  # noqa: F401  (re-exported: one store fixture for every monitor test)
from sqlalchemy import Engine, create_engine, event, text

from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import metadata

PG_URL = os.environ.get("LAUNCHREADY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


@dataclass
class Receiver:
    """An aiohttp server in a thread. ``fail_next`` answers that many requests with ``fail_status``
    (500) and ``fail_headers``; ``delay``
    holds each answer; ``hang`` never answers (a dead endpoint that accepts connections)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    fail_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    seen: threading.Event = field(default_factory=threading.Event)
    seen_at_least: int = 1
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def keys(self) -> Counter[str]:
        """Deliveries per idempotency key (the header every alert delivery carries)."""
        with self._lock:
            return Counter(r.headers.get("Idempotency-Key", "") for r in self.received if r.path == "/hook")

    def bodies(self, path: str = "/hook") -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.hang:
            await asyncio.sleep(3600)
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.Response(status=self.fail_status, text="try later", headers=self.fail_headers)
            self.received.append(Received(request.path, dict(request.headers), body))
            if len(self.received) >= self.seen_at_least:
                self.seen.set()
        return web.Response(text="ok")

    def _serve(self, ready: threading.Event) -> None:
        async def main() -> None:
            app = web.Application()
            app.add_routes([web.post("/{tail:.*}", self._handle)])
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self.port)
            await site.start()
            self.port = runner.addresses[0][1]
            ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.02)
            await runner.cleanup()

        asyncio.run(main())

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        ready = threading.Event()
        self._stop.clear()
        thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        thread.start()
        assert ready.wait(10), "receiver did not start"
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(10)


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: object, _: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    metadata.create_all(engine)
    return engine


def postgres_available() -> bool:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable here"
        return False


def skip_without_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} and CI is set")
    print(f"skipping: PostgreSQL not reachable at {PG_URL}")
    pytest.skip(f"PostgreSQL not reachable at {PG_URL} (CI unset)")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema named for this test run, dropped afterwards."""
    schema = f"lr_alerts_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_engine(schema: str, *, create: bool = False) -> Engine:
    engine = create_engine(PG_URL, pool_size=8).execution_options(schema_translate_map={None: schema})
    if create:
        with engine.begin() as conn:
            metadata.create_all(conn)
    return engine


def flip(
    engine: Engine,
    name: str,
    old: str,
    new: str,
    at: float,
    providers: list[str],
    *,
    kind: str = "check",
    reason: str | None = "connection refused",
) -> int:
    with engine.begin() as conn:
        return record_flip(
            conn,
            subject_kind=kind,
            subject_name=name,
            old_state=old,
            new_state=new,
            at=at,
            reason=reason,
            providers=providers,
        )
