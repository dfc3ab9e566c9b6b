"""The mail test: where a message came from (the mailbox server's Received field), and the
flows it runs with the audited domain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mailzone import UTF8_SUBJECT, ZoneServer, send_utf8_message

from launchready.config.model import Config
from launchready.core.mail_test import MailTestFacts
from launchready.core.net import ConnectTo, NetSettings
from launchready.mailtest.content import ContentPolicy
from launchready.mailtest.extended import ExtendedOptions
from launchready.mailtest.inbox import SmtpInbox
from launchready.mailtest.run import Connection, MailTest, received_connection
from tests.hostile.rawserver import RawServer, redirect, response

OFFLINE = ExtendedOptions(spamassassin=False)  # judged without SpamAssassin: this test is about the flows


def raw(*received: str) -> bytes:
    fields = "".join(f"Received: {r}\r\n" for r in received)
    return (fields + "From: a@shop.test\r\nSubject: hi\r\n\r\nbody\r\n").encode()


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # Mailpit's own words.
        (
            "from smtp.shop.test ([192.0.2.7])\r\n\tby mailpit (Mailpit) with SMTP for <m@x.test>; Mon, 1 Jan 2024",
            Connection("192.0.2.7", "smtp.shop.test", None),
        ),
        # Postfix: HELO, reverse name and address.
        (
            "from mta.shop.test (o1.mta.shop.test [198.51.100.4]) by mx.inbox.test (Postfix) with ESMTPS id 1",
            Connection("198.51.100.4", "mta.shop.test", None),
        ),
        ("from [IPv6:2001:db8::5] ([IPv6:2001:db8::5]) by mx", Connection("2001:db8::5", "IPv6:2001:db8::5", None)),
        ("by mx.inbox.test with LMTP id 7", Connection(None, "", None)),
    ],
)
def test_the_topmost_received_field_names_the_sender(received: str, expected: Connection) -> None:
    assert received_connection(raw(received, "from app.shop.test ([10.0.0.1]) by smtp.shop.test")) == expected


def test_no_received_field_means_spf_is_not_evaluated() -> None:
    assert received_connection(raw()) == Connection(None, "", None)


def test_the_mail_test_follows_redirects_to_the_audited_domain_and_shows_a_utf8_subject(tmp_path: Path) -> None:
    """The audit's domain (not the configuration's) reaches the flows the mail test runs: a step
    redirected there is followed, as app.smoke follows it; the message then found in the test's
    own SMTP receiver is shown with its UTF-8 subject."""
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "flows:\n"
        "  signup:\n"
        "    steps:\n"
        "      - name: sign up\n"
        "        request: {method: GET, url: /signup, follow_redirects: true}\n"
        "        expect: {status: 200}\n"
        "      - name: welcome email\n"
        "        email: {to: 'zoë@inbox.test', timeout: 2}\n",
        encoding="utf-8",
    )
    pages = {"/signup": redirect("http://www.audited.test/welcome"), "/welcome": response(200, b"welcome")}
    config = Config.model_validate(
        {
            "domain": "shop.test",
            "environments": {"production": {"base_url": "http://app.shop.test"}},
            "smoke": {"files": [str(flows)]},
            "email": {"test": True, "wait_s": 2},
        }
    )

    zone = ZoneServer({"shop.test": [("TXT", "v=spf1 ip4:127.0.0.1 -all")]})  # judging asks only this DNS

    async def main() -> tuple[MailTestFacts, MailTestFacts, list[tuple[str, str, str]]]:
        inbox = SmtpInbox()
        port = await inbox.start()
        try:
            await asyncio.get_running_loop().run_in_executor(None, send_utf8_message, port)
            async with RawServer(pages) as server:
                net = NetSettings(
                    nameservers=(zone.nameserver,),
                    connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),),
                    timeout=3,
                )
                tester = MailTest(config, net, ContentPolicy(("shop.test",)), inbox=inbox, options=OFFLINE)
                audited = await tester.test("production", domain="audited.test")
                unaudited = await tester.test("production")
                return audited, unaudited, server.requests
        finally:
            await inbox.stop()

    try:
        audited, unaudited, requests = asyncio.run(main())
    finally:
        zone.stop()
    assert audited.problem is None and audited.unreached == ()
    [message] = audited.messages
    assert message.arrived and message.subject == UTF8_SUBJECT
    assert ("GET", "www.audited.test", "/welcome") in requests
    # Without the audited domain, www.audited.test is no declared host: the flow stops before its mail.
    assert unaudited.messages == ()
    [unreached] = unaudited.unreached
    assert unreached.step == "welcome email"
    assert "www.audited.test is not a declared host" in unreached.reason
