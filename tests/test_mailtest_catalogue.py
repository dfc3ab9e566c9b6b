"""The mail tests' findings are in the catalogue, declared by the registry check email.message:
`launchready checks` lists every one, `explain` explains the ones the extra checks add."""

from __future__ import annotations

import json

import pytest
from cliutil import run_cli

from launchready.mailtest.judge import FINDING_RULES
from launchready.mailtest.rules import EXTENDED_RULES


def test_checks_lists_every_mail_test_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["checks", "--json"], capsys)
    assert code == 0
    (entry,) = [c for c in json.loads(out) if c["id"] == "email.message"]
    # The check declares the delivery findings beside every kind the message judge reports.
    assert {f["id"] for f in entry["findings"]} >= {f"email.message.{kind}" for kind in FINDING_RULES}
    assert set(EXTENDED_RULES) <= set(FINDING_RULES)


@pytest.mark.parametrize(
    ("finding_id", "severity"),
    [
        ("email.message.landed-in-junk", "high"),
        ("email.message.provider-auth-fail", "high"),
        ("email.message.spam-score", "high"),
        ("email.message.dead-link", "high"),
        ("email.message.dead-image", "low"),
    ],
)
def test_explain_the_extra_checks_findings(finding_id: str, severity: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["explain", finding_id, "--raw"], capsys)
    assert code == 0
    assert out.startswith(f"# {finding_id}: {EXTENDED_RULES[finding_id.rsplit('.', 1)[1]].title}")
    assert f"**Severity** {severity}" in out and "## Fix" in out and "https://" in out
