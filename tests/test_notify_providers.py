"""The notification providers against real loopback servers: a webhook receiver checking the
HMAC signature, a Slack-style receiver, and aiosmtpd with STARTTLS behind a test CA, reached
through --nameserver and --connect-to."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message as MailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alertutil import Receiver
from netutil import closed_port

from launchready.config.sections.smoke import NotifyTarget
from launchready.core.net import ConnectTo, Nameserver, NetSettings
from launchready.deploy.notify import Notifier
from launchready.lab.ca import LabCA
from launchready.monitor.alerts.message import AlertMessage
from launchready.notify.base import Message
from launchready.notify.email import EmailProvider
from launchready.notify.slack import SlackProvider
from launchready.notify.transport import MAX_RETRY_AFTER, Transport, parse_retry_after
from launchready.notify.webhook import WebhookProvider
from launchready.smoke.secrets import Masker

SECRET = "whsec-test-secret-0123456789"
SLACK_PATH = "/services/T000/B000/XXXXSLACKTOKENXXXX"
ALERT = AlertMessage(
    kind="check",
    name="api",
    status="down",
    previous_status="up",
    reason="connection refused",
    at=1_800_000_000.0,
    idempotency_key="check:0123456789abcdef",
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def send(provider: WebhookProvider | SlackProvider | EmailProvider, message: Message, transport: Transport):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        try:
            return await provider.send(message)
        finally:
            await provider.close()
            await transport.close()

    return asyncio.run(go())


def test_webhook_is_signed_and_carries_the_alert_fields(receiver: Receiver) -> None:
    transport = Transport(NetSettings(timeout=5))
    provider = WebhookProvider(
        "hook",
        url=receiver.url(),
        secret="${env:HOOK_SECRET}",
        env={"HOOK_SECRET": SECRET},
        transport=transport,
        masker=Masker(),
    )
    assert provider.validate() == []
    delivery = send(provider, ALERT.as_message(), transport)
    assert delivery.ok and delivery.error is None
    [got] = receiver.bodies()
    expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Launchready-Signature"] == expected
    assert got.headers["X-Launchready-Signature-256"] == expected
    assert got.headers["Idempotency-Key"] == ALERT.idempotency_key
    assert got.headers["X-Launchready-Event"] == "check.down"
    payload = got.json
    assert {k: payload[k] for k in ("kind", "name", "status", "reason", "at", "idempotency_key")} == {
        "kind": "check",
        "name": "api",
        "status": "down",
        "reason": "connection refused",
        "at": "2027-01-15T08:00:00Z",
        "idempotency_key": ALERT.idempotency_key,
    }


def test_webhook_without_secret_is_unsigned_and_a_dead_endpoint_is_a_failed_delivery(receiver: Receiver) -> None:
    transport = Transport(NetSettings(timeout=5))
    provider = WebhookProvider("hook", url=receiver.url(), secret=None, env={}, transport=transport, masker=Masker())
    assert send(provider, ALERT.as_message(), transport).ok
    assert "X-Launchready-Signature" not in receiver.bodies()[0].headers
    transport = Transport(NetSettings(timeout=5))
    dead = WebhookProvider(
        "hook", url=f"http://127.0.0.1:{closed_port()}/hook", secret=None, env={}, transport=transport, masker=Masker()
    )
    delivery = send(dead, ALERT.as_message(), transport)
    assert not delivery.ok and not delivery.permanent and "connection refused" in (delivery.error or "")


def test_webhook_validation_names_the_field() -> None:
    transport = Transport(NetSettings())
    provider = WebhookProvider(
        "hook", url="${env:HOOK_URL}", secret="${env:HOOK_SECRET}", env={}, transport=transport, masker=Masker()
    )
    assert provider.validate() == [
        "url: ${env:HOOK_URL} is not set in the environment",
        "secret: ${env:HOOK_SECRET} is not set in the environment",
    ]
    delivery = send(provider, ALERT.as_message(), transport)
    assert not delivery.ok and delivery.permanent and delivery.error and delivery.error.startswith("url:")


def test_slack_posts_text_with_the_key_and_never_shows_its_url(receiver: Receiver) -> None:
    transport = Transport(NetSettings(timeout=5))
    masker = Masker()
    provider = SlackProvider(
        "ops", url="${env:SLACK_URL}", env={"SLACK_URL": receiver.url(SLACK_PATH)}, transport=transport, masker=masker
    )
    assert provider.target == "slack ${env:SLACK_URL}"
    assert send(provider, ALERT.as_message(), transport).ok
    [got] = receiver.bodies(SLACK_PATH)
    text = str(got.json["text"])
    assert text.splitlines()[0] == "check api is DOWN: connection refused"
    assert ALERT.idempotency_key in text
    assert "XXXXSLACKTOKENXXXX" not in masker.text(f"posting to {receiver.url(SLACK_PATH)} failed")

    transport = Transport(NetSettings(timeout=5))
    slow = Receiver(fail_next=1)
    with slow.running():
        failing = SlackProvider(
            "ops", url="${env:SLACK_URL}", env={"SLACK_URL": slow.url(SLACK_PATH)}, transport=transport, masker=Masker()
        )
        delivery = send(failing, ALERT.as_message(), transport)
    assert not delivery.ok and delivery.error == "answered 500"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[MailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(getattr(envelope, "content", b"")))
        self.envelopes.append((getattr(envelope, "mail_from", ""), list(getattr(envelope, "rcpt_tos", []))))
        return "250 OK"


def _authenticator(server: object, session: object, envelope: object, mechanism: str, data: object) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"alerts" and data.password == b"smtp-pass-123456"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(lab_ca: LabCA, tmp_path: Path) -> Iterator[tuple[_Mailbox, int]]:
    cert, key = lab_ca.issue(["mail.alerts.test", "smtp.example.test"]).write(tmp_path, "smtp")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = _Mailbox()
    port = closed_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def _email(host: str, port: int, net: NetSettings) -> tuple[EmailProvider, Transport]:
    transport = Transport(net)
    provider = EmailProvider(
        "ops-mail",
        host=host,
        port=port,
        sender="monitor@example.com",
        to=("oncall@example.com",),
        starttls=True,
        username="alerts",
        password="${env:SMTP_PASSWORD}",
        env={"SMTP_PASSWORD": "smtp-pass-123456"},
        transport=transport,
        masker=Masker(),
    )
    return provider, transport


def test_email_goes_through_starttls_to_the_host_the_nameserver_names(
    smtp_server: tuple[_Mailbox, int],
    lab_ca_bundle: Path,
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, object]],
) -> None:
    mailbox, port = smtp_server
    nameserver, _ = udp_dns_responder({"mail.alerts.test": "127.0.0.1"})
    net = NetSettings(nameservers=(nameserver,), ca_bundle=lab_ca_bundle, timeout=5)
    provider, transport = _email("mail.alerts.test", port, net)
    assert provider.validate() == []
    delivery = send(provider, ALERT.as_message(), transport)
    assert delivery.ok, delivery.error
    [mail] = mailbox.messages
    assert mail["Subject"] == "[launchready] check api is DOWN: connection refused"
    assert mail["X-Launchready-Idempotency-Key"] == ALERT.idempotency_key
    assert ALERT.idempotency_key in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert mailbox.envelopes == [("monitor@example.com", ["oncall@example.com"])]
    # A retry of the same alert carries the same Message-ID, so mail clients fold it.
    provider, transport = _email("mail.alerts.test", port, net)
    assert send(provider, ALERT.as_message(), transport).ok
    assert mailbox.messages[1]["Message-ID"] == mail["Message-ID"]


def test_email_honours_connect_to_and_refuses_an_untrusted_certificate(
    smtp_server: tuple[_Mailbox, int], lab_ca_bundle: Path
) -> None:
    mailbox, port = smtp_server
    route = (ConnectTo("smtp.example.test", 587, "127.0.0.1", port),)
    provider, transport = _email(
        "smtp.example.test", 587, NetSettings(connect_to=route, ca_bundle=lab_ca_bundle, timeout=5)
    )
    assert send(provider, ALERT.as_message(), transport).ok
    assert len(mailbox.messages) == 1
    # Without the test CA the STARTTLS handshake fails: a failed delivery, nothing sent, no password leaked.
    provider, transport = _email("smtp.example.test", 587, NetSettings(connect_to=route, timeout=5))
    delivery = send(provider, ALERT.as_message(), transport)
    assert not delivery.ok and "certificate" in (delivery.error or "").lower()
    assert "smtp-pass-123456" not in (delivery.error or "")
    assert len(mailbox.messages) == 1


def test_email_to_a_dead_server_fails_without_raising() -> None:
    provider, transport = _email("127.0.0.1", closed_port(), NetSettings(timeout=3))
    delivery = send(provider, ALERT.as_message(), transport)
    assert not delivery.ok and not delivery.permanent and "refused" in (delivery.error or "").lower()
    unset, transport = _email("127.0.0.1", 25, NetSettings(timeout=3))
    unset = EmailProvider(
        "m",
        host="",
        port=25,
        sender=None,
        to=(),
        starttls=True,
        username=None,
        password="${env:NOPE}",
        env={},
        transport=transport,
        masker=Masker(),
    )
    assert unset.validate() == [
        "host: expected the SMTP server's host name",
        "from: expected the sender address",
        "to: expected at least one recipient",
        "password: ${env:NOPE} is not set in the environment",
    ]


def test_retry_after_is_read_as_seconds_or_an_http_date_and_capped() -> None:
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("999999") == MAX_RETRY_AFTER
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=_http_date_epoch() - 90) == 90.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def _http_date_epoch() -> float:
    return datetime(2026, 10, 21, 7, 28, tzinfo=UTC).timestamp()


def test_deploy_notifier_reports_unset_references_naming_the_field() -> None:
    targets = (
        NotifyTarget(kind="slack", url="${env:SLACK_URL}"),
        NotifyTarget(kind="webhook", url="https://hooks.example.com/x", secret="${env:HOOK_SECRET}"),
    )
    notifier = Notifier(targets, {}, NetSettings(), Masker())
    assert notifier.problems() == [
        "slack ${env:SLACK_URL}: url: ${env:SLACK_URL} is not set in the environment",
        "webhook https://hooks.example.com/…: secret: ${env:HOOK_SECRET} is not set in the environment",
    ]
