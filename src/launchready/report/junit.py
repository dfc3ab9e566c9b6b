"""JUnit XML: the one writer every command's test report goes through, and the audit's report.

``write_junit`` turns a ``TestReport`` (report/model.py) into XML; the audit (below), the smoke
flows and later the monitor hand it their cases. For the audit: one testsuite per audit, one
testcase per (check, target) result.

failed -> <failure> (message: worst severity and titles; text: evidence and fix), error ->
<error> (the check could not run: not a pass), skipped -> <skipped>. A result whose findings are
all ``info`` passes: info findings are notes, and turning CI red on them would teach people to
ignore the report; they are kept in the testcase's <system-out>.

The attribute set follows the Ant/Jenkins JUnit schema most CI systems read (GitLab, Jenkins,
Azure DevOps, GitHub test reporters).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun
from launchready.core.severity import Severity
from launchready.report.model import Outcome, TestCase, TestReport, TestSuite
from launchready.report.view import acceptance_note, duration_seconds, top_actions, worst

# XML 1.0 allows only tab, newline, carriage return and U+0020 upwards (minus surrogates and
# U+FFFE/U+FFFF), even escaped. Evidence and response bodies copied from a wire protocol can hold
# anything, so every attribute and text goes through ``xml_safe``: a control character becomes
# U+FFFD and the file stays readable by every CI system.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


# -- the one JUnit writer -------------------------------------------------------------------


def write_junit(report: TestReport) -> str:
    """``report`` as Ant/Jenkins JUnit XML; counts are derived from the cases, never passed in."""
    cases = [case for suite in report.suites for case in suite.cases]
    root = ET.Element("testsuites", {"name": xml_safe(report.name), **_counts(cases), "time": _seconds(report.seconds)})
    for suite in report.suites:
        attributes = {"name": xml_safe(suite.name), **_counts(suite.cases), "time": _seconds(suite.seconds)}
        if suite.timestamp is not None:
            attributes["timestamp"] = _ant_timestamp(suite.timestamp)
        element = ET.SubElement(root, "testsuite", attributes)
        if suite.properties:
            properties = ET.SubElement(element, "properties")
            for name, value in suite.properties:
                ET.SubElement(properties, "property", {"name": xml_safe(name), "value": xml_safe(value)})
        for case in suite.cases:
            _write_case(element, case)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _counts(cases: Sequence[TestCase]) -> dict[str, str]:
    def count(outcome: Outcome) -> str:
        return str(sum(1 for c in cases if c.outcome is outcome))

    return {
        "tests": str(len(cases)),
        "failures": count(Outcome.FAILED),
        "errors": count(Outcome.ERROR),
        "skipped": count(Outcome.SKIPPED),
    }


def _write_case(suite: ET.Element, case: TestCase) -> None:
    attributes = {"name": xml_safe(case.name), "classname": xml_safe(case.classname), "time": _seconds(case.seconds)}
    if case.file is not None:
        attributes["file"] = xml_safe(case.file)
    if case.line is not None and case.line >= 0:
        attributes["line"] = str(case.line)
    element = ET.SubElement(suite, "testcase", attributes)
    if case.outcome is Outcome.SKIPPED:
        ET.SubElement(element, "skipped", {"message": xml_safe(case.message)})
    elif case.outcome in (Outcome.FAILED, Outcome.ERROR):
        tag = "failure" if case.outcome is Outcome.FAILED else "error"
        problem = ET.SubElement(element, tag, {"message": xml_safe(case.message), "type": xml_safe(case.type)})
        if case.detail:
            problem.text = xml_safe(case.detail)
    if case.output:
        out = ET.SubElement(element, "system-out")
        out.text = xml_safe(case.output)


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def _ant_timestamp(moment: datetime) -> str:
    """Ant's format: ISO 8601 seconds without a zone; launchready always writes UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


# -- the audit as a test report -------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    check_id: str
    target: str
    status: Status
    findings: tuple[Finding, ...]
    reason: str | None
    seconds: float
    configure: str | None = None


def render_junit(run: AuditRun) -> str:
    return write_junit(audit_test_report(run))


def audit_test_report(run: AuditRun) -> TestReport:
    """One suite per audit, one case per (check, target) result."""
    properties = [("launchready.version", run.tool_version), ("target", run.target)]
    properties.append(("verdict", run.decision.verdict.value))
    properties += [(f"reason.{i}", reason) for i, reason in enumerate(run.decision.reasons, start=1)]
    properties += [(f"first.{a.rank}", f"{a.title}: {a.fix}") for a in top_actions(run)]
    if run.run_id is not None:
        properties.append(("run_id", str(run.run_id)))
    seconds = duration_seconds(run)
    suite = TestSuite(
        name=f"launchready audit {run.target}",
        cases=tuple(_test_case(c) for c in _cases(run)),
        seconds=seconds,
        timestamp=run.started,
        properties=tuple(properties),
    )
    return TestReport(name="launchready", suites=(suite,), seconds=seconds)


def _cases(run: AuditRun) -> list[_Case]:
    # The run's copies of the findings carry their acceptance marks; the results' do not.
    reported = {f.fingerprint: f for f in run.findings}
    cases = [
        _Case(
            r.check_id,
            r.target,
            r.status,
            tuple(reported.get(f.fingerprint, f) for f in r.findings),
            r.reason,
            r.duration_ms / 1000.0,
            r.configure,
        )
        for r in run.results
    ]
    # Findings the engine attached to the run but to no result still have to turn CI red.
    covered = {f.fingerprint for r in run.results for f in r.findings}
    orphans: dict[tuple[str, str], list[Finding]] = {}
    for finding in run.findings:
        if finding.fingerprint not in covered:
            orphans.setdefault((finding.check_id, finding.target), []).append(finding)
    for (check_id, target), findings in orphans.items():
        cases.append(_Case(check_id, target, Status.FAILED, tuple(findings), None, 0.0))
    return cases


def _is_failure(case: _Case) -> bool:
    return case.status is Status.FAILED and any(
        f.severity is not Severity.INFO and f.accepted is None for f in case.findings
    )


def _test_case(case: _Case) -> TestCase:
    base = TestCase(
        name=f"{case.check_id} [{case.target}]", classname=f"launchready.{case.check_id}", seconds=case.seconds
    )
    if case.status is Status.ERROR:
        reason = case.reason or "unknown reason"
        return replace(
            base,
            outcome=Outcome.ERROR,
            message=f"Not verified: could not run: {reason}",
            type="could-not-run",
            detail=f"The check {case.check_id} could not run on {case.target}, so nothing is known about it.\nReason: {reason}",
        )
    if case.status is Status.SKIPPED and case.configure:
        # Skipped, but not as "does not apply": nothing was verified for want of configuration.
        return replace(
            base,
            outcome=Outcome.SKIPPED,
            message=f"Not verified: not configured: {case.reason or 'not configured'}; to run it: {case.configure}",
        )
    if case.status is Status.SKIPPED:
        return replace(base, outcome=Outcome.SKIPPED, message=case.reason or "does not apply")
    text = "\n\n".join(_finding_text(f) for f in case.findings)
    if _is_failure(case):
        top = worst(case.findings) or Severity.INFO  # never None: failures have findings
        titles = "; ".join(f.title for f in case.findings)
        return replace(
            base, outcome=Outcome.FAILED, message=f"{top.value.upper()}: {titles}", type=top.value, detail=text
        )
    return replace(base, output=text)


def _finding_text(finding: Finding) -> str:
    lines = [
        f"[{finding.severity.value.upper()}] {finding.title} ({finding.id})",
        f"Target: {finding.target}",
    ]
    if finding.accepted is not None:
        lines.append(f"Accepted (not a failure): {acceptance_note(finding)}")
    if finding.evidence:
        lines.append("Evidence:")
        lines += [f"  {line}" for line in finding.evidence]
    lines.append(f"Fix: {finding.remediation}")
    if finding.references:
        lines.append("References: " + " ".join(finding.references))
    return "\n".join(lines)
