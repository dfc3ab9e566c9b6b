"""A lean HTTP/1.1 keep-alive client on asyncio.Protocol, for the load generator only.

Why not aiohttp's client here: a load generator spends its whole budget in the client, and
aiohttp's per-request machinery (futures, tracing hooks, cookie jar, stream readers) caps it near
Locust's rate per core (see bench/load). This client does the minimum a GET needs: a request
prebuilt as bytes, a response parsed from the buffer in ``data_received`` (status line,
Content-Length or chunked, Connection: close), and a callback, with no per-request future. It
speaks HTTP/1.1 without pipelining (one request in flight per connection, as browsers and most
load tools do). Everything else in launchready uses aiohttp.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_MAX_HEADER_BYTES = 64 * 1024
_READ_BUFFER_BYTES = 256 * 1024
# Errors that mean "the login stopped working" start with this (the generator counts them apart).
AUTH_LOST = "auth lost: "
# A redirect whose target path looks like a login page (login, signin, sign_in, auth, sso, session).
# "HTTP/1.x NNN", the status line's start (the reason phrase may be empty or anything).
_STATUS_LINE = re.compile(rb"HTTP/1\.([0-9]) ([0-9]{3})(?:[ \r]|$)")
# The response headers framing and redirects depend on, in a lower-cased head.
_FRAMING_HEADERS = re.compile(rb"\r\n(content-length|transfer-encoding|connection|location)[ \t]*:([^\r]*)")
_LOGIN_PATH = re.compile(r"log-?in|sign[-_]?in|/auth\b|/sso\b|/session", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    """Where a request goes and what it is; ``request`` is the exact bytes sent."""

    name: str
    url: str
    host: str  # the name in Host and SNI
    port: int
    tls: bool
    method: str
    request: bytes
    dial: tuple[str, int]  # the address actually dialled (--connect-to, else DNS)
    # Sent with a smoke-flow login: a 401/403 or a redirect to a login page is then an error.
    authenticated: bool = False
    auth: str | None = None  # how it is authenticated, secrets masked (for reports)

    @property
    def head(self) -> bool:
        return self.method == "HEAD"


def build_request(
    method: str, host: str, port: int, tls: bool, path_qs: str, user_agent: str, headers: Sequence[tuple[str, str]] = ()
) -> bytes:
    """The request bytes; ``headers`` are extra lines (Cookie, Authorization), never containing CR or LF."""
    default_port = 443 if tls else 80
    authority = host if port == default_port else f"{host}:{port}"
    lines = [
        f"{method} {path_qs} HTTP/1.1",
        f"Host: {authority}",
        f"User-Agent: {user_agent}",
        "Accept: */*",
        "Accept-Encoding: identity",
    ]
    for name, value in headers:
        if any(c in name + value for c in "\r\n\0"):
            raise ValueError(f"header {name}: a line break or NUL in the name or value")
        lines.append(f"{name}: {value}")
    lines += ["", ""]
    # UTF-8 keeps any captured value intact on the wire (servers read header bytes as opaque).
    return "\r\n".join(lines).encode("utf-8")


def auth_failure(status: int, location: str | None) -> str | None:
    """Why a response to an authenticated request means the login no longer works, or None."""
    if status in (401, 403):
        return f"{AUTH_LOST}HTTP {status}"
    if 300 <= status < 400 and location is not None:
        # Only the path: a query string may carry a token or the original URL.
        path = location.split("?", 1)[0].split("#", 1)[0]
        if _LOGIN_PATH.search(path):
            return f"{AUTH_LOST}HTTP {status} to {path[:80]}"
    return None


@dataclass(slots=True)
class Pending:
    """One scheduled request; ``scheduled``, ``queued`` and ``sent`` are loop.time() values.

    ``scheduled -> sent`` is the time the request waited inside the generator (``queued``, when
    set, is when it started waiting for a free connection); ``sent -> done`` is its time on the
    wire. 0.0 means "did not happen".
    """

    endpoint: Endpoint
    scheduled: float
    sent: float = 0.0
    queued: float = 0.0
    # An anonymous request answered like a protected page (401/403, redirect to a login page).
    login_wall: bool = False


# (pending, status or None, body bytes, error text or None, completion time)
DoneCallback = Callable[[Pending, int | None, int, str | None, float], None]


class ResponseParser:
    """Incremental HTTP/1.1 response parser: feed bytes, get (status, body size, keep_alive).

    Interim 1xx responses (100 Continue, 103 Early Hints) are skipped: the final response follows
    on the same connection. Responses to HEAD, and 204 and 304 responses, have no body whatever
    their headers say. ``extra`` is the number of bytes that arrived after the response ended:
    with one request in flight they answer nothing, so the connection is out of step.
    """

    __slots__ = (
        "_buf",
        "_head",
        "status",
        "_length",
        "_chunked",
        "_until_close",
        "_keep_alive",
        "_no_body",
        "_body",
        "_in_body",
        "_chunk_left",
        "_chunk_trailer",
        "location",
        "interim",
        "extra",
    )

    def __init__(self, head_request: bool) -> None:
        self._buf = bytearray()
        self._head = head_request
        self.status: int | None = None
        self._length: int | None = None
        self._chunked = False
        self._until_close = False
        self._keep_alive = True
        self._no_body = False
        self._body = 0
        self._in_body = False
        self._chunk_left = 0  # bytes left in the current chunk, plus its CRLF
        self._chunk_trailer = False
        self.location: str | None = None
        self.interim = 0  # 1xx responses skipped
        self.extra = 0

    def feed(self, data: bytes) -> tuple[int, int, bool] | None:
        """Returns (status, body_size, keep_alive) once the response is complete; raises ValueError on junk."""
        if not self._in_body and not self._buf:
            # The common case on a keep-alive connection: a whole response with a length in one read,
            # parsed without copying it into the buffer.
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                self._parse_head(data[:end])
                if self._in_body:
                    rest = len(data) - end - 4
                    if self._no_body:
                        return self._done_fast(0, rest)
                    length = self._length
                    if length is not None and not self._chunked and rest >= length:
                        return self._done_fast(length, rest - length)
                data = data[end + 4 :]
        buf = self._buf
        buf += data
        while not self._in_body:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEADER_BYTES:
                    raise ValueError("response headers too large")
                return None
            self._parse_head(bytes(buf[:end]))
            del buf[: end + 4]
            if self._in_body and self._no_body:
                return self._complete(0, 0)
        if self._chunked:
            return self._feed_chunked()
        if self._length is not None:
            if len(buf) >= self._length:
                return self._complete(self._length, self._length)
            return None
        # No length: the body ends when the server closes (see finish_on_close).
        self._body += len(buf)
        buf.clear()
        return None

    def _done_fast(self, size: int, extra: int) -> tuple[int, int, bool]:
        assert self.status is not None
        self.extra = extra
        return self.status, size, self._keep_alive and not extra

    def finish_on_close(self) -> tuple[int, int, bool] | None:
        if self._in_body and self._until_close and self.status is not None:
            return self.status, self._body, False
        return None

    def _complete(self, size: int, consumed: int) -> tuple[int, int, bool]:
        assert self.status is not None
        self.extra = len(self._buf) - consumed
        return self.status, size, self._keep_alive and not self.extra

    def _parse_head(self, head: bytes) -> None:
        status_line = _STATUS_LINE.match(head)
        if status_line is None:
            raise ValueError(f"not an HTTP/1.x status line: {head[:60]!r}")
        minor, code = status_line.groups()
        status = int(code)
        if status < 200:
            if status == 101:
                raise ValueError("101 Switching Protocols, which no request asked for")
            # Interim: its headers (Link, for Early Hints) describe the final response, not this one.
            self.interim += 1
            return
        self.status = status
        self._in_body = True
        self._no_body = self._head or status == 204 or status == 304
        if minor == b"0":
            self._keep_alive = False
        # One regex pass in C over the lower-cased head for the four headers framing depends on.
        for match in _FRAMING_HEADERS.finditer(head.lower()):
            name, value = match.groups()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit():
                    raise ValueError(f"Content-Length {value[:20]!r} is not a number")
                if self._length is None:
                    self._length = int(value)
            elif name == b"connection":
                value = value.strip()
                if value == b"keep-alive":
                    self._keep_alive = True
                    continue
                tokens = {t.strip() for t in value.split(b",")}
                if b"close" in tokens:
                    self._keep_alive = False
                elif b"keep-alive" in tokens:
                    self._keep_alive = True
            elif name == b"transfer-encoding":
                if b"chunked" in value:
                    self._chunked = True
            elif self.location is None:
                # Location keeps its case: the bytes at the same place in the original head.
                self.location = head[match.start(2) : match.end(2)].strip().decode("latin-1")
        if self._no_body:
            return
        if self._chunked:
            self._length = None
        elif self._length is None:
            self._until_close = True
            self._keep_alive = False

    def _feed_chunked(self) -> tuple[int, int, bool] | None:
        buf = self._buf
        while True:
            if self._chunk_trailer:
                end = buf.find(b"\r\n")
                if end < 0:
                    return None
                del buf[: end + 2]
                if end == 0:
                    return self._complete(self._body, 0)
                continue
            if self._chunk_left:
                take = min(self._chunk_left, len(buf))
                del buf[:take]
                self._chunk_left -= take
                if self._chunk_left:
                    return None
                continue
            end = buf.find(b"\r\n")
            if end < 0:
                return None
            size = int(bytes(buf[:end]).split(b";", 1)[0].strip() or b"0", 16)
            del buf[: end + 2]
            if size == 0:
                self._chunk_trailer = True
                continue
            self._body += size
            self._chunk_left = size + 2


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection. Buffered: the transport reads into the pool's shared buffer.

    A plain Protocol gets a new bytes object from ``recv(256 KiB)`` on every read, and allocating
    and releasing that much per response cost this client most of its CPU (bench/load). Reads land
    in one buffer per pool instead (the loop is single-threaded and every read is copied out at
    once, so connections never see each other's bytes).
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self.transport: asyncio.Transport | None = None
        self.current: Pending | None = None
        self._parser: ResponseParser | None = None
        self.closed = False

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._pool.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._pool.read_buffer[:nbytes].tobytes())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, pending: Pending, now: float) -> None:
        assert self.transport is not None
        self.current = pending
        pending.sent = now
        self._parser = ResponseParser(pending.endpoint.head)
        self.transport.write(pending.endpoint.request)

    def data_received(self, data: bytes) -> None:
        parser, pending = self._parser, self.current
        if parser is None or pending is None:
            # A response nobody asked for: the connection is out of step, and a later request
            # on it could be matched with a stale answer.
            self._pool.stats.unsolicited += 1
            self.abort()
            return
        try:
            done = parser.feed(data)
        except ValueError as exc:
            self._fail(f"protocol error: {exc}")
            return
        if done is None:
            return
        status, size, keep_alive = done
        self.current = None
        self._parser = None
        if parser.extra:
            self._pool.stats.unsolicited += 1
        if not keep_alive:
            self.abort()
        error = None
        if 300 <= status < 400 or status in (401, 403):
            wall = auth_failure(status, parser.location)
            if pending.endpoint.authenticated:
                error = wall
            else:
                pending.login_wall = wall is not None
        self._pool.finished(self, pending, status, size, error, keep_alive)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        pending, parser = self.current, self._parser
        self.current = None
        if pending is not None:
            done = parser.finish_on_close() if parser is not None else None
            if done is not None:
                self._pool.finished(self, pending, done[0], done[1], None, False)
            else:
                reason = f"connection lost: {exc}" if exc else "connection closed before the response ended"
                self._pool.finished(self, pending, None, 0, reason, False)
        self._pool.lost(self)

    def _fail(self, reason: str) -> None:
        pending = self.current
        self.current = None
        self.abort()
        if pending is not None:
            self._pool.finished(self, pending, None, 0, reason, False)

    def timeout(self, reason: str) -> None:
        self._fail(reason)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


@dataclass
class PoolStats:
    connects: int = 0
    connect_errors: int = 0
    queued_max: int = 0
    unsolicited: int = 0  # responses (or bytes) that arrived with no request waiting for them


@dataclass
class Pool:
    """Keep-alive connections to one (dial address, host, TLS) with at most ``limit`` open."""

    endpoint_key: tuple[str, int, str, bool]
    limit: int
    on_done: DoneCallback
    ssl_context: ssl.SSLContext | None
    connect_timeout: float
    idle: deque[_Connection] = field(default_factory=deque)
    busy: set[_Connection] = field(default_factory=set)
    waiting: deque[Pending] = field(default_factory=deque)
    connecting: int = 0
    stats: PoolStats = field(default_factory=PoolStats)
    closed: bool = False
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    # Where every connection of the pool reads (see _Connection).
    read_buffer: memoryview = field(default_factory=lambda: memoryview(bytearray(_READ_BUFFER_BYTES)))

    def submit(self, pending: Pending, now: float) -> None:
        while self.idle:
            conn = self.idle.popleft()
            if not conn.closed:
                self.busy.add(conn)
                conn.send(pending, now)
                return
        if len(self.busy) + self.connecting >= self.limit:
            pending.queued = now  # every connection the pool may have is busy: saturation
        self.waiting.append(pending)
        self.stats.queued_max = max(self.stats.queued_max, len(self.waiting))
        if len(self.busy) + self.connecting < self.limit and self.connecting < len(self.waiting):
            self.connecting += 1
            self.loop.create_task(self._connect(pending.endpoint))

    async def _connect(self, endpoint: Endpoint) -> None:
        loop = asyncio.get_running_loop()
        address, port = endpoint.dial
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(self),
                    address,
                    port,
                    ssl=self.ssl_context if endpoint.tls else None,
                    server_hostname=endpoint.host if endpoint.tls else None,
                ),
                timeout=self.connect_timeout,
            )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            self.connecting -= 1
            self.stats.connect_errors += 1
            # Fail one waiting request per failed connect: the error is real, and an open model
            # keeps sending, so a dead server shows as errors instead of an ever-growing queue.
            if self.waiting:
                failed = self.waiting.popleft()
                self.on_done(failed, None, 0, f"connect to {address}:{port} failed: {_describe(exc)}", loop.time())
            return
        self.connecting -= 1
        self.stats.connects += 1
        if self.closed:
            protocol.abort()
            return
        self._give(protocol, loop.time())

    def _give(self, conn: _Connection, now: float) -> None:
        if conn.closed:
            return
        if self.waiting:
            self.busy.add(conn)
            conn.send(self.waiting.popleft(), now)
        else:
            self.busy.discard(conn)
            self.idle.append(conn)

    def finished(
        self, conn: _Connection, pending: Pending, status: int | None, size: int, error: str | None, keep_alive: bool
    ) -> None:
        now = self.loop.time()
        self.busy.discard(conn)
        self.on_done(pending, status, size, error, now)
        if keep_alive and not conn.closed:
            self._give(conn, now)
        elif self.waiting and len(self.busy) + self.connecting < self.limit:
            self.connecting += 1
            self.loop.create_task(self._connect(self.waiting[0].endpoint))

    def lost(self, conn: _Connection) -> None:
        self.busy.discard(conn)

    def expire(self, now: float, timeout: float) -> None:
        """Fail requests older than ``timeout`` seconds since they were scheduled."""
        for conn in list(self.busy):
            pending = conn.current
            if pending is not None and now - pending.scheduled > timeout:
                conn.timeout(f"no complete response within {timeout:g}s")
        while self.waiting and now - self.waiting[0].scheduled > timeout:
            self.on_done(self.waiting.popleft(), None, 0, f"not sent within {timeout:g}s (all connections busy)", now)

    @property
    def in_flight(self) -> int:
        return len(self.waiting) + sum(1 for c in self.busy if c.current is not None)

    def close(self) -> None:
        self.closed = True
        for conn in [*self.idle, *self.busy]:
            conn.abort()
        self.idle.clear()
        self.busy.clear()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__
