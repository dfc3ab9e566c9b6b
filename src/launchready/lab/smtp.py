"""The lab's SMTP server: receives the app's mail (aiosmtpd) into an in-memory mailbox.

The server runs on the lab's event loop; the mailbox is read from other threads (tests, the
foreground runner), so it is guarded by a condition variable.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate

from aiosmtpd.smtp import SMTP, Envelope, Session

from launchready.mailtest.receiver import peer_address
from launchready.mailtest.smtp_listener import SmtpListener, TrackedSMTP

_SMTP_IDLE_SECONDS = 30


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    peer: str
    raw: bytes = b""  # as stored: with the Return-Path and Received fields this server added


class Mailbox:
    """Every message the lab's SMTP server accepted, oldest first (thread-safe)."""

    def __init__(self) -> None:
        self._messages: list[ReceivedMessage] = []
        self._changed = threading.Condition()

    def add(self, received: ReceivedMessage) -> None:
        with self._changed:
            self._messages.append(received)
            self._changed.notify_all()

    def messages(self) -> list[ReceivedMessage]:
        with self._changed:
            return list(self._messages)

    def _find(self, to: str, subject: str | None) -> ReceivedMessage | None:
        wanted = to.strip().lower()
        for received in self._messages:
            if wanted not in (r.lower() for r in received.rcpt_tos):
                continue
            if subject is not None and subject not in str(received.message.get("Subject", "")):
                continue
            return received
        return None

    def wait_for(self, to: str, timeout: float, *, subject: str | None = None) -> ReceivedMessage:
        """The oldest message to ``to`` (whose Subject contains ``subject``, if given).

        Raises TimeoutError when none arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while (found := self._find(to, subject)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no message to {to} within {timeout:g}s")
                self._changed.wait(remaining)
            return found


class _MailboxHandler:
    """aiosmtpd handler: parse and keep every message; accept any recipient (the lab is a sink)."""

    def __init__(self, mailbox: Mailbox, hostname: str) -> None:
        self._mailbox = mailbox
        self._hostname = hostname

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        peer = session.peer
        address = peer_address(peer) or "unknown"
        # What the receiving server adds, in Mailpit's words: the envelope sender and a trace field
        # naming the connecting address (what SPF is judged for when the mail is read over its API).
        rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        added = (
            f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"Received: from {session.host_name or 'unknown'} ([{address}])\r\n\tby {self._hostname} (Mailpit) "
            f"with SMTP for <{rcpt}>; {formatdate(localtime=False, usegmt=True)}\r\n"
        ).encode()
        raw = added + (content if isinstance(content, bytes) else content.encode())
        message = BytesParser(policy=policy.default).parsebytes(raw)
        self._mailbox.add(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
                raw=raw,
            )
        )
        return "250 Message accepted for delivery"


class SmtpServer(SmtpListener):
    """aiosmtpd on the running loop (no extra thread, unlike aiosmtpd's Controller)."""

    def __init__(self, mailbox: Mailbox, *, host: str = "127.0.0.1", port: int = 0, hostname: str = "mail.lab") -> None:
        super().__init__(host, port)
        self._mailbox = mailbox
        self._hostname = hostname

    def _protocol(self) -> SMTP:
        protocol = TrackedSMTP(
            _MailboxHandler(self._mailbox, self._hostname),
            hostname=self._hostname,
            timeout=_SMTP_IDLE_SECONDS,
            connections=self._connections,
        )
        return protocol
