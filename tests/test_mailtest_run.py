"""The mail test's reading of where a message came from (the mailbox server's Received field)."""

from __future__ import annotations

import pytest

from launchready.mailtest.run import Connection, received_connection


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
