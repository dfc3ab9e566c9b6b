"""Accepted findings: reported as accepted everywhere, not counted; expired ones count again."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from cliutil import run_cli
from report_samples import DMARC, HSTS, sample_run
from rich.console import Console

from launchready.config.loader import ConfigError, load_config
from launchready.config.model import AcceptedFinding
from launchready.engine.audit import apply_acceptances
from launchready.lab.lab import Lab
from launchready.report.html import render_html
from launchready.report.json_report import load_schema, render_json
from launchready.report.junit import render_junit
from launchready.report.markdown import render_markdown
from launchready.report.sarif import render_sarif
from launchready.report.terminal import render_terminal

TODAY = date(2024, 5, 1)


def _accept(finding: str, until: date) -> AcceptedFinding:
    return AcceptedFinding(finding=finding, reason="waiting for the CDN switch", by="Ana", until=until)


def test_unexpired_acceptance_marks_and_expired_one_reopens() -> None:
    findings, expired = apply_acceptances(
        (DMARC, HSTS),
        (_accept(DMARC.fingerprint, date(2024, 6, 1)), _accept(HSTS.fingerprint, date(2024, 4, 30))),
        TODAY,
    )
    dmarc, hsts = findings
    assert dmarc.accepted is not None and dmarc.accepted.by == "Ana"
    assert hsts.accepted is None
    assert expired == (HSTS.fingerprint,)
    # The last day still holds.
    [same_day], _ = apply_acceptances((DMARC,), (_accept(DMARC.fingerprint, TODAY),), TODAY)
    assert same_day.accepted is not None


def test_every_format_shows_an_accepted_finding_as_accepted() -> None:
    base = sample_run()
    [marked], _ = apply_acceptances((DMARC,), (_accept(DMARC.fingerprint, date(2024, 6, 1)),), TODAY)
    run = base.model_copy(update={"findings": tuple(marked if f.id == DMARC.id else f for f in base.findings)})
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    render_terminal(run, console)
    out = console.export_text()
    assert "Accepted for now: 1 finding(s), not counted" in out
    assert "accepted by Ana until 2024-06-01: waiting for the CDN switch" in out
    assert "Risks: 2 blocker · 1 high" in out  # DMARC (high) is no longer counted
    md = render_markdown(run)
    assert "## Accepted for now" in md and "| Ana | 2024-06-01 | waiting for the CDN switch |" in md
    html = render_html(run)
    assert "Accepted for now" in html and "waiting for the CDN switch" in html
    doc = json.loads(render_json(run))
    import jsonschema

    jsonschema.validate(doc, load_schema())
    [entry] = [f for f in doc["findings"] if f["id"] == DMARC.id]
    assert entry["accepted"] == {"reason": "waiting for the CDN switch", "by": "Ana", "until": "2024-06-01"}
    assert doc["summary"]["findings"]["high"] == 1
    sarif = json.loads(render_sarif(run))
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == DMARC.id]
    assert result["suppressions"][0]["kind"] == "external"
    assert "waiting for the CDN switch" in result["suppressions"][0]["justification"]
    suite = ET.fromstring(render_junit(run)).find("testsuite")
    assert suite is not None
    [case] = [c for c in suite.iter("testcase") if c.get("name", "").startswith("email.dmarc")]
    assert case.find("failure") is None
    assert "Accepted (not a failure)" in (case.findtext("system-out") or "")


def test_a_malformed_acceptance_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "launchready.toml"
    path.write_text('[[audit.accept]]\nfinding = "web.hsts.missing"\nreason = "x"\nby = "me"\nuntil = 2030-01-01\n')
    with pytest.raises(ConfigError, match=r"launchready.toml:2.*id@target"):
        load_config(path)


def test_accepting_the_only_finding_lets_the_lab_ship(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Lab(faults=["dmarc-missing"]) as lab:
        config = tmp_path / "launchready.toml"
        accept = (
            '\n[[audit.accept]]\nfinding = "email.dmarc.missing@marketlab.test"\n'
            'reason = "DMARC goes live with the mail provider switch"\nby = "Ana"\nuntil = {until}\n'
        )
        args = ["audit", "-c", str(config), "--only", "email.dmarc", "--format", "json", "--quiet", "--no-history"]
        config.write_text(lab.config_toml() + accept.format(until="2999-12-31"), encoding="utf-8")
        code, out, err = run_cli([*args, "--fail-on", "high", *lab.cli_args()], capsys)
        report = json.loads(out)
        assert code == 0, err
        assert report["decision"]["verdict"] == "SHIP"
        [finding] = report["findings"]
        assert finding["accepted"]["by"] == "Ana"
        config.write_text(lab.config_toml() + accept.format(until="2000-01-01"), encoding="utf-8")
        code, out, _ = run_cli([*args, "--fail-on", "high", *lab.cli_args()], capsys)
        report = json.loads(out)
        assert code == 1
        assert report["findings"][0]["accepted"] is None
        assert any("expired" in r for r in report["decision"]["reasons"])
