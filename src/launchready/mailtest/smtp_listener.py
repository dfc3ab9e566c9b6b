"""An aiosmtpd server on the running loop that stops cleanly with sessions still open.

aiosmtpd's Controller runs its own thread and loop; the receiver and the lab's mailbox live on
the caller's loop instead, and must close sessions a client left open when they stop, or
``wait_closed`` would wait for those clients forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.smtp import SMTP


class TrackedSMTP(SMTP):
    """An SMTP session that registers itself so the listener can close sessions still open."""

    def __init__(self, handler: Any, *, connections: set[SMTP], **kwargs: Any) -> None:
        # SMTPUTF8 (RFC 6531) advertised: a product that mails a member at an address like
        # zoë@exämple.com says so in MAIL FROM, and aiosmtpd refuses such commands otherwise.
        kwargs.setdefault("enable_SMTPUTF8", True)
        super().__init__(handler, **kwargs)
        self._registry = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._registry.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._registry.discard(self)
        super().connection_lost(error)


class SmtpListener:
    """Listens on ``host:port`` (0: any free port); subclasses say what one session is (``_protocol``)."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._connections: set[SMTP] = set()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not listening")
        return self._port

    def _protocol(self) -> SMTP:
        raise NotImplementedError

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self._host, self._requested_port)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
        await self._server.wait_closed()
        self._server = None
        self._port = None
