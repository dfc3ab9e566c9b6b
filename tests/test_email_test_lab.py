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

from launchready.core.labfault import LabFault
from launchready.lab.faults import LAB_DOMAIN, faults
from launchready.lab.lab import Lab

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
            ["audit", "--config", str(config), "--only", "email.message", "--format", "json", "--quiet",
             "--no-history", *lab.cli_args()],
            capsys,
        )  # fmt: skip
    report = json.loads(out)
    found = {(f["id"], f["target"]) for f in report["findings"]}
    assert ("email.message.no-text-part", CONFIRMATION) in found, err
    assert len(found) == 3


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
