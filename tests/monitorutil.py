"""Monitor test helpers: a store on SQLite or on the PostgreSQL at 127.0.0.1:5432 (one schema per run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from launchready.monitor.store.engine import open_store

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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
