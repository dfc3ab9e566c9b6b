"""Small loopback helpers shared by network tests."""

from __future__ import annotations

import socket

# Held until the test process ends. A bound TCP socket that never listens answers a connection
# with a reset (refused), and while it is held no other test's ephemeral bind can be handed the
# same port, which a bind-then-release port allowed when the suite runs in parallel. SO_REUSEADDR
# lets a test that wants to listen there later (a receiver started late, a node given this port)
# still bind it, since no socket is listening on it.
_HELD: list[socket.socket] = []


def closed_port() -> int:
    """A loopback TCP port with nothing listening: connecting is refused until a test listens on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return int(sock.getsockname()[1])
