"""Every format counts the same way and starts with the same first actions."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
from report_samples import ALL_FINDINGS, sample_run
from rich.console import Console

from launchready.report.html import render_html
from launchready.report.json_report import load_schema, render_json
from launchready.report.junit import render_junit
from launchready.report.markdown import render_markdown
from launchready.report.sarif import render_sarif
from launchready.report.terminal import render_terminal
from launchready.report.view import check_outcomes, top_actions


def _terminal(run) -> str:
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    render_terminal(run, console)
    return console.export_text()


def test_checks_with_findings_are_counted_alike_in_every_format() -> None:
    run = sample_run()
    with_findings, notes_only = check_outcomes(run)
    assert notes_only == 1  # SPF ~all is informational: a note, not a JUnit failure
    suite = ET.fromstring(render_junit(run)).find("testsuite")
    assert suite is not None and int(suite.get("failures", "-1")) == with_findings
    assert f"{with_findings} with findings, {notes_only} with notes only" in _terminal(run)
    assert f"{with_findings} found problems, {notes_only} with notes only" in render_html(run)
    assert f"({with_findings} with findings, {notes_only} with notes only" in render_markdown(run)


def test_first_actions_lead_every_format() -> None:
    run = sample_run()
    first = top_actions(run)
    assert [a.lead.id for a in first] == [f.id for f in ALL_FINDINGS[:3]]
    doc = json.loads(render_json(run))
    jsonschema.validate(doc, load_schema())
    assert [a["finding_ids"][0] for a in doc["first_actions"]] == [a.lead.id for a in first]
    sarif = json.loads(render_sarif(run))
    assert [a["ruleIds"][0] for a in sarif["runs"][0]["properties"]["firstActions"]] == [a.lead.id for a in first]
    junit = render_junit(run)
    assert re.search(r'name="first\.1" value="TLS certificate expired: Renew', junit)
    md = render_markdown(run)
    assert md.index("## Do these 3 first") < md.index("## Ranked risks")
    html = render_html(run)
    assert html.index("Do these 3 first") < html.index("All risks at a glance") < html.index("Risks, most urgent first")


def test_checks_that_did_not_apply_are_listed_with_their_reason() -> None:
    run = sample_run()  # repo.history was skipped: "no git history"
    assert "Did not apply: 1 check run(s) (-v lists them with the reason)" in _terminal(run)
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    render_terminal(run, console, verbose=True)
    assert "repo.history: no git history" in console.export_text()
    assert "- `repo.history`: no git history" in render_markdown(run)
    html = render_html(run)
    assert "Checks that did not apply (1)" in html and "no git history" in html
