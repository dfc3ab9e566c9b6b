"""How the lab app sends mail: DKIM-signed, text and HTML, over SMTP to the lab's relay, off the event loop.

The relay (``relay.py``) forwards to the lab's mailbox like a provider's outbound server; the
signature is made here, as an app or its provider's API does, with the key the lab zone publishes.
"""

from __future__ import annotations

import asyncio
import html
import re
import smtplib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dkim  # type: ignore[import-untyped]

_URL = re.compile(r"https?://\S+")
# What the signature covers: what a reader sees and what identifies the message.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type")


@dataclass(frozen=True)
class SendResult:
    sent: bool
    error: str | None = None


@dataclass(frozen=True)
class DkimSigner:
    domain: str  # the d= tag
    selector: str
    private_key_pem: bytes = field(repr=False)

    def sign(self, raw: bytes) -> bytes:
        """The message with its DKIM-Signature field on top (relaxed/relaxed survives the relay's folding)."""
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key_pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
        )
        return bytes(signature) + raw


def html_of(text: str) -> str:
    """The text body as simple HTML: one paragraph per block, URLs as links."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return "<!doctype html><html><body>" + "".join(paragraphs) + "</body></html>"


class Mailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        sender_domain: str,
        timeout: float = 10.0,
        envelope_sender: str | None = None,
        signer: DkimSigner | None = None,
        html_only: bool = False,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._sender_domain = sender_domain
        self._timeout = timeout
        self._envelope_sender = envelope_sender or f"no-reply@{sender_domain}"
        self._signer = signer
        self._html_only = html_only

    def compose(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._sender_domain)
        if self._html_only:
            message.set_content(html_of(text), subtype="html")
        else:
            message.set_content(text)
            message.add_alternative(html_of(text), subtype="html")
        return message

    def render(self, message: EmailMessage) -> bytes:
        raw = message.as_bytes(policy=policy.SMTP)
        return self._signer.sign(raw) if self._signer is not None else raw

    def _deliver(self, to: str, raw: bytes) -> None:
        with smtplib.SMTP(
            self._host, self._port, timeout=self._timeout, local_hostname=f"app.{self._sender_domain}"
        ) as smtp:
            smtp.sendmail(self._envelope_sender, [to], raw)

    async def send(self, to: str, subject: str, text: str) -> SendResult:
        """Send one message; a failed delivery is reported, never raised (the page still renders)."""
        raw = self.render(self.compose(to, subject, text))
        loop = asyncio.get_running_loop()
        try:
            # smtplib blocks, and the SMTP server it talks to runs on this very loop.
            await loop.run_in_executor(None, self._deliver, to, raw)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}")
        return SendResult(True)
