"""SARIF: valid against the official 2.1.0 schema and within what GitHub code scanning accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import (
    ALL_FINDINGS,
    DMARC,
    SECRET,
    finding,
    run_with_history,
    sample_run,
)

from launchready.core.severity import Severity
from launchready.report import ReportFormat, render
from launchready.report.sarif import LEVEL, PSEUDO_FILE, SECURITY_SEVERITY, render_sarif

SCHEMA_PATH = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"


def _sarif(run) -> dict[str, Any]:
    return json.loads(render_sarif(run))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    assert "sarif" in schema["id"] and "2.1.0" in schema["id"]
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.mark.parametrize(
    "run",
    [sample_run(), run_with_history(), sample_run(findings=(), results=())],
    ids=["plain", "history", "empty"],
)
def test_valid_against_official_schema(validator, run) -> None:
    errors = sorted(validator.iter_errors(_sarif(run)), key=str)
    assert not errors, errors[0]


def test_one_run_with_driver() -> None:
    doc = _sarif(sample_run())
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "launchready"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")


def test_level_mapping_is_explicit() -> None:
    assert LEVEL == {
        Severity.BLOCKER: "error",
        Severity.HIGH: "error",
        Severity.MEDIUM: "warning",
        Severity.LOW: "note",
        Severity.INFO: "note",
    }
    doc = _sarif(sample_run())
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    for f in ALL_FINDINGS:
        assert levels[f.id] == LEVEL[f.severity]


def test_security_severity_on_results_and_rules() -> None:
    assert SECURITY_SEVERITY == {
        Severity.BLOCKER: "9.5",
        Severity.HIGH: "8.0",
        Severity.MEDIUM: "5.5",
        Severity.LOW: "3.0",
        Severity.INFO: "0.0",
    }
    run = sample_run()
    doc = _sarif(run)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    for result in doc["runs"][0]["results"]:
        sev = next(f.severity for f in ALL_FINDINGS if f.id == result["ruleId"])
        assert result["properties"]["security-severity"] == SECURITY_SEVERITY[sev]
        # GitHub reads the score from the rule, as a string holding a number in 0..10.
        score = float(rules[result["ruleId"]]["properties"]["security-severity"])
        assert 0.0 <= score <= 10.0


def test_rules_are_the_distinct_finding_ids() -> None:
    twice = (DMARC, finding("email.dmarc.missing", Severity.BLOCKER, "other.example.com"))
    doc = _sarif(sample_run(findings=twice))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["email.dmarc.missing"]
    rule = rules[0]
    assert rule["shortDescription"]["text"] == DMARC.title
    assert rule["help"]["text"] == DMARC.remediation
    assert rule["helpUri"] == DMARC.references[0]
    assert "security" in rule["properties"]["tags"]
    # The rule carries the worst score of its results.
    assert rule["properties"]["security-severity"] == "9.5"
    assert [r["ruleIndex"] for r in doc["runs"][0]["results"]] == [0, 0]


def test_help_uri_skips_non_web_references() -> None:
    doc = _sarif(sample_run())
    rule = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "tls.certificate.expired")
    assert rule["helpUri"].startswith("https://")
    no_refs = next(r for r in doc["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "dns.caa.missing")
    assert "helpUri" not in no_refs


def test_every_result_has_a_github_acceptable_location() -> None:
    doc = _sarif(run_with_history())
    for result in doc["runs"][0]["results"]:
        assert result["locations"], "GitHub rejects results without a location"
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert "uriBaseId" not in physical["artifactLocation"]
        assert physical["region"]["startLine"] >= 1


def test_file_target_becomes_physical_location() -> None:
    doc = _sarif(sample_run())
    result = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == SECRET.id)
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "src/settings.py"
    assert location["physicalLocation"]["region"] == {"startLine": 12}
    assert "logicalLocations" not in location


def test_host_and_url_targets_anchor_to_pseudo_file() -> None:
    doc = _sarif(sample_run())
    for result in doc["runs"][0]["results"]:
        if result["ruleId"] == SECRET.id:
            continue
        location = result["locations"][0]
        target = result["properties"]["target"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == PSEUDO_FILE
        assert location["physicalLocation"]["region"]["startLine"] == 1
        assert location["logicalLocations"][0]["fullyQualifiedName"] == target
        assert target in result["message"]["text"]


def test_host_with_port_is_not_mistaken_for_a_file() -> None:
    on_port = finding("tls.certificate.expired", Severity.HIGH, "app.example.com:8443")
    on_ip = finding("tls.certificate.weak", Severity.HIGH, "127.0.0.1:443")
    on_file = finding("repo.secrets.live-key", Severity.HIGH, "config/prod settings.py:7:3")
    doc = _sarif(sample_run(findings=(on_port, on_ip, on_file)))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]]
    assert uris == [PSEUDO_FILE, PSEUDO_FILE, "config/prod%20settings.py"]
    region = doc["runs"][0]["results"][2]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 3}


def test_partial_fingerprints_and_change() -> None:
    doc = _sarif(run_with_history())
    results = doc["runs"][0]["results"]
    assert [r["partialFingerprints"]["launchreadyFinding/v1"] for r in results] == [f.fingerprint for f in ALL_FINDINGS]
    assert results[0]["properties"]["change"] == "new"


def test_not_run_checks_are_notifications_not_results() -> None:
    doc = _sarif(sample_run())
    run = doc["runs"][0]
    assert all(r["ruleId"] != "web.https-redirect" for r in run["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["descriptor"]["id"] == "web.https-redirect"
    assert "could not run" in notes[0]["message"]["text"]


def test_dispatcher() -> None:
    run = sample_run()
    assert render(run, ReportFormat.SARIF) == render_sarif(run)
