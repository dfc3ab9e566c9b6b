"""JSON report: validates against the shipped schema, and says what the run says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import ALL_FINDINGS, OLD_HEALTH, run_with_history, sample_run

from launchready.core.finding import Status
from launchready.core.run import HistoryDelta
from launchready.core.severity import Confidence, Impact, Severity
from launchready.report import ReportFormat, render
from launchready.report.json_report import SCHEMA_VERSION, load_schema, render_json


def _validate(document: dict[str, Any]) -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize(
    "run",
    [
        sample_run(),
        run_with_history(),
        sample_run(findings=(), results=()),
        sample_run(delta=HistoryDelta(previous_run_id=None)),
    ],
    ids=["no-history", "with-history", "empty", "first-run"],
)
def test_output_validates_against_shipped_schema(run) -> None:
    _validate(json.loads(render_json(run)))


def test_top_level_fields_and_values() -> None:
    doc = json.loads(render_json(run_with_history()))
    assert doc["schema_version"] == SCHEMA_VERSION == "1.0"
    assert doc["tool"] == {"name": "launchready", "version": "0.1.0"}
    assert doc["target"] == "example.com"
    assert doc["run_id"] == 4
    assert doc["started"] == "2024-05-01T14:03:07.123456Z"
    assert doc["finished"].endswith("Z")
    assert doc["decision"]["verdict"] == "PAUSE"
    assert doc["decision"]["rules"][0].startswith("PAUSE")


def test_findings_ranked_and_complete() -> None:
    doc = json.loads(render_json(run_with_history()))
    assert [f["id"] for f in doc["findings"]] == [f.id for f in ALL_FINDINGS]
    assert [f["rank"] for f in doc["findings"]] == list(range(1, len(ALL_FINDINGS) + 1))
    first = doc["findings"][0]
    assert first["fingerprint"] == "tls.certificate.expired@app.example.com"
    assert first["change"] == "new"
    assert doc["findings"][1]["change"] == "still-open"
    assert first["evidence"][0] == "notAfter=2024-04-01T00:00:00Z"
    assert first["remediation"].startswith("Renew the certificate")


def test_change_is_null_without_previous_run() -> None:
    doc = json.loads(render_json(sample_run()))
    assert {f["change"] for f in doc["findings"]} == {None}
    assert doc["history"] is None
    first = json.loads(render_json(sample_run(delta=HistoryDelta(previous_run_id=None))))
    assert first["history"]["previous_run_id"] is None
    assert {f["change"] for f in first["findings"]} == {None}


def test_summary_counts() -> None:
    doc = json.loads(render_json(sample_run()))
    assert doc["summary"]["findings"] == {
        "total": 7,
        "blocker": 2,
        "high": 2,
        "medium": 1,
        "low": 1,
        "info": 1,
    }
    checks = doc["summary"]["checks"]
    assert checks["error"] == 1 and checks["skipped"] == 1 and checks["passed"] == 2
    assert checks["total"] == checks["passed"] + checks["failed"] + checks["error"] + checks["skipped"]


def test_not_run_and_results_reference_findings_by_fingerprint() -> None:
    doc = json.loads(render_json(sample_run()))
    assert doc["not_run"] == [
        {
            "check_id": "web.https-redirect",
            "target": "admin.example.com",
            "reason": "connection refused by 127.0.0.1:443",
        }
    ]
    fingerprints = {f["fingerprint"] for f in doc["findings"]}
    referenced = {fp for r in doc["results"] for fp in r["finding_fingerprints"]}
    assert referenced == fingerprints
    assert all("findings" not in r for r in doc["results"])
    assert {r["status"] for r in doc["results"]} == {s.value for s in Status}


def test_history_section() -> None:
    doc = json.loads(render_json(run_with_history()))
    history = doc["history"]
    assert history["previous_run_id"] == 3
    assert history["new"] == [
        "tls.certificate.expired@app.example.com",
        "repo.secrets.live-key@src/settings.py:12",
    ]
    assert history["fixed"][0]["fingerprint"] == OLD_HEALTH.fingerprint
    assert history["previous_started"] == "2024-04-29T14:03:07.123456Z"


def test_hosts() -> None:
    doc = json.loads(render_json(sample_run()))
    www = next(h for h in doc["hosts"] if h["name"] == "www.example.com")
    assert www == {
        "name": "www.example.com",
        "addresses": ["127.0.0.1", "::1"],
        "cname_chain": ["example.com"],
        "found_by": "common",
    }


def test_naive_timestamps_are_taken_as_utc() -> None:
    from datetime import datetime

    doc = json.loads(render_json(sample_run(started=datetime(2024, 1, 2, 3, 4, 5))))
    assert doc["started"] == "2024-01-02T03:04:05Z"
    _validate(doc)


def test_schema_enums_match_the_model() -> None:
    """The schema is hand-written: fail loudly when the core enums grow and it does not."""
    defs = load_schema()["$defs"]
    assert defs["severity"]["enum"] == [s.value for s in Severity]
    assert defs["impact"]["enum"] == [i.value for i in Impact]
    assert defs["confidence"]["enum"] == [c.value for c in Confidence]


def test_schema_rejects_a_broken_document() -> None:
    doc = json.loads(render_json(sample_run()))
    doc["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_dispatcher_json_matches() -> None:
    run = sample_run()
    assert render(run, ReportFormat.JSON) == render_json(run)


def test_documented_example_is_valid() -> None:
    doc = Path(__file__).parent.parent / "docs" / "report-schema.md"
    text = doc.read_text("utf-8")
    block = text.split("### Example (abridged)", 1)[1].split("```json\n", 1)[1].split("\n```", 1)[0]
    _validate(json.loads(block))
