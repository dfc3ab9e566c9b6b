"""`launchready email test` against the lab: the clean lab's mail is clean, each mail fault gives
exactly its declared findings, a message that never comes is a finding, and `--listen` receives
the mail itself so SPF is judged for the relay that really delivered it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cliutil import run_cli
from netutil import closed_port

from launchready.cli.audit_cmd import FLOWS_TWICE_NOTE
from launchready.core.labfault import LabFault
from launchready.lab.faults import LAB_DOMAIN, faults
from launchready.lab.lab import Lab
from tests.test_mailtest_spam import require_spamassassin

MAIL_FAULTS = tuple(f for f in faults() if f.triggers[0].startswith("email.message."))
CONFIRMATION = f"https://app.{LAB_DOMAIN} flow:signup email:confirmation email"


def write_config(lab: Lab, tmp_path: Path, **email: Any) -> Path:
    """The lab's launchready.toml with extra [email] keys (delivery budget, wait)."""
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in email.items())
    path = tmp_path / "launchready.toml"
    path.write_text(lab.config_toml().replace("[email]\n", "[email]\n" + extra, 1), encoding="utf-8")
    return path


def email_test(
    lab: Lab, config: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(
        ["email", "test", "--config", str(config), "--format", "json", "--quiet", *lab.cli_args(), *args], capsys
    )
    return code, json.loads(out) if out.strip().startswith("{") else {}, err


def mail_facts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in report["host_facts"] if f["check_id"] == "email.message"}


def test_the_clean_labs_mail_arrives_authenticated_and_clean(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, err = email_test(lab, write_config(lab, tmp_path), capsys)
    assert code == 0, err
    assert report["findings"] == []
    facts = mail_facts(report)
    assert set(facts) == {
        "Mail: signup / confirmation email",
        "Mail: invite / invitation email",
        "Mail: password-reset / reset email",
    }
    for fact in facts.values():
        assert fact["value"].startswith("arrived in ")
        [verdicts] = [d for d in fact["detail"] if d.startswith("Authentication-Results:")]
        # The mailbox's Received field names the relay: SPF is judged for it, DKIM for the app's key.
        assert "spf=pass" in verdicts and "smtp.helo=smtp.marketlab.test" in verdicts
        assert "dkim=pass header.d=marketlab.test header.s=lab" in verdicts
        assert "dmarc=pass" in verdicts


def expected(fault: LabFault) -> set[tuple[str, str]]:
    return {(finding_id, target.format(domain=LAB_DOMAIN)) for finding_id, target in fault.caught}


@pytest.mark.parametrize("fault", MAIL_FAULTS, ids=lambda f: f.name)
def test_each_mail_fault_gives_its_findings(
    fault: LabFault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    email_keys = {k: v for k, v in fault.lab_config.get("email", {}).items() if k != "test"}
    with Lab(faults=[fault.name], **fault.lab_settings) as lab:
        code, report, err = email_test(lab, write_config(lab, tmp_path, **email_keys), capsys)
    assert {(f["id"], f["target"]) for f in report["findings"]} == expected(fault), err
    high = any(f["severity"] in ("high", "blocker") for f in report["findings"])
    assert code == (1 if high else 0)


def test_a_message_that_never_comes_is_a_finding_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Lab(faults=["verification-email-missing"]) as lab:
        code, report, err = email_test(lab, write_config(lab, tmp_path, wait_s=1.5), capsys)
    assert code == 1
    [lost] = [f for f in report["findings"] if f["id"] == "email.message.not-delivered"]
    assert lost["target"] == CONFIRMATION
    # The step's own timeout (3 s in the lab's flow file) is longer than wait_s: the longer one counts.
    assert any(re.fullmatch(r"no message to \S+ within [3-9]\.\ds", e) for e in lost["evidence"])
    # The reset flow does not depend on the confirmation: its message is still judged (and clean).
    facts = mail_facts(report)
    assert facts["Mail: password-reset / reset email"]["value"].startswith("arrived in ")
    assert facts["Mail: signup / confirmation email"]["value"].startswith("not delivered")
    # The invitation was never asked for: its flow signs up first and stopped there.
    unsent = facts["Mail: invite / invitation email"]
    assert unsent["value"] == "not sent: the flow failed before it"
    assert "confirmation email" in unsent["detail"][0]


def test_listen_receives_the_mail_and_judges_spf_from_the_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    with Lab(mail_relay_to=("127.0.0.1", port)) as lab:
        code, report, err = email_test(
            lab, write_config(lab, tmp_path), capsys, "--listen", f"127.0.0.1:{port}", "--flow", "signup"
        )
        # The relay delivered to the test's own receiver, not to the lab's mailbox.
        assert lab.messages() == []
    assert code == 0, err
    assert report["findings"] == []
    [fact] = mail_facts(report).values()
    [verdicts] = [d for d in fact["detail"] if d.startswith("Authentication-Results:")]
    assert "spf=pass (matched ip4:127.0.0.1) smtp.mailfrom=no-reply@marketlab.test smtp.helo=smtp.marketlab.test" in (
        verdicts
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "nowhere"], "--listen 'nowhere': expected HOST:PORT"),
        (["--env", "staging"], "--env staging: no [environments.staging] in launchready.toml (known: production)"),
        (["--flow", "checkout"], "--flow checkout: not a flow with an email step of its own"),
    ],
)
def test_bad_command_lines_are_one_line_errors(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = email_test(lab, write_config(lab, tmp_path), capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_every_report_format_carries_the_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["email-reset-link-localhost"]) as lab:
        config = write_config(lab, tmp_path)
        for fmt, marker in (("md", "email.message.local-link"), ("sarif", '"ruleId": "email.message.local-link"'),
                            ("junit", "email.message.local-link"), ("html", "email.message.local-link")):  # fmt: skip
            code, out, err = run_cli(
                ["email", "test", "--config", str(config), "--format", fmt, "--quiet", "--flow", "password-reset",
                 *lab.cli_args()],
                capsys,
            )  # fmt: skip
            assert code == 1, err
            assert marker in out, fmt


def test_the_audit_runs_the_mail_test_when_the_config_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Lab(faults=["email-html-only"]) as lab:
        config = write_config(lab, tmp_path, test=True)
        code, out, err = run_cli(
            ["audit", "--config", str(config), "--only", "email.message", "--only", "app.smoke", "--format",
             "json", "--no-history", *lab.cli_args()],
            capsys,
        )  # fmt: skip
    report = json.loads(out)
    found = {(f["id"], f["target"]) for f in report["findings"] if f["check_id"] == "email.message"}
    assert ("email.message.no-text-part", CONFIRMATION) in found, err
    assert len(found) == 3
    # Both checks ran the mail-sending flows, and the audit said why, once.
    assert {r["check_id"] for r in report["results"]} == {"app.smoke", "email.message"}
    assert err.count(FLOWS_TWICE_NOTE) == 1
    # Each message's subject is shown as the member reads it.
    detail = mail_facts(report)["Mail: signup / confirmation email"]["detail"]
    assert any(line.startswith("Subject: Confirm your") for line in detail), detail


def test_a_dead_mailbox_is_could_not_run_never_a_pass(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(lab, tmp_path)
    dead = f"http://127.0.0.1:{closed_port()}"
    config.write_text(config.read_text(encoding="utf-8").replace(lab.mailbox_api_url, dead), encoding="utf-8")
    code, report, err = email_test(lab, config, capsys, "--flow", "signup")
    assert code == 1
    assert report["findings"] == []
    assert "email test could not run on production: the mailbox could not be read: signup: step" in err
    assert "connection refused" in err.lower() or "answered" in err


def test_more_judges_plug_into_every_message(lab: Lab) -> None:
    """The hook the spam, link and folder judges use: it sees each message once, and its findings land
    on the message's stable target like the built-in ones."""
    import asyncio
    import tomllib

    from launchready.config.model import Config
    from launchready.mailtest.judge import finding
    from launchready.mailtest.message import ParsedMessage
    from launchready.mailtest.policy import config_policy
    from launchready.mailtest.run import MailTest

    seen: list[str] = []

    async def stand_in_judge(message: ParsedMessage, target: str) -> list[Any]:
        subject = message.first("subject") or ""
        seen.append(subject)
        return [finding("html-clipped", target, [f"Subject: {subject}"])] if subject.startswith("Reset") else []

    data = tomllib.loads(lab.config_toml())
    data["email"]["test"] = True
    config = Config.model_validate(data)
    tester = MailTest(config, lab.net_settings(), config_policy(config), extra_checks=[stand_in_judge])
    facts = asyncio.run(tester.test("production"))
    assert len(seen) == len(facts.messages) == 3
    [(target, found)] = [(m.target, m.findings) for m in facts.messages if m.findings]
    assert target == f"https://app.{LAB_DOMAIN} flow:password-reset email:reset email"
    [clipped] = found
    assert clipped.id == "email.message.html-clipped" and clipped.target == target
    assert clipped.evidence[0].startswith("Message-ID: <")
    assert "Subject: Reset your Market Lab password" in clipped.evidence


def test_spamassassin_scores_every_message_of_the_run(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_spamassassin()
    code, report, err = email_test(lab, write_config(lab, tmp_path), capsys)
    assert code == 0, err
    facts = mail_facts(report)
    assert len(facts) == 3
    for fact in facts.values():
        [line] = [d for d in fact["detail"] if d.startswith("SpamAssassin: ")]
        match = re.fullmatch(r"SpamAssassin: (-?\d+\.\d) \(spam at (\d+\.\d)\)", line)
        assert match is not None, line
        # The lab's mail is signed, aligned, text+HTML: well under the warning score, so no finding.
        assert float(match.group(1)) < 3.0 <= float(match.group(2))
    assert not any(f["id"] == "email.message.spam-score" for f in report["findings"])


def test_no_spamassassin_says_it_did_not_score(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = email_test(lab, write_config(lab, tmp_path), capsys, "--no-spamassassin", "--flow", "signup")
    assert code == 0, err
    [fact] = mail_facts(report).values()
    assert not any(d.startswith("SpamAssassin") for d in fact["detail"])


def test_check_links_judges_the_links_after_the_flows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["email-reset-link-localhost"]) as lab:
        code, report, err = email_test(lab, write_config(lab, tmp_path), capsys, "--check-links", "--no-spamassassin")
    assert code == 1, err
    # The localhost link is its own finding and is never dialled. The confirmation and invitation
    # links were followed by their flows, whose one-time tokens are spent by then: the flow's answer
    # counts for them (dialled again they would answer 400/404, "already used"), so no dead-link.
    reset = f"https://app.{LAB_DOMAIN} flow:password-reset email:reset email"
    assert {(f["id"], f["target"]) for f in report["findings"]} == {("email.message.local-link", reset)}
    facts = mail_facts(report)
    links = {name: [d for d in fact["detail"] if d.startswith("Links: ")] for name, fact in facts.items()}
    assert links == {
        "Mail: signup / confirmation email": ["Links: 1 of 1 answered"],
        "Mail: invite / invitation email": ["Links: 1 of 1 answered"],
        "Mail: password-reset / reset email": ["Links: 0 of 0 answered"],
    }


def test_an_imap_mailbox_gives_the_folder_and_the_providers_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's relay delivers to a stand-in provider: an SMTP server that stamps its own
    Authentication-Results and files the message in a real dovecot, invitations in its Junk folder
    (with a failing DKIM verdict), the rest in the Inbox. The mail test reads them over IMAP."""
    import asyncio
    import tomllib
    from dataclasses import replace

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Envelope, Session

    from launchready.config.model import Config
    from launchready.mailtest.extended import ExtendedOptions
    from launchready.mailtest.policy import config_policy
    from launchready.mailtest.run import MailTest
    from tests.dovecotutil import JUNK_FOLDER, PASSWORD, USER, running_dovecot

    with running_dovecot() as dovecot:

        class Provider:
            async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
                raw = bytes(envelope.original_content or b"")
                junk = b"invited you" in raw
                verdict = "dkim=fail header.d=marketlab.test" if junk else "dkim=pass header.d=marketlab.test"
                stamped = f"Authentication-Results: mx.inbox.test; {verdict}\r\n".encode() + raw
                await asyncio.to_thread(dovecot.deliver, JUNK_FOLDER if junk else "INBOX", stamped)
                return "250 filed"

        port = closed_port()
        provider = Controller(Provider(), hostname="127.0.0.1", port=port)
        provider.start()
        try:
            with Lab(mail_relay_to=("127.0.0.1", port)) as lab:
                data = tomllib.loads(lab.config_toml())
                data["email"]["test"] = True
                data["smoke"]["mailbox"] = {
                    "kind": "imap",
                    "host": "127.0.0.1",
                    "port": dovecot.port,
                    "username": USER,
                    "password": "${env:TEST_IMAP_PASSWORD}",
                    "poll_seconds": 0.2,
                }
                monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
                config = Config.model_validate(data)
                bundle = tmp_path / "both-cas.pem"
                bundle.write_text(lab.ca_bundle.read_text() + dovecot.ca_bundle.read_text())
                net = replace(lab.net_settings(), ca_bundle=bundle)
                tester = MailTest(config, net, config_policy(config), options=ExtendedOptions(spamassassin=False))
                facts = asyncio.run(tester.test("production"))
        finally:
            provider.stop()
    assert facts.problem is None
    by_step = {m.step: m for m in facts.messages}
    assert set(by_step) == {"confirmation email", "invitation email", "reset email"}
    assert all(m.arrived for m in facts.messages)
    invitation = by_step["invitation email"]
    extra = {f.id for f in invitation.findings} & {"email.message.landed-in-junk", "email.message.provider-auth-fail"}
    assert extra == {"email.message.landed-in-junk", "email.message.provider-auth-fail"}
    assert f"Mailbox folder: {JUNK_FOLDER} (spam: flagged \\Junk)" in invitation.checked
    assert any(line.startswith("Provider's Authentication-Results: mx.inbox.test") for line in invitation.checked)
    for name in ("confirmation email", "reset email"):
        clean = by_step[name]
        assert not {f.id for f in clean.findings} & {"email.message.landed-in-junk", "email.message.provider-auth-fail"}
        assert "Mailbox folder: INBOX" in clean.checked
