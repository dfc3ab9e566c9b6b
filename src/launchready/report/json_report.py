"""The JSON report: a versioned document for machines (CI gates, dashboards, diffing runs).

The shape is fixed by ``schema/audit-report-1.0.schema.json`` and described in
docs/report-schema.md. Adding optional fields is a minor version; renaming or removing one, or
changing a meaning, is a major version.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from launchready.core.dnsmap import DnsMap
from launchready.core.facts import HostFact
from launchready.core.finding import Finding
from launchready.core.run import AuditRun
from launchready.report.controls import json_visible
from launchready.report.view import iso_utc, severity_counts, status_counts, top_actions

SCHEMA_VERSION = "1.0"
SCHEMA_RESOURCE = "audit-report-1.0.schema.json"
TOOL_NAME = "launchready"


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReportTool(_Doc):
    name: str
    version: str


class ReportDecision(_Doc):
    verdict: str
    reasons: tuple[str, ...]
    rules: tuple[str, ...]


class SeverityCounts(_Doc):
    total: int
    blocker: int
    high: int
    medium: int
    low: int
    info: int


class StatusCounts(_Doc):
    total: int
    passed: int
    failed: int
    error: int
    skipped: int


class ReportSummary(_Doc):
    findings: SeverityCounts
    checks: StatusCounts


class ReportAcceptance(_Doc):
    reason: str
    by: str
    until: str


class ReportFinding(_Doc):
    rank: int
    id: str
    check_id: str
    title: str
    severity: str
    impact: str
    confidence: str
    target: str
    evidence: tuple[str, ...]
    remediation: str
    references: tuple[str, ...]
    fingerprint: str
    change: str | None
    # Set when an [[audit.accept]] entry covers it: reported, not counted in the summary.
    accepted: ReportAcceptance | None = None


class ReportNotRun(_Doc):
    check_id: str
    target: str
    reason: str | None


class ReportNotConfigured(_Doc):
    check_id: str
    target: str
    reason: str | None
    configure: str


class ReportAction(_Doc):
    rank: int
    severity: str
    title: str
    finding_ids: tuple[str, ...]
    targets: tuple[str, ...]
    fix: str


class ReportResult(_Doc):
    check_id: str
    target: str
    status: str
    reason: str | None
    duration_ms: float
    finding_fingerprints: tuple[str, ...]


class ReportHost(_Doc):
    name: str
    addresses: tuple[str, ...]
    cname_chain: tuple[str, ...]
    found_by: str


class ReportFixed(_Doc):
    id: str
    check_id: str
    title: str
    severity: str
    impact: str
    target: str
    fingerprint: str


class ReportHistory(_Doc):
    previous_run_id: int | None
    previous_started: str | None
    new: tuple[str, ...]
    still_open: tuple[str, ...]
    fixed: tuple[ReportFixed, ...]


class JsonReport(_Doc):
    schema_version: str
    tool: ReportTool
    run_id: int | None
    target: str
    started: str
    finished: str
    duration_seconds: float
    decision: ReportDecision
    summary: ReportSummary
    findings: tuple[ReportFinding, ...]
    not_run: tuple[ReportNotRun, ...]
    results: tuple[ReportResult, ...]
    hosts: tuple[ReportHost, ...]
    # Hosts audited but not listed in ``hosts`` (bounded); additive in schema 1.0.
    hosts_omitted: int = 0
    # None when history was not consulted (e.g. --no-history); an object otherwise, with
    # previous_run_id None on the first audit of a target.
    history: ReportHistory | None
    # The DNS map (records of the apex, hosts, mail names); None when not collected.
    dns_map: DnsMap | None = None
    # Per-host measurements checks contributed (e.g. the header score); additive in schema 1.0.
    host_facts: tuple[HostFact, ...] = ()
    # Checks skipped because the configuration does not declare what they test: not verified.
    not_configured: tuple[ReportNotConfigured, ...] = ()
    # "Do these 3 first": the first actions, findings of one id (and of the same file) grouped.
    first_actions: tuple[ReportAction, ...] = ()


def build_report(run: AuditRun) -> JsonReport:
    sev = severity_counts(run)
    stat = status_counts(run)
    return JsonReport(
        schema_version=SCHEMA_VERSION,
        tool=ReportTool(name=TOOL_NAME, version=run.tool_version),
        run_id=run.run_id,
        target=run.target,
        started=iso_utc(run.started),
        finished=iso_utc(run.finished),
        duration_seconds=round(max(0.0, (run.finished - run.started).total_seconds()), 3),
        decision=ReportDecision(
            verdict=run.decision.verdict.value,
            reasons=run.decision.reasons,
            rules=run.decision.rules,
        ),
        summary=ReportSummary(
            findings=SeverityCounts(total=sum(sev.values()), **{s.value: n for s, n in sev.items()}),
            checks=StatusCounts(total=len(run.results), **{s.value: n for s, n in stat.items()}),
        ),
        findings=tuple(_finding(run, f, rank) for rank, f in enumerate(run.findings, start=1)),
        not_run=tuple(ReportNotRun(check_id=r.check_id, target=r.target, reason=r.reason) for r in run.not_run),
        first_actions=tuple(
            ReportAction(
                rank=a.rank,
                severity=a.severity.value,
                title=a.title,
                finding_ids=tuple(g.id for g in a.groups),
                targets=a.targets,
                fix=a.fix,
            )
            for a in top_actions(run)
        ),
        not_configured=tuple(
            ReportNotConfigured(check_id=r.check_id, target=r.target, reason=r.reason, configure=r.configure or "")
            for r in run.not_configured
        ),
        results=tuple(
            ReportResult(
                check_id=r.check_id,
                target=r.target,
                status=r.status.value,
                reason=r.reason,
                duration_ms=round(r.duration_ms, 3),
                finding_fingerprints=tuple(f.fingerprint for f in r.findings),
            )
            for r in run.results
        ),
        hosts=tuple(
            ReportHost(name=h.name, addresses=h.addresses, cname_chain=h.cname_chain, found_by=h.found_by)
            for h in run.hosts
        ),
        hosts_omitted=run.hosts_omitted,
        history=_history(run),
        dns_map=run.dns_map,
        host_facts=run.host_facts,
    )


def render_json(run: AuditRun) -> str:
    document = build_report(run).model_dump(mode="json")
    # C1 and bidi controls from audited sites as JSON escapes: the same values, inert in a terminal.
    return json_visible(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every ``render_json`` output validates against."""
    text = resources.files("launchready.report").joinpath("schema", SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _finding(run: AuditRun, finding: Finding, rank: int) -> ReportFinding:
    change = run.change_of(finding)
    return ReportFinding(
        rank=rank,
        id=finding.id,
        check_id=finding.check_id,
        title=finding.title,
        severity=finding.severity.value,
        impact=finding.impact.value,
        confidence=finding.confidence.value,
        target=finding.target,
        evidence=finding.evidence,
        remediation=finding.remediation,
        references=finding.references,
        fingerprint=finding.fingerprint,
        change=change.value if change is not None else None,
        accepted=None
        if finding.accepted is None
        else ReportAcceptance(
            reason=finding.accepted.reason, by=finding.accepted.by, until=finding.accepted.until.isoformat()
        ),
    )


def _history(run: AuditRun) -> ReportHistory | None:
    delta = run.delta
    if delta is None:
        return None
    return ReportHistory(
        previous_run_id=delta.previous_run_id,
        previous_started=iso_utc(delta.previous_started) if delta.previous_started else None,
        new=delta.new,
        still_open=delta.still_open,
        fixed=tuple(
            ReportFixed(
                id=f.id,
                check_id=f.check_id,
                title=f.title,
                severity=f.severity.value,
                impact=f.impact.value,
                target=f.target,
                fingerprint=f.fingerprint,
            )
            for f in delta.fixed
        ),
    )
