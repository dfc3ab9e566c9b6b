"""The lab's outbound mail server: the app submits here, the relay queues and forwards to the
recipient's mail server (the lab's mailbox, or wherever ``Lab(mail_relay_to=...)`` says, e.g. the
SMTP receiver of `launchready email test --listen`), like a provider's outbound MTA.

Accepting at once and forwarding from a queue is what makes a delay possible without blocking the
app's request (the ``email-invite-delayed`` fault holds invitations in the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate

from aiosmtpd.smtp import SMTP, Envelope, Session

from launchready.mailtest.receiver import peer_address
from launchready.mailtest.smtp_listener import SmtpListener, TrackedSMTP

_IDLE_SECONDS = 30
_FORWARD_TIMEOUT = 10.0


class _QueueingHandler:
    def __init__(self, relay: SmtpRelay) -> None:
        self._relay = relay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        helo = session.host_name or "unknown"
        address = peer_address(session.peer) or "unknown"
        # The trace field every MTA prepends (RFC 5321 4.4): above the DKIM signature, never signed.
        received = (
            f"Received: from {helo} ([{address}])\r\n\tby {self._relay.hostname} with ESMTP;\r\n"
            f"\t{formatdate(localtime=False, usegmt=True)}\r\n"
        ).encode()
        self._relay.enqueue(envelope.mail_from or "", tuple(envelope.rcpt_tos), received + raw)
        return "250 Queued for delivery"


class SmtpRelay(SmtpListener):
    def __init__(
        self,
        *,
        host: str,
        next_hop: Callable[[], tuple[str, int]],
        hostname: str,
        hold: Callable[[EmailMessage], float] = lambda message: 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.hostname = hostname
        self._next_hop = next_hop
        self._hold = hold
        self._queue: set[asyncio.Task[None]] = set()

    def enqueue(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._forward(mail_from, rcpt_tos, raw))
        self._queue.add(task)
        task.add_done_callback(self._queue.discard)

    async def _forward(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
        message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        delay = self._hold(message) if isinstance(message, EmailMessage) else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        host, port = self._next_hop()

        def deliver() -> None:
            with smtplib.SMTP(host, port, timeout=_FORWARD_TIMEOUT, local_hostname=self.hostname) as smtp:
                # An internationalised address travels only with SMTPUTF8 (RFC 6531 3.4).
                utf8 = not all(address.isascii() for address in (mail_from, *rcpt_tos))
                smtp.sendmail(mail_from, list(rcpt_tos), raw, mail_options=("SMTPUTF8",) if utf8 else ())

        # A lab relay drops what it cannot forward: the mail test then reports the message as never delivered.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            await asyncio.get_running_loop().run_in_executor(None, deliver)

    async def stop(self) -> None:
        for task in list(self._queue):
            task.cancel()
        await asyncio.gather(*self._queue, return_exceptions=True)
        await super().stop()

    def _protocol(self) -> SMTP:
        return TrackedSMTP(
            _QueueingHandler(self), hostname=self.hostname, timeout=_IDLE_SECONDS, connections=self._connections
        )
