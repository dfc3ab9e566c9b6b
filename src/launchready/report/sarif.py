"""SARIF 2.1.0 for GitHub code scanning: the one writer every command's SARIF goes through.

``write_sarif`` turns a ``SarifLog`` (report/model.py) into the document; the audit (at the end of
this module) and ``secrets scan`` build their logs, the writer owns levels, scores, locations.

Where findings live: GitHub code scanning rejects the whole upload ("locationFromSarifResult:
expected at least one location" / "expected artifact location") unless every result has a
location with ``physicalLocation.artifactLocation.uri`` set to a non-empty URI; a location made
only of ``logicalLocations`` is refused, and ``uriBaseId`` indirections are not resolved. Most
launchready findings are about hosts and URLs, not files, so those results are anchored to a
stable pseudo-file, ``launchready.toml`` line 1 (the project's audit configuration, the natural
place to look), and name the real host or URL in the message text and in ``logicalLocations``
(kind ``resource``), which SARIF consumers that understand it can show. Findings whose target is
``path:line`` point at that file and line.

Severity: ``level`` is mapped explicitly (blocker/high -> error, medium -> warning, low/info ->
note). GitHub ranks security alerts by ``properties.security-severity`` read from the *rule*
(a string holding a CVSS-like score), so the rule carries the worst score among its results; the
result carries its own score as well.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun
from launchready.core.severity import Confidence, Severity
from launchready.report.controls import json_visible
from launchready.report.model import (
    SarifInvocation,
    SarifLocation,
    SarifLog,
    SarifNotification,
    SarifResult,
    SarifRule,
)
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    acceptance_note,
    file_location,
    is_link,
    iso_utc,
    top_actions,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/launchready/"
PSEUDO_FILE = "launchready.toml"
FINGERPRINT_KEY = "launchreadyFinding/v1"

LEVEL: dict[Severity, str] = {
    Severity.BLOCKER: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.BLOCKER: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

# GitHub's rule "precision" drives its default alert sorting; it is our confidence in other words.
PRECISION: dict[Confidence, str] = {
    Confidence.CERTAIN: "very-high",
    Confidence.FIRM: "high",
    Confidence.TENTATIVE: "medium",
}


# -- the one SARIF writer -------------------------------------------------------------------


def write_sarif(log: SarifLog) -> str:
    return json_visible(json.dumps(sarif_document(log), indent=2, ensure_ascii=False)) + "\n"


def sarif_document(log: SarifLog) -> dict[str, Any]:
    # The SARIF document is an external format assembled for json.dumps; its shape is pinned by
    # the official schema the tests validate against, not by a Python model.
    rule_index = {rule.id: i for i, rule in enumerate(log.rules)}
    missing = [r.rule_id for r in log.results if r.rule_id not in rule_index]
    if missing:
        raise ValueError(f"SARIF results name rules that are not declared: {sorted(set(missing))}")
    sarif_run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": log.tool,
                "version": log.version,
                "semanticVersion": log.version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in log.rules],
            }
        },
    }
    if log.automation_id is not None:
        sarif_run["automationDetails"] = {"id": log.automation_id}
    if log.invocation is not None:
        sarif_run["invocations"] = [_invocation(log.invocation)]
    sarif_run["results"] = [_result(r, rule_index[r.rule_id]) for r in log.results]
    if log.properties:
        sarif_run["properties"] = dict(log.properties)
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [sarif_run]}


def _rule(rule: SarifRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": rule.title},
    }
    if rule.description:
        out["fullDescription"] = {"text": rule.description}
    out["help"] = {"text": rule.help, **({"markdown": rule.help_markdown} if rule.help_markdown else {})}
    out["defaultConfiguration"] = {"level": LEVEL[rule.severity]}
    properties: dict[str, Any] = {"tags": list(rule.tags), "security-severity": SECURITY_SEVERITY[rule.severity]}
    if rule.precision is not None:
        properties["precision"] = PRECISION[rule.precision]
    out["properties"] = properties
    if rule.help_uri is not None:
        out["helpUri"] = rule.help_uri
    return out


def _rule_name(rule_id: str) -> str:
    """SARIF rule names are identifier-like: ``email.spf.too-many-lookups`` -> ``EmailSpfTooManyLookups``."""
    parts = rule_id.replace("-", ".").replace("_", ".").split(".")
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def _result(result: SarifResult, index: int) -> dict[str, Any]:
    return {
        "ruleId": result.rule_id,
        "ruleIndex": index,
        "level": LEVEL[result.severity],
        "message": {"text": result.message},
        "locations": [_location(result.location)],
        "partialFingerprints": dict(result.fingerprints),
        "properties": {"security-severity": SECURITY_SEVERITY[result.severity], **result.properties},
        # An accepted finding stays in the log, suppressed with its justification (SARIF 3.35).
        **(
            {"suppressions": [{"kind": "external", "status": "accepted", "justification": result.suppressed}]}
            if result.suppressed
            else {}
        ),
    }


def _location(where: SarifLocation) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, where.line)}
    if where.column is not None:
        region["startColumn"] = max(1, where.column)
    out: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": _file_uri(where.path)}, "region": region}}
    if where.resource is not None:
        out["logicalLocations"] = [{"name": where.resource, "fullyQualifiedName": where.resource, "kind": "resource"}]
    if where.message is not None:
        out["message"] = {"text": where.message}
    return out


def _file_uri(path: str) -> str:
    """A URI reference for a repository path: relative stays relative (GitHub resolves it from the
    repository root), backslashes become slashes, unsafe characters are percent-encoded."""
    posix = path.replace("\\", "/")
    posix = posix.removeprefix("./")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/")
    return quote(posix, safe="/")


def _invocation(invocation: SarifInvocation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": iso_utc(invocation.started),
        "endTimeUtc": iso_utc(invocation.finished),
    }
    if invocation.notifications:
        out["toolExecutionNotifications"] = [
            {
                "level": "warning",
                "message": {"text": n.message},
                "descriptor": {"id": n.descriptor},
                "properties": dict(n.properties),
            }
            for n in invocation.notifications
        ]
    return out


# -- the audit as a SARIF log ---------------------------------------------------------------


def render_sarif(run: AuditRun, *, pseudo_file: str = PSEUDO_FILE) -> str:
    return write_sarif(audit_sarif_log(run, pseudo_file=pseudo_file))


def audit_sarif_log(run: AuditRun, *, pseudo_file: str = PSEUDO_FILE) -> SarifLog:
    by_rule: dict[str, list[Finding]] = {}
    for finding in run.findings:
        by_rule.setdefault(finding.id, []).append(finding)
    # Checks that could not run are tool notifications, not results: they say nothing about the
    # product, and as results they would read as alerts (or be missed as passes).
    notifications = tuple(
        SarifNotification(
            descriptor=r.check_id,
            message=f"Not verified: {r.check_id} could not run on {r.target}: {r.reason or 'unknown reason'}",
            properties={"target": r.target},
        )
        for r in run.results
        if r.status is Status.ERROR
    ) + tuple(
        SarifNotification(
            descriptor=r.check_id,
            message=f"Not verified: {r.check_id} is not configured: {r.reason or 'not configured'}; "
            f"to run it: {r.configure}",
            properties={"target": r.target, "configure": r.configure},
        )
        for r in run.not_configured
    )
    return SarifLog(
        tool="launchready",
        version=run.tool_version,
        rules=tuple(_audit_rule(rule_id, findings) for rule_id, findings in by_rule.items()),
        results=tuple(_audit_result(run, f, pseudo_file) for f in run.findings),
        automation_id=f"launchready/{run.target}/",
        invocation=SarifInvocation(started=run.started, finished=run.finished, notifications=notifications),
        properties={
            "target": run.target,
            "verdict": run.decision.verdict.value,
            "reasons": list(run.decision.reasons),
            "firstActions": [
                {"rank": a.rank, "title": a.title, "ruleIds": [g.id for g in a.groups], "fix": a.fix}
                for a in top_actions(run)
            ],
        },
    )


def _audit_rule(rule_id: str, findings: list[Finding]) -> SarifRule:
    first = findings[0]
    links = [ref for ref in first.references if is_link(ref)]
    return SarifRule(
        id=rule_id,
        title=first.title,
        description=f"{first.title}. {IMPACT_PLAIN[first.impact]}",
        help=first.remediation,
        help_markdown=_help_markdown(first),
        # GitHub reads security-severity from the rule: the worst of its results.
        severity=max(findings, key=lambda f: f.severity.rank).severity,
        tags=("security", "launch-readiness", first.impact.value, first.check_id),
        precision=first.confidence,
        help_uri=links[0] if links else None,
    )


def _help_markdown(finding: Finding) -> str:
    lines = [
        f"**Fix:** {finding.remediation}",
        "",
        f"**Business impact ({IMPACT_LABEL[finding.impact]}):** {IMPACT_PLAIN[finding.impact]}",
    ]
    links = [ref for ref in finding.references if is_link(ref)]
    if links:
        lines += ["", "**References:**"] + [f"- {ref}" for ref in links]
    return "\n".join(lines)


def _audit_result(run: AuditRun, finding: Finding, pseudo_file: str) -> SarifResult:
    message = f"{finding.title} on {finding.target}. Fix: {finding.remediation}"
    if finding.evidence:
        message += " Evidence: " + " | ".join(finding.evidence)
    properties: dict[str, object] = {
        "severity": finding.severity.value,
        "impact": finding.impact.value,
        "confidence": finding.confidence.value,
        "target": finding.target,
        "evidence": list(finding.evidence),
    }
    change = run.change_of(finding)
    if change is not None:
        properties["change"] = change.value
    if finding.accepted is not None:
        properties["acceptedUntil"] = finding.accepted.until.isoformat()
    return SarifResult(
        rule_id=finding.id,
        severity=finding.severity,
        message=message,
        location=_audit_location(run, finding, pseudo_file),
        fingerprints={FINGERPRINT_KEY: finding.fingerprint},
        properties=properties,
        suppressed=acceptance_note(finding) or None,
    )


def _audit_location(run: AuditRun, finding: Finding, pseudo_file: str) -> SarifLocation:
    where = file_location(finding.target, run)
    if where is not None:
        return SarifLocation(path=where.path, line=where.line, column=where.column)
    return SarifLocation(
        path=pseudo_file,
        line=1,
        resource=finding.target,
        message=f"Found on {finding.target} (not a file: anchored to {pseudo_file})",
    )
