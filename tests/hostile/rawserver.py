"""A raw asyncio HTTP/1.1 server on 127.0.0.1 that answers each path with scripted bytes.

Written by hand so it can lie: Locations no parser accepts, redirects to private addresses,
pages full of broken references. It records (method, host, path) of every request.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


def response(status: int, body: bytes = b"", *headers: str, ctype: str = "text/html") -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def redirect(location: str, status: int = 302) -> bytes:
    return response(status, b"", f"Location: {location}")


def page(*hrefs: str, base: str | None = None) -> bytes:
    head = f'<base href="{base}">' if base is not None else ""
    body = "<html><head>" + head + "</head><body>" + "".join(f'<a href="{h}">x</a>' for h in hrefs) + "</body></html>"
    return response(200, body.encode())


@dataclass
class RawServer:
    """``pages`` maps a path (or ``host/path``) to the raw bytes sent back; anything else is a 404."""

    pages: dict[str, bytes]
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target, _ = head[0].split(" ", 2)
                host = next((ln.split(":", 1)[1].strip() for ln in head[1:] if ln.lower().startswith("host:")), "")
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
                path = target.split("?", 1)[0]
                length = next(
                    (ln.split(":", 1)[1].strip() for ln in head[1:] if ln.lower().startswith("content-length:")), "0"
                )
                await reader.readexactly(int(length))  # a request body, read so the next request starts clean
                self.requests.append((method, host, path))
                writer.write(self.pages.get(f"{host}{path}") or self.pages.get(path) or response(404, b"no"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
