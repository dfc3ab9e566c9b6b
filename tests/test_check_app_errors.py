"""app.errors: the judge over what the audit saw, then the check against the lab's hosted tracker
stand-in (lab/error_tracker.py) over real loopback DNS, TLS and HTTP, and `errors test` on the
same code path."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from test_check_lab import findings_of, run_check

from launchready.checks.app.errors import ReportingFacts, judge
from launchready.config.model import Config
from launchready.core.errors import CouldNotRun
from launchready.core.errortracking import DsnDelivery, build_test_envelope, delivery_verdict, parse_dsn
from launchready.core.severity import Severity
from launchready.lab.error_tracker import PROJECT_IDS, TRACKER_HOST
from launchready.lab.lab import Lab

KEY = "0123456789abcdef0123456789abcdef"
DSN = f"https://{KEY}@o1.ingest.example.test/42"


def facts(values: dict[str, str], declared: dict[str, str] | None = None, **deliveries: DsnDelivery) -> ReportingFacts:
    return ReportingFacts("production", declared or {}, "production.env", values, deliveries)


def delivery(arrived: bool, status: int | None, detail: str) -> DsnDelivery:
    dsn = parse_dsn(DSN)
    return DsnDelivery(dsn.masked, dsn.envelope_url, "e" * 32, arrived, status, detail, None if status else "dns")


def test_a_dsn_whose_test_event_arrived_passes() -> None:
    assert judge(facts({"SENTRY_DSN": DSN}, SENTRY_DSN=delivery(True, 200, "accepted"))) == []


def test_nothing_anywhere_is_not_configured_on_sentry_dsn() -> None:
    [finding] = judge(facts({"OTHER_DSN": ""}))
    assert (finding.id, finding.target, finding.severity) == (
        "app.errors.not-configured",
        "production:SENTRY_DSN",
        Severity.HIGH,
    )
    assert "SENTRY_DSN=https://<public key>@<host>/<project id>" in finding.remediation
    assert "launchready monitor project add" in finding.remediation


def test_declared_but_empty_or_absent_in_production() -> None:
    found = judge(
        facts(
            {"SENTRY_DSN": "changeme"},
            {"SENTRY_DSN": ".env.example", "NEXT_PUBLIC_SENTRY_DSN": ".env.example"},
        )
    )
    assert [(f.id, f.target) for f in found] == [
        ("app.errors.missing-in-production", "production:NEXT_PUBLIC_SENTRY_DSN"),
        ("app.errors.missing-in-production", "production:SENTRY_DSN"),
    ]
    assert found[0].title == "NEXT_PUBLIC_SENTRY_DSN is declared but not set in production"
    assert found[1].title == "SENTRY_DSN is declared but empty or a placeholder in production"
    assert "changeme" not in " ".join(found[1].evidence)


def test_a_value_that_is_not_a_dsn_is_invalid_and_never_shown() -> None:
    value = "sntrys_" + "aB3dE5gH" * 5  # an auth token pasted where the DSN goes
    [finding] = judge(facts({"SENTRY_DSN": value}, {"SENTRY_DSN": ".env.example"}))
    assert (finding.id, finding.target) == ("app.errors.invalid-dsn", "production:SENTRY_DSN")
    assert value not in " ".join([finding.title, *finding.evidence, finding.remediation])


def test_refused_and_rate_limited_events_are_not_delivered_with_their_own_fix() -> None:
    [refused] = judge(facts({"SENTRY_DSN": DSN}, SENTRY_DSN=delivery(False, 403, "refused with HTTP 403: bad key")))
    assert refused.id == "app.errors.not-delivered" and refused.severity is Severity.HIGH
    assert "Client Keys" in refused.remediation
    assert KEY not in " ".join(refused.evidence) and "0123…(32 chars)" in " ".join(refused.evidence)
    [limited] = judge(facts({"SENTRY_DSN": DSN}, SENTRY_DSN=delivery(False, 429, "refused with HTTP 429")))
    assert limited.severity is Severity.MEDIUM and "sample_rate" in limited.remediation


def test_a_dsn_without_a_delivery_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge(facts({"SENTRY_DSN": DSN}))


def test_the_verdict_wants_the_event_id_back() -> None:
    event_id = "a" * 32
    assert delivery_verdict(event_id, 200, b'{"id": "' + event_id.encode() + b'"}') == (True, "accepted")
    assert delivery_verdict(event_id, 200, b"<html>ok</html>")[0] is False
    assert delivery_verdict(event_id, 403, b"", "invalid api key") == (False, "refused with HTTP 403: invalid api key")
    envelope = build_test_envelope(parse_dsn(DSN), event_id, __import__("datetime").datetime(2026, 1, 1))
    assert envelope.count(b"\n") == 3 and b'"launchready.test": "true"' in envelope


# -- against the lab: the tracker stand-in on the lab's HTTPS port ----------------------------


def test_clean_lab_sends_one_test_event_that_the_tracker_receives(lab: Lab) -> None:
    before = len(lab.error_tracker.received.get(PROJECT_IDS["production"], []))
    assert findings_of(run_check("app.errors", lab)) == []
    assert len(lab.error_tracker.received[PROJECT_IDS["production"]]) == before + 1


def _config_with_production_env(lab: Lab, path: Path, text: str) -> Config:
    path.write_text(text, encoding="utf-8")
    data = tomllib.loads(lab.config_toml())
    data.setdefault("audit", {})["discover"] = False
    data["secrets"]["env"]["sources"]["production"] = str(path)
    return Config.model_validate(data)


def test_a_wrong_key_is_refused_by_the_tracker(lab: Lab, tmp_path: Path) -> None:
    wrong = "f" * 32
    config = _config_with_production_env(
        lab, tmp_path / "production.env", f"SENTRY_DSN=https://{wrong}@{TRACKER_HOST}/{PROJECT_IDS['production']}\n"
    )
    [finding] = findings_of(run_check("app.errors", lab, config=config))
    assert finding.id == "app.errors.not-delivered"
    assert "answer: refused with HTTP 403: invalid api key" in finding.evidence
    assert wrong not in " ".join(finding.evidence)


def test_dead_tracker_names_the_host_that_does_not_answer() -> None:
    with Lab(faults=["error-dsn-dead"]) as lab:
        [finding] = findings_of(run_check("app.errors", lab))
    assert finding.id == "app.errors.not-delivered"
    assert finding.title == "Production's error tracker does not answer (SENTRY_DSN)"
    assert any(e.startswith("no answer: could not reach sentry.marketlab.test") for e in finding.evidence)


def test_an_unreadable_environment_file_could_not_run(lab: Lab, tmp_path: Path) -> None:
    config = _config_with_production_env(lab, tmp_path / "production.env", "SENTRY_DSN='never closed\n")
    outcome = run_check("app.errors", lab, config=config)["production"]
    assert isinstance(outcome, CouldNotRun) and "production.env:1" in str(outcome)
