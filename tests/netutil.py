"""Small loopback helpers shared by network tests."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A loopback TCP port with nothing listening (bound, then released): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
