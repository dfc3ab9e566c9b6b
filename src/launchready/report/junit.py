"""JUnit XML: one testsuite per audit, one testcase per (check, target) result, for CI dashboards.

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
from dataclasses import dataclass
from datetime import UTC

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun
from launchready.core.severity import Severity
from launchready.report.view import duration_seconds, worst

# XML 1.0 forbids most control characters even when escaped; evidence copied from a wire
# protocol can contain them, so they are replaced rather than making the file unreadable.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class _Case:
    check_id: str
    target: str
    status: Status
    findings: tuple[Finding, ...]
    reason: str | None
    seconds: float


def render_junit(run: AuditRun) -> str:
    cases = _cases(run)
    failures = sum(1 for c in cases if _is_failure(c))
    errors = sum(1 for c in cases if c.status is Status.ERROR)
    skipped = sum(1 for c in cases if c.status is Status.SKIPPED)
    total_time = _seconds(duration_seconds(run))

    root = ET.Element(
        "testsuites",
        {
            "name": "launchready",
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": total_time,
        },
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _safe(f"launchready audit {run.target}"),
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": total_time,
            "timestamp": _timestamp(run),
        },
    )
    properties = ET.SubElement(suite, "properties")
    _property(properties, "launchready.version", run.tool_version)
    _property(properties, "target", run.target)
    _property(properties, "verdict", run.decision.verdict.value)
    for i, reason in enumerate(run.decision.reasons, start=1):
        _property(properties, f"reason.{i}", reason)
    if run.run_id is not None:
        _property(properties, "run_id", str(run.run_id))

    for case in cases:
        _testcase(suite, case)

    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _cases(run: AuditRun) -> list[_Case]:
    cases = [_Case(r.check_id, r.target, r.status, r.findings, r.reason, r.duration_ms / 1000.0) for r in run.results]
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
    return case.status is Status.FAILED and any(f.severity is not Severity.INFO for f in case.findings)


def _testcase(suite: ET.Element, case: _Case) -> None:
    element = ET.SubElement(
        suite,
        "testcase",
        {
            "name": _safe(f"{case.check_id} [{case.target}]"),
            "classname": _safe(f"launchready.{case.check_id}"),
            "time": _seconds(case.seconds),
        },
    )
    if case.status is Status.ERROR:
        reason = case.reason or "unknown reason"
        error = ET.SubElement(
            element,
            "error",
            {"message": _safe(f"Not verified: could not run: {reason}"), "type": "could-not-run"},
        )
        error.text = _safe(
            f"The check {case.check_id} could not run on {case.target}, so nothing is known about it.\nReason: {reason}"
        )
    elif case.status is Status.SKIPPED:
        ET.SubElement(element, "skipped", {"message": _safe(case.reason or "does not apply")})
    elif _is_failure(case):
        top = worst(case.findings) or Severity.INFO  # never None: failures have findings
        titles = "; ".join(f.title for f in case.findings)
        failure = ET.SubElement(
            element, "failure", {"message": _safe(f"{top.value.upper()}: {titles}"), "type": top.value}
        )
        failure.text = _safe("\n\n".join(_finding_text(f) for f in case.findings))
    elif case.findings:
        out = ET.SubElement(element, "system-out")
        out.text = _safe("\n\n".join(_finding_text(f) for f in case.findings))


def _finding_text(finding: Finding) -> str:
    lines = [
        f"[{finding.severity.value.upper()}] {finding.title} ({finding.id})",
        f"Target: {finding.target}",
    ]
    if finding.evidence:
        lines.append("Evidence:")
        lines += [f"  {line}" for line in finding.evidence]
    lines.append(f"Fix: {finding.remediation}")
    if finding.references:
        lines.append("References: " + " ".join(finding.references))
    return "\n".join(lines)


def _property(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "property", {"name": _safe(name), "value": _safe(value)})


def _safe(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def _timestamp(run: AuditRun) -> str:
    """Ant's format: local-zone-free ISO 8601 seconds; launchready always writes UTC."""
    started = run.started if run.started.tzinfo else run.started.replace(tzinfo=UTC)
    return started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
