"""Email steps over real IMAP: a minimal IMAP4rev1 server on loopback (LOGIN, SELECT, SEARCH,
FETCH, LOGOUT) holding one message; the smoke mailbox finds it with imaplib and captures a link."""

from __future__ import annotations

import asyncio
import re
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from launchready.config.sections.smoke import MailboxSettings
from launchready.core.net import NetSettings
from launchready.smoke.mail import ImapSource, MailError, wait_for_mail

USER, PASSWORD = "smoke@example.com", "imap-pass-123456"


def _message(to: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


class _Imap(socketserver.StreamRequestHandler):
    messages: list[bytes] = []

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._send("* OK IMAP4rev1 test server ready")
        authed = False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            tag, _, rest = raw.decode().strip().partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1")
                self._send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                authed = [part.strip('"') for part in args.split(" ")] == [USER, PASSWORD]
                self._send(
                    f"{tag} OK LOGIN completed" if authed else f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials"
                )
            elif command in ("SELECT", "EXAMINE") and authed:
                self._send(f"* {len(self.messages)} EXISTS")
                self._send("* FLAGS (\\Seen)")
                self._send(f"{tag} OK [READ-ONLY] {command} completed")
            elif command == "SEARCH" and authed:
                to = re.search(r'TO "([^"]*)"', args)
                subject = re.search(r'SUBJECT "([^"]*)"', args)
                hits = [
                    str(i + 1)
                    for i, m in enumerate(self.messages)
                    if (to is None or f"To: {to.group(1)}".encode() in m)
                    and (subject is None or subject.group(1).encode() in m)
                ]
                self._send("* SEARCH " + " ".join(hits))
                self._send(f"{tag} OK SEARCH completed")
            elif command == "FETCH" and authed:
                number = int(args.split()[0])
                data = self.messages[number - 1]
                self.wfile.write(f"* {number} FETCH (RFC822 {{{len(data)}}}\r\n".encode() + data + b")\r\n")
                self._send(f"{tag} OK FETCH completed")
            elif command == "LOGOUT":
                self._send("* BYE logging out")
                self._send(f"{tag} OK LOGOUT completed")
                return
            else:
                self._send(f"{tag} BAD unsupported")


@pytest.fixture
def imap_server() -> Iterator[int]:
    _Imap.messages = [
        _message("someone@example.com", "Other", "not this one"),
        _message(
            "member+smoke-1@example.com",
            "Confirm your account",
            "Confirm: https://app.example.com/verify?token=abc123\n",
        ),
    ]
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Imap)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def source(port: int, password_env: str = "IMAP_PASSWORD") -> ImapSource:
    settings = MailboxSettings(
        kind="imap",
        host="127.0.0.1",
        port=port,
        tls=False,
        username=USER,
        password=f"${{env:{password_env}}}",
        poll_seconds=0.05,
    )
    return ImapSource(settings, NetSettings(timeout=3), {"IMAP_PASSWORD": PASSWORD, "WRONG": "nope"})


def test_imap_mailbox_finds_the_message(imap_server: int) -> None:
    found = asyncio.run(wait_for_mail(source(imap_server), "member+smoke-1@example.com", "Confirm", 2))
    assert found is not None and found.subject == "Confirm your account"
    assert "verify?token=abc123" in found.text
    # The message as fetched (RFC822), what `email test` judges.
    assert found.raw == _Imap.messages[1]
    assert asyncio.run(wait_for_mail(source(imap_server), "nobody@example.com", None, 0.2)) is None


def test_imap_bad_credentials_are_a_mail_error(imap_server: int) -> None:
    with pytest.raises(MailError, match="invalid credentials"):
        asyncio.run(wait_for_mail(source(imap_server, "WRONG"), "member+smoke-1@example.com", None, 1))
