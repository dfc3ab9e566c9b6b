"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

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
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    file_location,
    is_link,
    iso_utc,
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


def render_sarif(run: AuditRun, *, pseudo_file: str = PSEUDO_FILE) -> str:
    return json.dumps(build_sarif(run, pseudo_file=pseudo_file), indent=2, ensure_ascii=False) + "\n"


def build_sarif(run: AuditRun, *, pseudo_file: str = PSEUDO_FILE) -> dict[str, Any]:
    # The SARIF document is an external format assembled for json.dumps; its shape is pinned by
    # the official schema the tests validate against, not by a Python model.
    rule_ids: list[str] = []
    by_rule: dict[str, list[Finding]] = {}
    for finding in run.findings:
        if finding.id not in by_rule:
            rule_ids.append(finding.id)
            by_rule[finding.id] = []
        by_rule[finding.id].append(finding)
    rule_index = {rule_id: i for i, rule_id in enumerate(rule_ids)}

    sarif_run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "launchready",
                "version": run.tool_version,
                "semanticVersion": run.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id, by_rule[rule_id]) for rule_id in rule_ids],
            }
        },
        # GitHub uses this id as the analysis category, so audits of different domains uploaded
        # to one repository do not close each other's alerts.
        "automationDetails": {"id": f"launchready/{run.target}/"},
        "invocations": [_invocation(run)],
        "results": [_result(run, f, rule_index[f.id], pseudo_file) for f in run.findings],
        "properties": {
            "target": run.target,
            "verdict": run.decision.verdict.value,
            "reasons": list(run.decision.reasons),
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [sarif_run]}


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    first = findings[0]
    worst = max(findings, key=lambda f: f.severity.rank).severity
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": first.title},
        "fullDescription": {"text": f"{first.title}. {IMPACT_PLAIN[first.impact]}"},
        "help": {"text": first.remediation, "markdown": _help_markdown(first)},
        "defaultConfiguration": {"level": LEVEL[worst]},
        "properties": {
            "tags": ["security", "launch-readiness", first.impact.value, first.check_id],
            "security-severity": SECURITY_SEVERITY[worst],
            "precision": PRECISION[first.confidence],
        },
    }
    links = [ref for ref in first.references if is_link(ref)]
    if links:
        rule["helpUri"] = links[0]
    return rule


def _rule_name(rule_id: str) -> str:
    """SARIF rule names are identifier-like: ``email.spf.too-many-lookups`` -> ``EmailSpfTooManyLookups``."""
    parts = rule_id.replace("-", ".").split(".")
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


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


def _result(run: AuditRun, finding: Finding, index: int, pseudo_file: str) -> dict[str, Any]:
    message = f"{finding.title} on {finding.target}. Fix: {finding.remediation}"
    if finding.evidence:
        message += " Evidence: " + " | ".join(finding.evidence)
    properties: dict[str, Any] = {
        "security-severity": SECURITY_SEVERITY[finding.severity],
        "severity": finding.severity.value,
        "impact": finding.impact.value,
        "confidence": finding.confidence.value,
        "target": finding.target,
        "evidence": list(finding.evidence),
    }
    change = run.change_of(finding)
    if change is not None:
        properties["change"] = change.value
    return {
        "ruleId": finding.id,
        "ruleIndex": index,
        "level": LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [_location(run, finding, pseudo_file)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def _location(run: AuditRun, finding: Finding, pseudo_file: str) -> dict[str, Any]:
    where = file_location(finding.target, run)
    if where is not None:
        region: dict[str, Any] = {"startLine": where.line}
        if where.column is not None:
            region["startColumn"] = where.column
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": _file_uri(where.path)},
                "region": region,
            }
        }
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": pseudo_file},
            "region": {"startLine": 1},
        },
        "logicalLocations": [{"name": finding.target, "fullyQualifiedName": finding.target, "kind": "resource"}],
        "message": {"text": f"Found on {finding.target} (not a file: anchored to {pseudo_file})"},
    }


def _file_uri(path: str) -> str:
    """A URI reference for a repository path: relative stays relative (GitHub resolves it from the
    repository root), backslashes become slashes, unsafe characters are percent-encoded."""
    posix = path.replace("\\", "/")
    posix = posix.removeprefix("./")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/")
    return quote(posix, safe="/")


def _invocation(run: AuditRun) -> dict[str, Any]:
    # Checks that could not run are tool notifications, not results: they say nothing about the
    # product, and as results they would read as alerts (or be missed as passes).
    notifications = [
        {
            "level": "warning",
            "message": {
                "text": f"Not verified: {r.check_id} could not run on {r.target}: {r.reason or 'unknown reason'}"
            },
            "descriptor": {"id": r.check_id},
            "properties": {"target": r.target},
        }
        for r in run.results
        if r.status is Status.ERROR
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": iso_utc(run.started),
        "endTimeUtc": iso_utc(run.finished),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
