"""The terminal report: decision first, then the ranked risks, then what to fix now.

Everything user- or site-controlled goes into ``rich.text.Text`` objects, never into markup
strings, so a title or evidence line containing ``[bold]`` is printed literally.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun, Verdict
from launchready.core.severity import Severity
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    SEVERITIES,
    VERDICT_PLAIN,
    change_label,
    fixed_findings,
    has_previous,
    human_utc,
    severity_counts,
    status_counts,
)

VERDICT_STYLE: dict[Verdict, str] = {
    Verdict.PAUSE: "bold red",
    Verdict.SHIP_WITH_FIXES: "bold yellow",
    Verdict.SHIP: "bold green",
}

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.BLOCKER: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

# Only these get their evidence and fix printed by default: the ones to act on before launch.
_DETAIL_SEVERITIES = (Severity.BLOCKER, Severity.HIGH)


def render_terminal(run: AuditRun, console: Console, *, verbose: bool = False) -> None:
    console.print(_decision_panel(run))
    console.print(_counts_line(run))
    console.print()
    if run.findings:
        console.print(Text("Ranked risks", style="bold underline"))
        console.print(_risk_table(run))
        detailed = [f for f in run.findings if verbose or f.severity in _DETAIL_SEVERITIES]
        if detailed:
            console.print()
            console.print(Text("What to fix first" if not verbose else "Every finding", style="bold underline"))
            for finding in detailed:
                console.print()
                console.print(_finding_detail(run, finding, verbose=verbose))
    else:
        console.print(Text("No risks found.", style="green"))
        console.print()
    _print_not_verified(run, console)
    _print_host_facts(run, console)
    line = _history_line(run)
    if line is not None:
        console.print(line)


def _decision_panel(run: AuditRun) -> Panel:
    verdict = run.decision.verdict
    style = VERDICT_STYLE[verdict]
    parts: list[RenderableType] = [
        Text(verdict.value, style=style),
        Text(VERDICT_PLAIN[verdict]),
    ]
    if run.decision.reasons:
        parts += [Text(""), _bullets(run.decision.reasons, "•")]
    if run.decision.rules:
        parts += [
            Text(""),
            Text("How the decision is made:", style="dim"),
            _bullets(run.decision.rules, "-", "dim"),
        ]
    title = Text(f"launchready · {run.target} · {human_utc(run.started)}")
    return Panel(Group(*parts), title=title, title_align="left", border_style=style.replace("bold ", ""))


def _bullets(lines: tuple[str, ...], mark: str, style: str = "") -> Table:
    """A list whose wrapped lines stay indented under their bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for line in lines:
        grid.add_row(Text(mark, style=style), Text(line, style=style))
    return grid


def _counts_line(run: AuditRun) -> Text:
    counts = severity_counts(run)
    statuses = status_counts(run)
    line = Text("Risks: ", style="bold")
    for i, severity in enumerate(SEVERITIES):
        if i:
            line.append(" · ")
        n = counts[severity]
        line.append(f"{n} {severity.value}", style=SEVERITY_STYLE[severity] if n else "dim")
    line.append(
        f"\nChecks: {statuses[Status.PASSED]} passed, {statuses[Status.FAILED]} with findings, "
        f"{statuses[Status.ERROR]} could not run, {statuses[Status.SKIPPED]} skipped",
        style="dim",
    )
    return line


def _risk_table(run: AuditRun) -> Table:
    with_change = has_previous(run)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Risk", ratio=3, overflow="fold")
    table.add_column("Target", ratio=2, overflow="fold")
    if with_change:
        table.add_column("Change", no_wrap=True)
    for rank, finding in enumerate(run.findings, start=1):
        risk = Text(finding.title)
        risk.append("\n" + finding.id, style="dim")
        row: list[RenderableType] = [
            Text(str(rank)),
            Text(finding.severity.value.upper(), style=SEVERITY_STYLE[finding.severity]),
            risk,
            Text(finding.target),
        ]
        if with_change:
            label = change_label(run, finding) or ""
            row.append(Text(label, style="bold magenta" if label == "NEW" else "dim"))
        table.add_row(*row)
    return table


def _finding_detail(run: AuditRun, finding: Finding, *, verbose: bool) -> Table:
    rank = run.findings.index(finding) + 1
    head = Text()
    head.append(finding.severity.value.upper(), style=SEVERITY_STYLE[finding.severity])
    head.append(" ")
    head.append(finding.title, style="bold")
    change = change_label(run, finding)
    if change:
        head.append(f"  [{change}]", style="bold magenta" if change == "NEW" else "dim")

    where = Text("on ")
    where.append(finding.target)
    where.append(f"  ({finding.id})", style="dim")
    impact = Text(f"{IMPACT_LABEL[finding.impact]}: ", style="bold")
    impact.append(IMPACT_PLAIN[finding.impact])
    parts: list[RenderableType] = [head, where, impact]
    if finding.evidence:
        parts.append(Text("Evidence:", style="bold"))
        parts.append(Padding(Text("\n".join(finding.evidence), style="dim"), (0, 0, 0, 2), expand=False))
    fix = Text("Fix: ", style="bold green")
    fix.append(finding.remediation)
    parts.append(fix)
    if verbose and finding.references:
        refs = Text("References: ", style="bold")
        refs.append(" ".join(finding.references))
        parts.append(refs)
    # Rank in its own column so every wrapped line keeps the hanging indent.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column()
    grid.add_row(Text(f"{rank}."), Group(*parts))
    return grid


def _print_not_verified(run: AuditRun, console: Console) -> None:
    not_run = run.not_run
    console.print()
    if run.fully_verified:
        console.print(Text("Not verified: none, every check ran.", style="dim"))
        return
    if run.not_configured:
        console.print(
            Text(
                f"Not verified: {len(run.not_configured)} check(s) not configured (these are not passes)",
                style="bold yellow",
            )
        )
        for result in run.not_configured:
            line = Text("  • ")
            line.append(result.check_id, style="bold")
            line.append(": " + (result.reason or "not configured"), style="yellow")
            line.append("\n    to run it: " + (result.configure or ""), style="dim")
            console.print(line)
    if not not_run:
        return
    console.print(
        Text(
            f"Not verified: {len(not_run)} check(s) could not run (these are not passes)",
            style="bold yellow",
        )
    )
    for result in not_run:
        line = Text("  • ")
        line.append(result.check_id, style="bold")
        line.append(" on " + result.target + ": ")
        line.append(result.reason or "unknown reason", style="yellow")
        console.print(line)


def _print_host_facts(run: AuditRun, console: Console) -> None:
    """Per-host measurements (core/facts.py), one row each; how they were reached is in md/html/json."""
    if not run.host_facts:
        return
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    for column in ("Host", "Fact", "Value"):
        table.add_column(column)
    for fact in run.host_facts:
        table.add_row(Text(fact.host), Text(fact.name), Text(fact.value, style="bold"))
    console.print(Text("Host facts", style="bold underline"))
    console.print(table)


def _history_line(run: AuditRun) -> Text | None:
    if not has_previous(run) or run.delta is None:
        return None
    delta = run.delta
    fixed = fixed_findings(run)
    line = Text("\nSince audit #" + str(delta.previous_run_id) + ": ", style="bold")
    line.append(f"{len(fixed)} fixed", style="green" if fixed else "dim")
    line.append(f", {len(delta.new)} new", style="magenta" if delta.new else "dim")
    line.append(f", {len(delta.still_open)} still open")
    if fixed:
        line.append(" (fixed: " + ", ".join(f.title for f in fixed[:3]))
        line.append(f", +{len(fixed) - 3} more)" if len(fixed) > 3 else ")")
    return line
