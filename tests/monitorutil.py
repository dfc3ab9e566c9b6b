"""Monitor test helpers: a store on SQLite or on the PostgreSQL at 127.0.0.1:5432 (one schema per run)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from launchready.monitor.store.engine import open_store

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The session advisory lock that one_serve_on_pg_at_a_time holds ("lr-tests" in ASCII); the
# monitor's own keys are other words.
_SERVE_ON_PG_LOCK = 0x6C722D7465737473


def _pg_reachable() -> str | None:
    """None when reachable, else why not."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable here"
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return None


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A postgresql:// URL whose search_path is a fresh schema, dropped afterwards.

    With CI set the server must be there (a failure, not a skip); without CI an unreachable
    server skips the test and prints why.
    """
    problem = _pg_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required under CI: {problem}")
        print(f"skipping: no PostgreSQL at 127.0.0.1:5432 ({problem})")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432 ({problem})")
    schema = f"monitor_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def store_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated store of ``kind`` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        engine = open_store(f"sqlite:///{tmp_path / 'monitor.sqlite'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with pg_schema_url() as url:
        engine = open_store(url)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def one_serve_on_pg_at_a_time(timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the test suite's own advisory lock on the database ``test`` while the block runs.

    `monitor serve` on PostgreSQL runs its alert worker and SLO evaluator under session advisory
    locks, and advisory locks belong to the database, not to a schema: two tests serving at once
    (pytest-xdist workers, each in its own schema) would wait on each other's locks. Tests that
    serve on PostgreSQL take this first, so they run one after the other.
    """
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            deadline = time.monotonic() + timeout_s
            while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _SERVE_ON_PG_LOCK}).scalar():
                conn.commit()
                assert time.monotonic() < deadline, f"another test kept serving on PostgreSQL for over {timeout_s:g} s"
                time.sleep(0.2)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SERVE_ON_PG_LOCK})
                conn.commit()
    finally:
        engine.dispose()
