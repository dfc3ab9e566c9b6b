"""`launchready secrets scan` output: terminal, JSON, SARIF 2.1.0, Markdown. Hits carry masked values only."""

from __future__ import annotations

import json
from typing import Any

from launchready import __version__
from launchready.core.severity import Severity
from launchready.secrets.model import Hit, ScanResult
from launchready.secrets.rules import RULES

_SARIF_LEVEL = {
    Severity.BLOCKER: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.BLOCKER: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


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
    return "\n".join(lines) + "\n"


def render_markdown(result: ScanResult) -> str:
    new = [h for h in result.hits if not h.baselined]
    out = [f"# Secrets scan ({result.source.value})", ""]
    if not new:
        out.append("No new secrets found.")
    else:
        out += ["| Severity | Secret | Where | Rule |", "|---|---|---|---|"]
        for hit in _sorted(new):
            where = _where(hit).replace("|", "\\|")
            out.append(f"| {hit.severity.value} | {hit.description}: `{hit.masked}` | {where} | `{hit.rule_id}` |")
        out += ["", "## How to fix", ""]
        for rule_id in dict.fromkeys(h.rule_id for h in _sorted(new)):
            rotate = next(h.rotate for h in new if h.rule_id == rule_id)
            out.append(f"- `{rule_id}`: {rotate}")
    if result.notes:
        out += ["", "## Not scanned", ""]
        out += [f"- `{n.path}`: {n.reason}" for n in result.notes]
    return "\n".join(out) + "\n"


def render_sarif(result: ScanResult) -> str:
    new = _sorted([h for h in result.hits if not h.baselined])
    used = {h.rule_id for h in new}
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.description},
            "help": {"text": rule.rotate},
            "properties": {"security-severity": _SECURITY_SEVERITY[rule.severity], "tags": ["security", "secret"]},
        }
        for rule in RULES
        if rule.id in used
    ]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for hit in new:
        results.append(
            {
                "ruleId": hit.rule_id,
                "ruleIndex": index[hit.rule_id],
                "level": _SARIF_LEVEL[hit.severity],
                "message": {"text": f"{hit.description} ({hit.masked}) at {_where(hit)}. Fix: {hit.rotate}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": hit.path},
                            "region": {"startLine": max(1, hit.line)},
                        }
                    }
                ],
                "partialFingerprints": {"launchreadySecret/v1": hit.fingerprint},
                "properties": {"security-severity": _SECURITY_SEVERITY[hit.severity], "secret": hit.masked},
            }
        )
    payload = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "launchready-secrets",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/launchready/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(payload, indent=2)


RENDERERS = {"terminal": render_terminal, "json": render_json, "sarif": render_sarif, "md": render_markdown}
