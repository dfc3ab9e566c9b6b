"""``launchready history``: the stored audits as a table, newest first."""

from __future__ import annotations

from datetime import UTC

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from launchready.core.run import Verdict
from launchready.history.store import RunSummary

_VERDICT_STYLE = {
    Verdict.PAUSE: "bold red",
    Verdict.SHIP_WITH_FIXES: "bold yellow",
    Verdict.SHIP: "bold green",
}
_SEVERITY_STYLE = {"blocker": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render_history(runs: list[RunSummary], console: Console) -> None:
    if not runs:
        console.print("No audits stored yet. Run `launchready audit DOMAIN` to record one.", markup=False)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Started (UTC)", no_wrap=True)
    table.add_column("Target", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Risks", overflow="fold")
    table.add_column("Not verified", justify="right")
    for run in runs:
        started = run.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            Text(str(run.id)),
            Text(started),
            Text(run.target),
            Text(run.verdict.value, style=_VERDICT_STYLE[run.verdict]),
            _risks(run),
            Text(str(run.not_verified), style="yellow" if run.not_verified else "dim"),
        )
    console.print(table)


def _risks(run: RunSummary) -> Text:
    parts = [(name, n) for name, n in run.counts.items() if n]
    if not parts:
        return Text("none", style="green")
    text = Text()
    for i, (name, n) in enumerate(parts):
        if i:
            text.append(", ")
        text.append(f"{n} {name}", style=_SEVERITY_STYLE.get(name, ""))
    return text
