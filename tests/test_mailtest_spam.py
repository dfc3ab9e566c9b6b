"""SpamAssassin scoring with the real Debian spamassassin (local tests only: no network): a spammy
message and a clean one in one process, the rules that fired with their descriptions, and the
reasons a run is skipped."""

from __future__ import annotations

import asyncio
import os
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest

from launchready.mailtest.spam import MAX_SCORED_BYTES, parse_output, score_messages, spamassassin_path

SPAMMY_HTML = """<html><body><font size=7 color=red>CLICK HERE NOW!!! 100% FREE!!! Viagra Cialis cheap meds.
You have been selected as a WINNER of our international lottery. Send your bank account details
and social security number to claim your prize of ONE MILLION DOLLARS ($1,000,000.00 USD).
Act now! Limited time offer! Risk free! No credit check! Earn extra cash from home!
<a href="https://prize.example/claim">CLICK HERE</a></font></body></html>"""


def spammy() -> bytes:
    # Built by hand as spammers do: HTML only, no MIME-Version, a shouting subject.
    return (
        "From: WINNER <winner@lottery-prize.example>\r\nTo: member@example.com\r\n"
        "Subject: CONGRATULATIONS!!! You have WON $1,000,000 FREE MONEY!!!\r\n"
        "Message-ID: <x2@lottery-prize.example>\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\n"
        "Content-Type: text/html\r\n\r\n" + SPAMMY_HTML.replace("\n", "\r\n") + "\r\n"
    ).encode()


def clean() -> bytes:
    message = EmailMessage()
    message["From"] = "Example App <hello@example.com>"
    message["To"] = "Ann Member <member@example.com>"
    message["Subject"] = "Confirm your email address"
    message["Date"] = "Mon, 30 Nov 2026 08:00:00 +0000"
    message["Message-ID"] = "<20261130080000.4f2a9c1e7b@mail.example.com>"
    message.set_content(
        "Hi Ann,\n\nPlease confirm your email address:\nhttps://app.example.com/confirm\n\nThanks,\nExample\n"
    )
    message.add_alternative(
        "<p>Hi Ann,</p><p>Please confirm your email address:</p>"
        '<p><a href="https://app.example.com/confirm">Confirm</a></p><p>Thanks,<br>Example</p>',
        subtype="html",
    )
    return message.as_bytes()


def require_spamassassin() -> None:
    if spamassassin_path() is None:
        reason = "spamassassin is not installed (Debian package spamassassin)"
        if os.environ.get("CI"):
            pytest.fail(f"SpamAssassin is required under CI: {reason}")
        print(f"SKIP: {reason}")
        pytest.skip(reason)


def test_spammy_and_clean_messages_in_one_run() -> None:
    require_spamassassin()
    run = asyncio.run(score_messages([spammy(), clean()]))
    assert run.skipped is None
    bad, good = run.scores
    assert bad is not None and good is not None
    assert bad.is_spam and bad.required == 5.0 and bad.score >= 5.0
    names = {r.name for r in bad.rules}
    assert {"MIME_HTML_ONLY", "DRUGS_ERECTILE"} <= names
    html_only = next(r for r in bad.rules if r.name == "MIME_HTML_ONLY")
    assert html_only.description == "BODY: Message only has text/html MIME parts"
    assert "fix: add a text/plain alternative" in html_only.explained()
    # The score is the sum of the rules' points, as SpamAssassin rounds them.
    assert abs(sum(r.points for r in bad.rules) - bad.score) < 0.15
    assert not good.is_spam and good.score < 3.0
    assert "MIME_HTML_ONLY" not in {r.name for r in good.rules}


def test_a_run_that_does_not_finish_in_time_is_skipped_with_a_reason() -> None:
    require_spamassassin()
    run = asyncio.run(score_messages([clean()], timeout=0.05))
    assert run.scores == (None,)
    assert run.skipped == "spamassassin did not finish within 0.05 s"


def test_not_installed_is_skipped_with_a_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("spamassassin") is None
    run = asyncio.run(score_messages([clean()]))
    assert run.scores == (None,) and run.skipped is not None and "not installed" in run.skipped


def test_report_parsing_ignores_forged_markers_and_joins_wrapped_descriptions() -> None:
    text = "\n".join(
        [
            "LAUNCHREADY-SA-0000 99.0 5.0",  # in a message body: not this run's nonce
            " 99.0 FAKE_RULE        forged",
            "LAUNCHREADY-SA-END-0000",
            "LAUNCHREADY-SA-abcd 7.2 5.0",
            "",
            " 0.1 TVD_PH_SEC             BODY: Message includes a phrase commonly used in phishing",
            "                            mails",
            " 1.0 ADVANCE_FEE_2_NEW_MONEY Advance Fee fraud and lots of money",
            "-0.0 NO_RELAYS              Informational: message was not relayed via SMTP",
            "",
            "LAUNCHREADY-SA-END-abcd",
        ]
    )
    (score,) = parse_output(text, "abcd")
    assert (score.score, score.required, score.is_spam) == (7.2, 5.0, True)
    assert [(r.name, r.points, r.description) for r in score.rules] == [
        ("TVD_PH_SEC", 0.1, "BODY: Message includes a phrase commonly used in phishing mails"),
        ("ADVANCE_FEE_2_NEW_MONEY", 1.0, "Advance Fee fraud and lots of money"),
        ("NO_RELAYS", -0.0, "Informational: message was not relayed via SMTP"),
    ]


def test_a_message_over_the_size_limit_is_not_scored_and_says_why() -> None:
    require_spamassassin()
    # A hostile 5 MB header: not handed to SpamAssassin (spamd would skip it too), the others are.
    huge = b"X-Padding: " + b"a" * (5 * 1024 * 1024) + b"\r\n" + clean()
    run = asyncio.run(score_messages([huge, clean()]))
    assert run.skipped is None
    assert run.scores[0] is None and run.scores[1] is not None
    assert run.reason(0) == f"{len(huge)} bytes: over {MAX_SCORED_BYTES}, not scored (spamd skips such messages too)"
    assert run.reason(1) is None
