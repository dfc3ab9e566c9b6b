"""Stores and a loopback server for the error-intake tests.

``store_engine`` yields a SQLAlchemy engine over a fresh SQLite file (WAL) or over a unique
schema in the PostgreSQL at 127.0.0.1:5432 (database ``test``), dropped afterwards. Without a
reachable PostgreSQL the PostgreSQL case is skipped with the reason printed, unless ``CI`` is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

import launchready.monitor.store.errors_schema  # noqa: F401  (registers the intake's tables)
from tests.monitorutil import store_engine  # noqa: F401  (re-exported: one store fixture for every monitor test)


@contextmanager
def serve(routes: list[BaseRoute], tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve the routes with uvicorn on an ephemeral loopback port; yields the base URL.

    ``tls``: (certificate, key) files: HTTPS instead of HTTP.
    """
    app = Starlette(routes=routes)
    certfile, keyfile = tls if tls is not None else (None, None)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )
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
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
