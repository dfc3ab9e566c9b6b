"""`launchready secrets scan` output: terminal, JSON, SARIF 2.1.0, Markdown. Hits carry masked values only.

SARIF and Markdown are written by the output layer (report/): this module only turns a scan into
its view model (``scan_sarif_log``, ``scan_document``).
"""

from __future__ import annotations

import json
from typing import Any

from launchready import __version__
from launchready.report.controls import visible
from launchready.report.model import (
    BulletList,
    Column,
    Document,
    SarifLocation,
    SarifLog,
    SarifResult,
    SarifRule,
    Section,
    Span,
    Table,
)
from launchready.secrets.model import Hit, ScanResult
from launchready.secrets.rules import RULES


def _where(hit: Hit) -> str:
    parts = [hit.location]
    if hit.commit is not None:
        parts.append(f"commit {hit.commit.short} by {hit.commit.author} on {hit.commit.date}")
        if hit.first_commit is not None and hit.first_commit.sha != hit.commit.sha:
            parts.append(f"first added in {hit.first_commit.short} ({hit.first_path}) on {hit.first_commit.date}")
        if hit.in_head is not None:
            parts.append("still in HEAD" if hit.in_head else "no longer in HEAD (history only)")
    return "; ".join(parts)


def _sorted(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (-h.severity.rank, h.path, h.line, h.rule_id))


def hit_dict(hit: Hit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": hit.rule_id,
        "description": hit.description,
        "severity": hit.severity.value,
        "impact": hit.impact.value,
        "secret": hit.masked,
        "fingerprint": hit.fingerprint,
        "path": hit.path,
        "line": hit.line,
        "source": hit.source.value,
        "baselined": hit.baselined,
        "remediation": hit.rotate,
    }
    if hit.commit is not None:
        out["commit"] = {"sha": hit.commit.sha, "author": hit.commit.author, "date": hit.commit.date}
    if hit.first_commit is not None:
        out["first_commit"] = {
            "sha": hit.first_commit.sha,
            "author": hit.first_commit.author,
            "date": hit.first_commit.date,
        }
        out["first_path"] = hit.first_path
    if hit.in_head is not None:
        out["in_head"] = hit.in_head
    return out


def render_json(result: ScanResult) -> str:
    payload = {
        "tool": "launchready",
        "version": __version__,
        "source": result.source.value,
        "root": result.root,
        "files_scanned": result.files_scanned,
        "commits_scanned": result.commits_scanned,
        "findings": [hit_dict(h) for h in _sorted(result.hits)],
        "notes": [{"path": n.path, "reason": n.reason} for n in result.notes],
    }
    return json.dumps(payload, indent=2)


def render_terminal(result: ScanResult) -> str:
    lines: list[str] = []
    new = [h for h in result.hits if not h.baselined]
    accepted = len(result.hits) - len(new)
    scanned = f"{result.commits_scanned} commit(s)" if result.commits_scanned else f"{result.files_scanned} file(s)"
    for hit in _sorted(new):
        lines.append(f"{hit.severity.value.upper():<8} {hit.description}: {hit.masked}")
        lines.append(f"         at {_where(hit)}")
        lines.append(f"         rule {hit.rule_id}; fix: {hit.rotate}")
    for note in result.notes:
        lines.append(f"note     {note.path}: {note.reason}")
    summary = f"{len(new)} secret(s) found in {scanned} ({result.source.value} scan)"
    if accepted:
        summary += f"; {accepted} accepted by the baseline"
    lines.append(
        summary
        if new
        else f"No new secrets in {scanned} ({result.source.value} scan)"
        + (f"; {accepted} accepted by the baseline" if accepted else "")
    )
    # File names and commit text come from the repository: control characters in them are shown.
    return visible("\n".join(lines) + "\n")


def scan_document(result: ScanResult) -> Document:
    new = _sorted([h for h in result.hits if not h.baselined])
    sections: list[Section] = []
    if new:
        rows = tuple(
            (
                hit.severity.value,
                (f"{hit.description}: ", Span(hit.masked, code=True)),
                _where(hit),
                Span(hit.rule_id, code=True),
            )
            for hit in new
        )
        columns = (Column("Severity"), Column("Secret"), Column("Where"), Column("Rule"))
        fixes = tuple(
            (Span(rule_id, code=True), ": ", next(h.rotate for h in new if h.rule_id == rule_id))
            for rule_id in dict.fromkeys(h.rule_id for h in new)
        )
        sections += [
            Section("Secrets found", (Table(columns, rows),)),
            Section("How to fix", (BulletList(fixes),)),
        ]
    else:
        sections.append(Section("Secrets found", lead="No new secrets found."))
    if result.notes:
        notes = tuple((Span(n.path, code=True), ": ", n.reason) for n in result.notes)
        sections.append(Section("Not scanned", (BulletList(notes),)))
    return Document(
        title=f"Secrets scan ({result.source.value})",
        heading=f"Secrets scan ({result.source.value})",
        sections=tuple(sections),
        tool_version=__version__,
    )


def render_markdown(result: ScanResult) -> str:
    # The writers are imported on use: `secrets scan` in a pre-commit hook must start fast.
    from launchready.report.markdown import write_markdown

    return write_markdown(scan_document(result))


def scan_sarif_log(result: ScanResult) -> SarifLog:
    new = _sorted([h for h in result.hits if not h.baselined])
    used = {h.rule_id for h in new}
    rules = tuple(
        SarifRule(
            id=rule.id,
            title=rule.description,
            help=rule.rotate,
            severity=rule.severity,
            tags=("security", "secret"),
        )
        for rule in RULES
        if rule.id in used
    )
    results = tuple(
        SarifResult(
            rule_id=hit.rule_id,
            severity=hit.severity,
            message=f"{hit.description} ({hit.masked}) at {_where(hit)}. Fix: {hit.rotate}",
            location=SarifLocation(path=hit.path, line=max(1, hit.line)),
            fingerprints={"launchreadySecret/v1": hit.fingerprint},
            properties={"secret": hit.masked},
        )
        for hit in new
    )
    return SarifLog(tool="launchready-secrets", version=__version__, rules=rules, results=results)


def render_sarif(result: ScanResult) -> str:
    from launchready.report.sarif import write_sarif

    return write_sarif(scan_sarif_log(result))


RENDERERS = {"terminal": render_terminal, "json": render_json, "sarif": render_sarif, "md": render_markdown}
