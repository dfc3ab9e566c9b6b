"""Shared by the received-mail tests: DKIM keys, signed messages and a real DNS server on loopback."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import smtplib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

import dkim  # type: ignore[import-untyped]
import dns.message
import dns.zone
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from launchready.core.net import Nameserver
from launchready.lab.dns_server import DnsServer
from launchready.lab.zonedata import SilentAuthority, root_zone


@dataclass(frozen=True)
class SigningKey:
    """A private key as dkimpy signs with it, and the DNS key record that verifies it."""

    algorithm: bytes  # rsa-sha256 or ed25519-sha256
    private: bytes = field(repr=False)
    record: str


def rsa_key(bits: int) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return SigningKey(b"rsa-sha256", pem, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}")


def ed25519_key() -> SigningKey:
    """RFC 8463: the private key is the base64 32-byte seed, the DNS p= the raw 32-byte public key."""
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(
        b"ed25519-sha256", base64.b64encode(seed), f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
    )


def message(
    *,
    sender: str = "Shop <hello@shop.test>",
    to: str = "member@inbox.test",
    subject: str = "Verify your email",
    text: str | None = "Open https://shop.test/verify?token=abc to verify.",
    html: str | None = '<p><a href="https://shop.test/verify?token=abc">Verify</a></p>',
    return_path: str | None = "bounce@shop.test",
    extra: Iterable[tuple[str, str]] = (),
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    if return_path is not None:
        msg["Return-Path"] = f"<{return_path}>"
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = "<m1@shop.test>"
    for name, value in extra:
        msg[name] = value
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    return msg.as_bytes()


# What a product that greets its members by name sends: UTF-8 in Subject, in From's display name
# and in the recipient's address itself (RFC 6532).
UTF8_SUBJECT = "Bienvenue, Zoë 🎉"
UTF8_FROM = "Boutique Zoé <hello@shop.test>"
UTF8_TO = "Zoë Exemple <zoë@inbox.test>"


def utf8_message(*, raw_headers: bool = True) -> bytes:
    """The message with UTF-8 headers: raw (``raw_headers``, RFC 6532, as an SMTPUTF8 sender writes
    them) or as RFC 2047 encoded words (what a sender writes for a server without SMTPUTF8)."""
    msg = EmailMessage(policy=SMTPUTF8)
    msg["Return-Path"] = "<bounce@shop.test>"
    msg["From"] = UTF8_FROM
    msg["To"] = UTF8_TO if raw_headers else "Zoë Exemple <zoe@inbox.test>"
    msg["Subject"] = UTF8_SUBJECT
    msg["Message-ID"] = "<m-utf8@shop.test>"
    msg.set_content("Bonjour Zoë, confirmez : https://shop.test/verify?token=abc")
    msg.add_alternative(
        '<p>Bonjour Zoë, <a href="https://shop.test/verify?token=abc">confirmez</a></p>', subtype="html"
    )
    return msg.as_bytes(policy=SMTPUTF8 if raw_headers else SMTP)


def sign(
    raw: bytes,
    key: SigningKey,
    *,
    domain: str,
    selector: str,
    headers: Iterable[str] = ("from", "to", "subject", "date", "message-id"),
    length: bool = False,
) -> bytes:
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        key.private,
        signature_algorithm=key.algorithm,
        include_headers=[h.encode() for h in headers],
        length=length,
    )
    return bytes(signature) + raw


class _CountingAuthority(SilentAuthority):
    """Counts every query that reaches the server (UDP and TCP), answered or not, and keeps the
    names asked."""

    def __init__(self, zones: Iterable[dns.zone.Zone], silent: Iterable[tuple[str, str | None]] = ()) -> None:
        super().__init__(zones, silent)
        self.queries = 0
        self.names: set[str] = set()

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        self.queries += 1
        with contextlib.suppress(Exception):  # garbage is the server's to answer with FORMERR
            self.names.add(dns.message.from_wire(wire).question[0].name.to_text().lower().rstrip("."))
        return super().handle_wire(wire, tcp=tcp)


class ZoneServer:
    """The lab's DNS authority serving ``records`` on 127.0.0.1, in its own thread and event loop,
    so both async tests and the synchronous CLI can query it. ``queries`` counts what it was asked."""

    def __init__(self, records: dict[str, list[tuple[str, object]]], silent: Iterable[tuple[str, str | None]] = ()):
        self._authority = _CountingAuthority([root_zone(records)], silent)
        self._server = DnsServer(self._authority)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mail-dns", daemon=True)
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(10)

    @property
    def nameserver(self) -> Nameserver:
        return Nameserver("127.0.0.1", self.port)

    @property
    def queries(self) -> int:
        """Queries received so far (a TCP retry after a truncated UDP answer counts twice)."""
        return self._authority.queries

    @property
    def names_asked(self) -> set[str]:
        """Every name a query asked about so far."""
        return self._authority.names

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@contextlib.contextmanager
def shop_zone(
    key: SigningKey,
    *,
    spf: str = "v=spf1 ip4:192.0.2.10 -all",
    dmarc: str = "v=DMARC1; p=reject",
    more: dict[str, list[tuple[str, object]]] | None = None,
) -> Iterator[ZoneServer]:
    """shop.test as the received-mail tests publish it: ``spf`` and ``dmarc``, ``key`` at DKIM selector
    ``k``, and ``more`` records; stopped on leaving."""
    server = ZoneServer(
        {
            "shop.test": [("TXT", spf)],
            "_dmarc.shop.test": [("TXT", dmarc)],
            "k._domainkey.shop.test": [("TXT", key.record)],
            **(more or {}),
        }
    )
    try:
        yield server
    finally:
        server.stop()


def send_utf8_message(port: int) -> None:
    """Hand ``utf8_message()`` to zoë@inbox.test through the SMTP server on loopback ``port`` (SMTPUTF8).

    Blocking: async tests run it in an executor."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("bounce@shop.test", ["zoë@inbox.test"], utf8_message(), mail_options=["SMTPUTF8"])
