"""Open the monitor store for the web package until the store's own engine factory lands.

The store package will own engine creation and Alembic migrations; this module is the one place
the web side (its CLI commands, tests and benchmark) opens a store today, so swapping it for the
real factory is a one-line change for each caller.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from launchready.monitor.store.schema import metadata


def open_store_with_create_all(url: str, **engine_options: Any) -> Engine:
    """An engine on ``url`` with every table created (SQLite in WAL mode with a busy timeout)."""
    if url.startswith("sqlite"):
        engine_options.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    engine = create_engine(url, **engine_options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    metadata.create_all(engine)
    return engine
