"""Shared helpers for the monitor web tests: the store on SQLite or PostgreSQL, the app served by
uvicorn on a loopback port, and a small real-HTTP client with a cookie jar."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text
from starlette.applications import Starlette

from launchready.monitor.store.engine import migrate, open_store

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it is a reason to skip outside CI
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@contextmanager
def store_engine(kind: str, tmp_path: Any) -> Iterator[Engine]:
    """An empty monitor store: a SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        engine = open_store(f"sqlite:///{tmp_path}/monitor.sqlite")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required when CI is set: {problem}")
        print(f"skipping the PostgreSQL store: 127.0.0.1:5432 unreachable ({problem})")
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unreachable ({problem})")
    schema = f"monweb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_ADMIN_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class ServedApp:
    host: str
    port: int
    tls: ssl.SSLContext | None = None  # the client's context when served over TLS

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"


@contextmanager
def serve(app: Starlette, tls: tuple[Path, Path, Path] | None = None) -> Iterator[ServedApp]:
    """Run ``app`` with uvicorn on an ephemeral loopback port in a background thread; over TLS
    when ``tls`` is (certificate, key, CA bundle the client trusts)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    tls_options = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **tls_options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        client_tls = ssl.create_default_context(cafile=str(tls[2])) if tls else None
        yield ServedApp("127.0.0.1", port, client_tls)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """Plain HTTP/1.1 with a cookie jar; redirects are returned, not followed."""

    served: ServedApp
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookie_headers: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if form is not None:
            body = urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn: http.client.HTTPConnection
        if self.served.tls is not None:
            conn = http.client.HTTPSConnection(self.served.host, self.served.port, timeout=30, context=self.served.tls)
        else:
            conn = http.client.HTTPConnection(self.served.host, self.served.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("set-cookie") or []:
            self.set_cookie_headers.append(header)
            parsed = SimpleCookie()
            parsed.load(header)
            for key, morsel in parsed.items():
                if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return Reply(response.status, response.headers, data)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)
