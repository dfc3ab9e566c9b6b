"""JUnit XML: valid against the JUnit XSD, strictly parseable, and counts that add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from report_samples import (
    CERT_EXPIRED,
    SPF_SOFT,
    XSS,
    finding,
    run_with_history,
    sample_run,
)

from launchready.core.finding import CheckResult, Status
from launchready.core.severity import Severity
from launchready.report import ReportFormat, render
from launchready.report.junit import render_junit

XSD = Path(__file__).parent / "data" / "schemas" / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


def _parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


@pytest.mark.parametrize(
    "run",
    [sample_run(), run_with_history(), sample_run(findings=(), results=())],
    ids=["plain", "history", "empty"],
)
def test_valid_against_xsd(schema, run) -> None:
    text = render_junit(run)
    schema.validate(text)
    _parse(text)


def test_counts_match_testcases() -> None:
    root = _parse(render_junit(sample_run()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "launchready audit example.com"
    cases = suite.findall("testcase")
    assert int(suite.get("tests")) == len(cases) == len(sample_run().results)
    assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
    assert int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None) == 1
    assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None) == 1
    for attr in ("tests", "failures", "errors", "skipped", "time"):
        assert root.get(attr) == suite.get(attr)
    assert float(suite.get("time")) == pytest.approx(4.25)


def test_failure_message_and_text() -> None:
    root = _parse(render_junit(sample_run()))
    case = next(c for c in root.iter("testcase") if c.get("classname") == "launchready.tls.certificate")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "BLOCKER: TLS certificate expired"
    assert failure.get("type") == "blocker"
    assert "notAfter=2024-04-01T00:00:00Z" in failure.text
    assert XSS in failure.text  # escaped on the wire, intact once parsed
    assert "Fix: Renew the certificate" in failure.text


def test_error_and_skipped() -> None:
    root = _parse(render_junit(sample_run()))
    error_case = next(c for c in root.iter("testcase") if c.find("error") is not None)
    assert error_case.get("name") == "web.https-redirect [admin.example.com]"
    assert "connection refused" in error_case.find("error").get("message")
    skipped = next(c for c in root.iter("testcase") if c.find("skipped") is not None)
    assert skipped.find("skipped").get("message") == "no git history"


def test_info_only_result_passes_with_output() -> None:
    root = _parse(render_junit(sample_run()))
    case = next(c for c in root.iter("testcase") if c.get("classname") == "launchready.email.spf")
    assert case.find("failure") is None
    assert SPF_SOFT.title in case.find("system-out").text


def test_highest_severity_leads_the_message() -> None:
    low = finding("web.hsts.short-max-age", Severity.LOW, "www.example.com", title="Short HSTS max-age")
    high = finding("web.hsts.missing-on-login", Severity.HIGH, "www.example.com", title="No HSTS on login")
    result = CheckResult(check_id="web.hsts", target="www.example.com", status=Status.FAILED, findings=(low, high))
    root = _parse(render_junit(sample_run(findings=(high, low), results=(result,))))
    failure = next(root.iter("failure"))
    assert failure.get("message") == "HIGH: Short HSTS max-age; No HSTS on login"


def test_orphan_findings_still_fail(schema) -> None:
    text = render_junit(sample_run(findings=(CERT_EXPIRED,), results=()))
    schema.validate(text)
    root = _parse(text)
    assert root.get("tests") == "1" and root.get("failures") == "1"


def test_control_characters_do_not_break_xml(schema) -> None:
    nasty = finding("web.hsts.missing", Severity.HIGH, "www.example.com", evidence=("bad\x00byte\x1b[31m",))
    text = render_junit(sample_run(findings=(nasty,)))
    schema.validate(text)
    assert "\x00" not in text


def test_dispatcher() -> None:
    run = run_with_history()
    assert render(run, ReportFormat.JUNIT) == render_junit(run)


def test_xsd_is_strict_enough_to_catch_mistakes(schema) -> None:
    text = render_junit(sample_run())
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(text.replace('tests="11"', 'tests="eleven"', 1))
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(text.replace("<testcase ", "<testcas ", 1).replace("</testcase>", "</testcas>", 1))
