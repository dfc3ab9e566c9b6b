"""The mail test's own SMTP receiver (``email test --listen``): keeps every message with what the
connection showed (address, HELO, envelope sender) and when it arrived, and is the smoke runner's
mailbox for the run, so SPF is judged for the address that really delivered the message.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, Envelope, Session

from launchready.mailtest.receiver import DATA_SIZE_LIMIT, peer_address
from launchready.mailtest.smtp_listener import SmtpListener, TrackedSMTP
from launchready.smoke.mail import MailMessage, from_email

_IDLE_SECONDS = 300


@dataclass(frozen=True)
class Delivered:
    raw: bytes
    client_ip: str | None
    helo: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    arrived_at: float  # time.perf_counter()
    message: MailMessage


class _KeepingHandler:
    def __init__(self, inbox: SmtpInbox) -> None:
        self._inbox = inbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        arrived = time.perf_counter()
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        message = from_email(parsed, raw) if isinstance(parsed, EmailMessage) else MailMessage((), "", "", raw=raw)
        rcpt_tos = tuple(envelope.rcpt_tos)
        # The envelope recipients are who it was delivered to, whatever the To header says (Bcc).
        message = replace(message, to=tuple(dict.fromkeys((*message.to, *rcpt_tos))), arrived_at=arrived)
        self._inbox.keep(
            Delivered(
                raw=raw,
                client_ip=peer_address(session.peer),
                helo=session.host_name or "",
                mail_from=envelope.mail_from or "",
                rcpt_tos=rcpt_tos,
                arrived_at=arrived,
                message=message,
            )
        )
        return "250 Message accepted for the mail test"


class SmtpInbox(SmtpListener):
    """Listens on ``host:port`` on the running loop; a MailSource for the smoke runner."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, tls_context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port)
        self._tls = tls_context
        self._delivered: list[Delivered] = []

    @property
    def poll_seconds(self) -> float:
        return 0.05

    def keep(self, delivered: Delivered) -> None:
        self._delivered.append(delivered)

    @property
    def delivered(self) -> tuple[Delivered, ...]:
        return tuple(self._delivered)

    def envelope_of(self, raw: bytes) -> Delivered | None:
        """The delivery a message found by :meth:`find` came with."""
        return next((d for d in self._delivered if d.raw is raw), None)

    async def find(self, to: str, subject: str | None) -> MailMessage | None:
        wanted = to.strip().lower()
        for delivered in self._delivered:
            addresses = {a.lower() for a in delivered.rcpt_tos} | {a.lower() for a in delivered.message.to}
            if not any(wanted == a or a.endswith(f"<{wanted}>") for a in addresses):
                continue
            if subject and subject not in delivered.message.subject:
                continue
            return delivered.message
        return None

    async def close(self) -> None:
        return None

    def _protocol(self) -> SMTP:
        return TrackedSMTP(
            _KeepingHandler(self),
            connections=self._connections,
            hostname="launchready",
            tls_context=self._tls,
            require_starttls=False,
            data_size_limit=DATA_SIZE_LIMIT,
            timeout=_IDLE_SECONDS,
        )
