"""``launchready history``: the stored audits as a table, newest first.

The table is a ``Document`` printed by the output layer (report/console.py), so the monitor's
and handover's run lists can be written the same way, or as Markdown/HTML.
"""

from __future__ import annotations

from datetime import UTC

from rich.console import Console

from launchready import __version__
from launchready.core.run import Verdict
from launchready.history.store import RunSummary
from launchready.report.console import print_document
from launchready.report.model import Column, Document, Paragraph, Section, Span, Table, Text

_VERDICT_TONE = {Verdict.PAUSE: "bad", Verdict.SHIP_WITH_FIXES: "warn", Verdict.SHIP: "good"}

_COLUMNS = (
    Column("#", numeric=True, wrap=False),
    Column("Started (UTC)", wrap=False),
    Column("Target", wrap=False),
    Column("Verdict", wrap=False),
    Column("Risks"),
    Column("Not verified", numeric=True),
)


def history_document(runs: list[RunSummary]) -> Document:
    if not runs:
        body = Section(
            "Stored audits", (Paragraph("No audits stored yet. Run `launchready audit DOMAIN` to record one."),)
        )
    else:
        rows = tuple(
            (
                str(run.id),
                run.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                run.target,
                Span(run.verdict.value, strong=True, tone=_VERDICT_TONE[run.verdict]),
                _risks(run),
                Span(str(run.not_verified), tone="warn" if run.not_verified else "muted"),
            )
            for run in runs
        )
        body = Section("Stored audits", (Table(_COLUMNS, rows),))
    return Document(title="launchready history", heading="Stored audits", sections=(body,), tool_version=__version__)


def render_history(runs: list[RunSummary], console: Console) -> None:
    print_document(history_document(runs), console, headings=False)


def _risks(run: RunSummary) -> Text:
    parts = [(name, n) for name, n in run.counts.items() if n]
    if not parts:
        return Span("none", tone="good")
    out: list[str | Span] = []
    for i, (name, n) in enumerate(parts):
        if i:
            out.append(", ")
        out.append(Span(f"{n} {name}", strong=name == "blocker", tone=name if name in _SEVERITY_TONES else ""))
    return tuple(out)


_SEVERITY_TONES = frozenset({"blocker", "high", "medium", "low", "info"})
