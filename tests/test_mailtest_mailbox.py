"""The IMAP mailbox reader against a real dovecot on loopback (IMAPS with a lab CA): the message
under test is found in the Inbox or in the folder flagged \\Junk (named neither Junk nor Spam),
the provider's Authentication-Results is the topmost one, and a wrong password is a clear error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTPUTF8
from pathlib import Path

import pytest

from launchready.core.net import NetSettings
from launchready.mailtest.errors import MailboxError
from launchready.mailtest.mailbox import Criteria, ImapAccount, ImapMailbox, decode_mailbox_name, parse_list
from tests.dovecotutil import DECOY_FOLDER, JUNK_FOLDER, PASSWORD, USER, Dovecot, running_dovecot

PROVIDER_AR = "mx.mailtest.test; spf=pass smtp.mailfrom=bounce@example.com; dkim=fail header.d=example.com header.s=s1; dmarc=fail header.from=example.com"
FORGED_AR = "mx.mailtest.test; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"


def message(to: str, subject: str, message_id: str) -> bytes:
    mail = EmailMessage(policy=SMTPUTF8)
    # The provider's field on top; a forged one the sender put in lower down.
    mail["Authentication-Results"] = PROVIDER_AR
    mail["From"] = "App <app@example.com>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["Authentication-Results"] = FORGED_AR
    mail.set_content("Confirm: https://app.example.com/verify?token=abc123\n")
    return mail.as_bytes()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        server.deliver("INBOX", message("old@mailtest.test", "Welcome", "<old-1@example.com>"))
        server.deliver(JUNK_FOLDER, message("junked@mailtest.test", "Confirm your account", "<junk-1@example.com>"))
        server.deliver(
            "INBOX", message("inboxed@mailtest.test", "Réinitialiser le mot de passe", "<inbox-1@example.com>")
        )
        server.deliver(DECOY_FOLDER, message("decoy@mailtest.test", "Invite", "<decoy-1@example.com>"))
        # An internationalised address (RFC 6532: UTF-8 in the header as sent).
        server.deliver("INBOX", message("josé@mailtest.test", "Hola", "<utf8-1@example.com>"))
        yield server


def mailbox(server: Dovecot, password: str = PASSWORD) -> ImapMailbox:
    account = ImapAccount(host="127.0.0.1", port=server.port, username=USER, password=password, tls=True)
    return ImapMailbox(account, NetSettings(ca_bundle=server.ca_bundle, timeout=10))


def test_message_in_the_junk_folder_is_found_by_its_special_use_flag(dovecot: Dovecot) -> None:
    found = asyncio.run(mailbox(dovecot).find(Criteria(to="junked@mailtest.test", subject="Confirm")))
    assert found is not None
    assert (found.folder, found.placement, found.junk_found_by) == (JUNK_FOLDER, "junk", "special-use")
    # Only the flagged folder counts as junk: the decoy named "Spam" is not searched.
    assert found.searched == ("INBOX", JUNK_FOLDER)
    assert b"<junk-1@example.com>" in found.raw
    provider = found.provider_results()
    assert provider is not None and provider.authserv_id == "mx.mailtest.test"
    assert [(r.method, r.result) for r in provider.results] == [("spf", "pass"), ("dkim", "fail"), ("dmarc", "fail")]


def test_message_in_the_inbox_by_message_id_and_non_ascii_subject(dovecot: Dovecot) -> None:
    box = mailbox(dovecot)
    by_id = asyncio.run(box.find(Criteria(message_id="<inbox-1@example.com>")))
    assert by_id is not None and (by_id.folder, by_id.placement) == ("INBOX", "inbox")
    by_subject = asyncio.run(box.find(Criteria(to="inboxed@mailtest.test", subject="mot de passe")))
    assert by_subject is not None and by_subject.raw == by_id.raw
    assert asyncio.run(box.find(Criteria(to="inboxed@mailtest.test", subject="Réinitialiser"))) is not None
    assert asyncio.run(box.find(Criteria(to="inboxed@mailtest.test", subject="Bienvenue"))) is None


def test_non_ascii_recipient_is_matched_on_the_message(dovecot: Dovecot) -> None:
    found = asyncio.run(mailbox(dovecot).find(Criteria(to="josé@mailtest.test")))
    assert found is not None and b"<utf8-1@example.com>" in found.raw
    assert asyncio.run(mailbox(dovecot).find(Criteria(to="zoë@mailtest.test"))) is None


def test_absent_message_and_the_decoy_folder(dovecot: Dovecot) -> None:
    box = mailbox(dovecot)
    assert asyncio.run(box.find(Criteria(to="nobody@mailtest.test"))) is None
    assert asyncio.run(box.find(Criteria(to="decoy@mailtest.test"))) is None
    assert asyncio.run(box.wait(Criteria(to="nobody@mailtest.test"), 0.3, poll_seconds=0.1)) is None


def test_wrong_password_and_untrusted_certificate_are_clear_errors(dovecot: Dovecot) -> None:
    with pytest.raises(MailboxError, match=r"login as tester refused: .*AUTHENTICATIONFAILED") as refused:
        asyncio.run(mailbox(dovecot, password="wrong-password-1").find(Criteria(to="a@b.test")))
    assert "wrong-password-1" not in str(refused.value)
    account = ImapAccount(host="127.0.0.1", port=dovecot.port, username=USER, password=PASSWORD)
    untrusting = ImapMailbox(account, NetSettings(timeout=5))
    with pytest.raises(MailboxError, match="cannot connect: .*CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(untrusting.find(Criteria(to="a@b.test")))


def test_list_parsing_and_mailbox_name_decoding() -> None:
    folders = parse_list(
        [
            b'(\\HasNoChildren \\Junk) "/" "[Gmail]/Spam"',
            (b'(\\HasNoChildren) "/" {23}', b"Courrier ind&AOk-sirable"),
            b'(\\Noselect \\HasChildren) "/" "[Gmail]"',
            b"garbage",
        ]
    )
    assert [(f.shown, f.is_junk, f.selectable) for f in folders] == [
        ("[Gmail]/Spam", True, True),
        ("Courrier indésirable", False, True),
        ("[Gmail]", False, False),
    ]
    assert decode_mailbox_name("A&-B") == "A&B"
    assert decode_mailbox_name("&Jjo-!") == "☺!"
    assert decode_mailbox_name("&!!!-") == "&!!!-"


def test_credentials_come_from_the_environment(tmp_path: Path) -> None:
    from launchready.config.sections.smoke import MailboxSettings

    settings = MailboxSettings(
        kind="imap", host="imap.gmail.com", username="me@gmail.com", password="${env:GMAIL_APP_PASSWORD}"
    )
    account = ImapAccount.from_settings(settings, {"GMAIL_APP_PASSWORD": "abcd efgh ijkl mnop"}, "[smoke.mailbox]")
    assert account.password == "abcd efgh ijkl mnop" and account.tls and account.port is None
    with pytest.raises(MailboxError, match=r"\[smoke.mailbox\]: \$\{env:GMAIL_APP_PASSWORD\} is not set"):
        ImapAccount.from_settings(settings, {}, "[smoke.mailbox]")
