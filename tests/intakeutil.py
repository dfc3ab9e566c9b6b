"""Stores and a loopback server for the error-intake tests.

``store_engine`` yields a SQLAlchemy engine over a fresh SQLite file (WAL) or over a unique
schema in the PostgreSQL at 127.0.0.1:5432 (database ``test``), dropped afterwards. Without a
reachable PostgreSQL the PostgreSQL case is skipped with the reason printed, unless ``CI`` is set.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, event, text
from starlette.applications import Starlette
from starlette.routing import BaseRoute

import launchready.monitor.store.errors_schema  # noqa: F401  (registers the intake's tables)
from launchready.monitor.store.schema import metadata

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    metadata.create_all(engine)
    return engine


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    schema = f"intake_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server: skip unless CI demands it
        admin.dispose()
        if os.environ.get("CI"):
            raise
        print(f"PostgreSQL at 127.0.0.1:5432 not reachable ({type(exc).__name__}): skipping")
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 not reachable: {exc}")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def store_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = sqlite_engine(tmp_path / "monitor.sqlite")
        try:
            yield engine
        finally:
            engine.dispose()
    else:
        with postgres_engine() as engine:
            yield engine


@contextmanager
def serve(routes: list[BaseRoute]) -> Iterator[str]:
    """Serve the routes with uvicorn on an ephemeral loopback port; yields the base URL."""
    app = Starlette(routes=routes)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="intake-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
