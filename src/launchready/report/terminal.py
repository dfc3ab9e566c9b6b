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
from launchready.report.console_controls import visible_controls
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    SEVERITIES,
    VERDICT_PLAIN,
    Action,
    FindingGroup,
    acceptance_note,
    accepted_findings,
    change_label,
    check_outcomes,
    did_not_apply,
    fixed_findings,
    group_findings,
    has_previous,
    human_utc,
    open_findings,
    severity_counts,
    short_fix,
    status_counts,
    targets_line,
    top_actions,
    top_heading,
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

# Evidence lines an action card shows by default (-v shows every line of every finding).
_CARD_EVIDENCE = 3


def render_terminal(run: AuditRun, console: Console, *, verbose: bool = False) -> None:
    """By default about one screen: the decision, the counts, "Do these 3 first" with their fixes,
    one line per finding id, what was not verified. ``verbose``: every finding's full card.
    Control characters in site-supplied text are shown, never sent to the terminal."""
    with visible_controls(console):
        _render(run, console, verbose=verbose)


def _render(run: AuditRun, console: Console, *, verbose: bool) -> None:
    console.print(_decision_panel(run))
    console.print(_counts_line(run))
    console.print()
    if run.findings:
        top = top_actions(run)
        if top:
            console.print(Text(top_heading(len(top)), style="bold underline"))
            for action in top:
                console.print()
                console.print(_action_card(run, action, verbose=verbose))
            console.print()
        if verbose:
            console.print(Text("Ranked risks", style="bold underline"))
            console.print(_risk_table(run))
            console.print()
            console.print(Text("Every finding", style="bold underline"))
            for finding in open_findings(run):
                console.print()
                console.print(_finding_detail(run, finding, verbose=verbose))
        else:
            groups = group_findings(run)
            console.print(
                Text(
                    f"All risks: {len(open_findings(run))} finding(s) under {len(groups)} id(s)",
                    style="bold underline",
                )
            )
            console.print(_group_table(run, groups))
    else:
        console.print(Text("No risks found.", style="green"))
        console.print()
    _print_accepted(run, console)
    _print_not_verified(run, console)
    _print_did_not_apply(run, console, verbose=verbose)
    if verbose:
        _print_host_facts(run, console)
    line = _history_line(run)
    if line is not None:
        console.print(line)
    if run.findings and not verbose:
        console.print(Text("\nRun with -v for every finding's evidence, fix and references.", style="dim"))


def _action_card(run: AuditRun, action: Action, *, verbose: bool) -> Table:
    """One of the first actions: what, where, a little evidence and the fix (its first sentence
    unless ``verbose``)."""
    head = Text()
    head.append(action.severity.value.upper(), style=SEVERITY_STYLE[action.severity])
    head.append(" ")
    head.append(action.title, style="bold")
    changes = {change_label(run, f) for f in action.findings} - {None}
    if "NEW" in changes:
        head.append("  [NEW]", style="bold magenta")
    lead = action.lead.first
    where = Text(f"{IMPACT_LABEL[lead.impact]} · on ")
    where.append(targets_line(action.targets))
    where.append("  (" + ", ".join(g.id for g in action.groups) + ")", style="dim")
    parts: list[RenderableType] = [head, where]
    evidence = [line for f in action.findings[:1] for line in f.evidence][: None if verbose else _CARD_EVIDENCE]
    if evidence:
        parts.append(Padding(Text("\n".join(evidence), style="dim"), (0, 0, 0, 2), expand=False))
    fix = Text("Fix: ", style="bold green")
    fix.append(action.fix if verbose else short_fix(action.fix))
    parts.append(fix)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column()
    grid.add_row(Text(f"{action.rank}."), Group(*parts))
    return grid


def _group_table(run: AuditRun, groups: tuple[FindingGroup, ...]) -> Table:
    """One line per finding id: severity, title (cut to fit), id (never cut), where."""
    with_change = has_previous(run)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Risk", ratio=3, no_wrap=True, overflow="ellipsis")
    table.add_column("Id", no_wrap=False, overflow="fold", style="dim")
    table.add_column("Where", ratio=2, no_wrap=True, overflow="ellipsis")
    if with_change:
        table.add_column("Change", no_wrap=True)
    for group in groups:
        row: list[RenderableType] = [
            Text(group.severity.value.upper(), style=SEVERITY_STYLE[group.severity]),
            Text(group.title),
            Text(group.id),
            Text(targets_line(group.targets, shown=1)),
        ]
        if with_change:
            labels = {change_label(run, f) for f in group.findings} - {None}
            label = "NEW" if "NEW" in labels else ("still open" if labels else "")
            row.append(Text(label, style="bold magenta" if label == "NEW" else "dim"))
        table.add_row(*row)
    return table


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
    with_findings, notes_only = check_outcomes(run)
    line.append(
        f"\nChecks: {statuses[Status.PASSED]} passed, {with_findings} with findings, {notes_only} with notes only, "
        f"{statuses[Status.ERROR]} could not run, {len(run.not_configured)} not configured, "
        f"{statuses[Status.SKIPPED] - len(run.not_configured)} did not apply",
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
    for rank, finding in enumerate(open_findings(run), start=1):
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
    rank = open_findings(run).index(finding) + 1
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


def _print_accepted(run: AuditRun, console: Console) -> None:
    accepted = accepted_findings(run)
    if not accepted:
        return
    console.print()
    console.print(Text(f"Accepted for now: {len(accepted)} finding(s), not counted", style="bold"))
    for finding in accepted:
        line = Text("  • ")
        line.append(finding.fingerprint, style="bold")
        line.append(": " + finding.title)
        line.append("\n    " + acceptance_note(finding), style="dim")
        console.print(line)


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


def _print_did_not_apply(run: AuditRun, console: Console, *, verbose: bool) -> None:
    skipped = did_not_apply(run)
    if not skipped:
        return
    if not verbose:
        console.print(Text(f"Did not apply: {len(skipped)} check run(s) (-v lists them with the reason)", style="dim"))
        return
    console.print(Text(f"Did not apply: {len(skipped)} check run(s)", style="bold"))
    for result in skipped:
        line = Text("  • ")
        line.append(result.check_id, style="bold")
        line.append(": " + (result.reason or "does not apply"), style="dim")
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
