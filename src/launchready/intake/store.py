"""Open the monitor store for the intake's commands.

A stand-in for the monitor's engine factory and migrations, so the intake's commands work on
their own: SQLite (WAL) by default at ``.launchready/monitor.sqlite``, PostgreSQL (psycopg 3)
for a ``postgresql://`` URL. Missing tables are created; existing ones are left as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

import launchready.monitor.store.errors_schema  # noqa: F401  (registers the intake's tables on the metadata)
from launchready.intake.errors import IntakeError
from launchready.monitor.store.schema import metadata


def store_url(url: str | None, base_dir: Path) -> str:
    if url is None:
        path = base_dir / ".launchready" / "monitor.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise IntakeError(f"--store {url}: use sqlite:///PATH or postgresql://USER@HOST/DB")


def open_store(url: str | None, base_dir: Path) -> Engine:
    resolved = store_url(url, base_dir)
    try:
        if resolved.startswith("sqlite"):
            engine = create_engine(resolved, connect_args={"timeout": 30, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        else:
            engine = create_engine(resolved, pool_pre_ping=True)
        metadata.create_all(engine)
    except (ArgumentError, SQLAlchemyError) as exc:
        raise IntakeError(
            f"cannot open the store {url or resolved}: {type(exc).__name__}: {exc}".splitlines()[0]
        ) from None
    return engine
