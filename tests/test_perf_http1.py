"""The load client's HTTP/1.1 framing against raw-socket servers on loopback that answer byte by byte.

Each server reads request heads and writes exactly the bytes a test scripts (interim 1xx
responses, Connection: close without closing, unrequested responses, bodiless responses with
misleading headers), and counts the connections and requests it saw, so the tests can tell a
connection that was reused from one that was (rightly) given up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from launchready.perf.generator import LoadResult, LoadSettings, run_load
from launchready.perf.http1 import Endpoint, ResponseParser, build_request

# (the request head, its number on the connection from 0) -> bytes to write, then optional bytes
# written a little later (an unsolicited answer on a connection that looks idle).
Script = Callable[[bytes, int], tuple[bytes, bytes]]
_LATE_S = 0.03


@dataclass
class Seen:
    port: int = 0
    connections: int = 0
    requests_per_connection: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.requests_per_connection)


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[Seen]:
    seen = Seen()
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = seen.connections
        seen.connections += 1
        seen.requests_per_connection.append(0)
        writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                number = seen.requests_per_connection[index]
                seen.requests_per_connection[index] += 1
                now, later = script(head, number)
                writer.write(now)
                await writer.drain()
                if later:
                    await asyncio.sleep(_LATE_S)
                    writer.write(later)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client closed, or the test is over
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    seen.port = server.sockets[0].getsockname()[1]
    try:
        yield seen
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


def endpoint(port: int, method: str = "GET") -> Endpoint:
    request = build_request(method, "lab.test", port, False, "/", "launchready-test")
    return Endpoint("ep", f"http://lab.test:{port}/", "lab.test", port, False, method, request, ("127.0.0.1", port))


def load(script: Script, *, method: str = "GET", rate: float = 20, duration_s: float = 1) -> tuple[LoadResult, Seen]:
    """A slow, serial load (one request at a time at this rate): a kept-alive connection is reused.

    The pool holds one connection: on a busy machine a late answer would otherwise let the client
    open a second connection beside a reusable one, and a count of connections would then say
    nothing about reuse. With one, every new connection means the last one was given up.
    """

    async def main() -> tuple[LoadResult, Seen]:
        async with raw_server(script) as seen:
            result = await run_load(
                [endpoint(seen.port, method)],
                LoadSettings(rate=rate, duration_s=duration_s, connections=1, timeout_s=2, drain_s=2),
            )
            return result, seen

    return asyncio.run(main())


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_interim_responses_are_skipped_and_the_final_one_counts() -> None:
    def early_hints(head: bytes, number: int) -> tuple[bytes, bytes]:
        interim = (
            b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload; as=style\r\n\r\n"
            if number % 2 == 0
            else b"HTTP/1.1 100 Continue\r\n\r\n"
        )
        return interim + OK, b""

    result, seen = load(early_hints)
    stats = result.endpoints["ep"]
    assert stats.statuses == {"200": 20} and stats.ok == 20 and stats.mean_bytes == 2
    # Interim responses neither end the exchange nor leave the final answer for the next request.
    assert result.watch.unsolicited == 0
    assert seen.connections == 1 and seen.requests == 20


def test_interim_response_split_from_the_final_one_across_reads() -> None:
    raw = b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    for cut in range(1, len(raw)):
        parser = ResponseParser(head_request=False)
        assert parser.feed(raw[:cut]) is None
        assert parser.feed(raw[cut:]) == (200, 5, True)
        assert parser.interim == 1 and parser.extra == 0


def test_connection_close_is_honoured_even_when_the_server_keeps_the_socket_open() -> None:
    def close_but_linger(head: bytes, number: int) -> tuple[bytes, bytes]:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, close\r\n\r\nok", b""

    result, seen = load(close_but_linger)
    # Each request on a fresh connection: none was sent on a connection the server said it closes
    # (it would never be answered here, and would time out).
    assert result.ok == 20 and result.errors == 0
    assert seen.connections == 20 and seen.requests_per_connection == [1] * 20


@pytest.mark.alone  # the late answer must reach an idle connection before the next request: timing
def test_a_response_nobody_asked_for_kills_the_connection_and_is_counted() -> None:
    answered = [0]

    def twice(head: bytes, number: int) -> tuple[bytes, bytes]:
        # For the first five requests a second answer follows the first, while the connection is idle.
        answered[0] += 1
        return OK, b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n" if answered[0] <= 5 else b""

    result, seen = load(twice, rate=10)
    assert result.ok == 10 and result.errors == 0
    assert result.watch.unsolicited == 5
    # Never matched with the next request: each of those connections was given up, then one was kept.
    assert seen.requests_per_connection == [1, 1, 1, 1, 1, 5]


def test_bytes_after_the_response_in_the_same_read_are_counted_as_unsolicited() -> None:
    def doubled(head: bytes, number: int) -> tuple[bytes, bytes]:
        return OK + OK, b""

    result, seen = load(doubled, rate=10)
    assert result.ok == 10 and result.watch.unsolicited == 10
    assert seen.connections == 10


def test_head_responses_have_no_body_whatever_content_length_says() -> None:
    def head_answer(head: bytes, number: int) -> tuple[bytes, bytes]:
        assert head.startswith(b"HEAD / HTTP/1.1\r\n")
        return b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/html\r\n\r\n", b""

    result, seen = load(head_answer, method="HEAD")
    assert result.ok == 20 and result.errors == 0 and result.endpoints["ep"].mean_bytes == 0
    assert result.watch.unsolicited == 0
    assert seen.connections == 1 and seen.requests == 20


def test_204_and_304_have_no_body_and_keep_the_connection() -> None:
    def bodiless(head: bytes, number: int) -> tuple[bytes, bytes]:
        # Neither carries Content-Length: a client waiting for the close would hang or drop the connection.
        if number % 2 == 0:
            return b"HTTP/1.1 204 No Content\r\nServer: raw\r\n\r\n", b""
        return b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n', b""

    result, seen = load(bodiless)
    stats = result.endpoints["ep"]
    assert stats.statuses == {"204": 10, "304": 10} and stats.ok == 20 and stats.bytes == 0
    assert result.watch.unsolicited == 0
    assert seen.connections == 1 and seen.requests == 20


def test_an_unasked_protocol_switch_is_an_error() -> None:
    def upgrade(head: bytes, number: int) -> tuple[bytes, bytes]:
        return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", b""

    result, _ = load(upgrade, rate=5)
    assert result.errors == 5 and result.ok == 0
    assert "101 Switching Protocols" in result.endpoints["ep"].error_samples[0]
