"""A raw-socket HTTP/1.1 server for crawler tests: scripted pages, hostile answers, a request log.

It speaks just enough HTTP by hand so it can also misbehave (malformed status line, a 1 MB header
block, a 50 MB body, endless redirects) and records the method and Host of every request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

Page = Callable[[str, str], bytes | None]  # (host, path) -> raw response, or None for 404


@dataclass
class CrawlServer:
    pages: dict[str, bytes]
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, host, target)
    port: int = 0
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> CrawlServer:
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
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                host = next((ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.lower().startswith("host:")), "")
                host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
                self.requests.append((method, host, target))
                path = target.split("?", 1)[0]
                if path == "/big":
                    await self._big(writer)
                    return
                if path.startswith("/loop/"):
                    n = int(path.rsplit("/", 1)[1])
                    writer.write(_response(302, b"", f"Location: /loop/{n + 1}\r\n"))
                else:
                    writer.write(
                        self.pages.get(f"{host}{path}") or self.pages.get(path) or _response(404, b"not found")
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _big(writer: asyncio.StreamWriter) -> None:
        """50 MB announced and streamed until the client hangs up."""
        size = 50 * 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        sent = 0
        while sent < size:
            writer.write(chunk)
            sent += len(chunk)
            await writer.drain()


def _response(status: int, body: bytes, extra: str = "", ctype: str = "text/html") -> bytes:
    reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}.get(status, "X")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def html(*hrefs: str, extra: str = "") -> bytes:
    body = "<html><body>" + "".join(f'<a href="{h}">{h}</a>' for h in hrefs) + extra + "</body></html>"
    return _response(200, body.encode())


def raw(data: bytes) -> bytes:
    return data


MALFORMED = b"HTTP/1.1 two-hundred OK\r\nContent-Length: 2\r\n\r\nok"
HUGE_HEADERS = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * (1024 * 1024) + b"\r\nContent-Length: 2\r\n\r\nok"
