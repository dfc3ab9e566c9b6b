"""How the lab app sends mail: plain SMTP to the lab's own server, off the event loop."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class SendResult:
    sent: bool
    error: str | None = None


class Mailer:
    def __init__(self, *, host: str, port: int, sender: str, sender_domain: str, timeout: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._sender_domain = sender_domain
        self._timeout = timeout

    def compose(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._sender_domain)
        message.set_content(text)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(
            self._host, self._port, timeout=self._timeout, local_hostname=f"app.{self._sender_domain}"
        ) as smtp:
            smtp.send_message(message)

    async def send(self, to: str, subject: str, text: str) -> SendResult:
        """Send one message; a failed delivery is reported, never raised (the page still renders)."""
        message = self.compose(to, subject, text)
        loop = asyncio.get_running_loop()
        try:
            # smtplib blocks, and the SMTP server it talks to runs on this very loop.
            await loop.run_in_executor(None, self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}")
        return SendResult(True)
