"""Shared helpers for the monitor web tests: the store on SQLite or PostgreSQL, the app served by
uvicorn on a loopback port, and a small real-HTTP client with a cookie jar."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette

from tests.monitorutil import store_engine  # noqa: F401  (re-exported: one store fixture for every monitor test)


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
