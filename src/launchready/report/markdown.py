"""Markdown: the one style every command's Markdown uses, and the audit's report.

``md_text``/``md_code``/``md_block`` are the escaping rules; ``write_markdown`` writes any
``Document`` (report/model.py) in the audit report's style: ``#`` heading, a meta line, the
banner as ``## Label: HEADLINE`` with a quoted sentence, ``##`` sections, pipe tables.

The audit report (for a pull request comment, an issue, or a wiki page) reads: decision, ranked
table, each finding with evidence and fix, what could not be verified, what was fixed since the
previous audit.
"""

from __future__ import annotations

import re

from launchready.core.finding import Finding
from launchready.core.run import AuditRun
from launchready.report.controls import visible
from launchready.report.dns_map import dns_map_markdown
from launchready.report.model import (
    Banner,
    Block,
    BulletList,
    CodeBlock,
    Document,
    LineChart,
    Paragraph,
    Table,
    Text,
    spans,
)
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    NOT_CONFIGURED_LEAD,
    SEVERITIES,
    STATUSES,
    VERDICT_PLAIN,
    accepted_findings,
    change_label,
    check_outcomes,
    code_spans,
    did_not_apply,
    fixed_findings,
    group_findings,
    has_previous,
    human_utc,
    is_link,
    open_findings,
    severity_counts,
    status_counts,
    targets_line,
    top_actions,
    top_heading,
)

# Backslash-escaping every CommonMark-significant character keeps user-controlled text (titles,
# evidence snippets, reasons) from turning into links, HTML or table breaks.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!{}])")


def md_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def md_code(text: str) -> str:
    """Inline code that survives backticks inside the text."""
    flat = " ".join(text.split())
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}" if flat else ""


def md_rich(text: str) -> str:
    """Text whose backtick-quoted parts stay code spans; everything else is escaped."""
    return "".join(md_code(part) if is_code else md_text_keep_edges(part) for is_code, part in code_spans(text))


def md_text_keep_edges(text: str) -> str:
    """md_text without trimming, so the spaces around a code span survive."""
    flat = " ".join(text.split())
    if text[:1].isspace():
        flat = " " + flat
    if text[-1:].isspace() and flat.strip():
        flat = flat + " "
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_block(lines: tuple[str, ...] | list[str]) -> str:
    text = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def md_inline(text: Text, *, in_table: bool = False) -> str:
    """Model text as Markdown: code spans, **strong** parts, everything else escaped.

    In a table cell a pipe ends the cell even inside a code span (GitHub Flavored Markdown), so
    there it is escaped as well; GFM shows ``\\|`` in a code span as a plain pipe.
    """
    out = []
    for span in spans(text):
        if span.code:
            code = md_code(span.text)
            out.append(code.replace("|", "\\|") if in_table else code)
        elif span.strong and span.text.strip():
            out.append(f"**{md_text(span.text)}**")
        else:
            out.append(md_text_keep_edges(span.text))
    return "".join(out).strip()


def write_markdown(doc: Document) -> str:
    out = [f"# {md_text(doc.heading)}", ""]
    if doc.meta:
        out += [" · ".join(md_text(m) for m in doc.meta), ""]
    if doc.banner is not None:
        out += _banner(doc.banner)
    for section in doc.sections:
        out += [f"## {md_text(section.title)}", ""]
        if section.lead:
            out += [md_text(section.lead), ""]
        for block in section.blocks:
            out += _block(block)
    if doc.footer:
        out += [f"_{md_text(doc.footer)}_", ""]
    return _finish(out)


def _finish(lines: list[str]) -> str:
    """The report text; the one place control characters from the page, certificate or repository
    are made visible, so a reader who ``cat``s the file sees them instead of obeying them."""
    return visible("\n".join(lines).rstrip() + "\n")


def _banner(banner: Banner) -> list[str]:
    out = [f"## {md_text(banner.label)}: {md_text(banner.headline)}", "", f"> {md_text(banner.text)}", ""]
    if banner.points:
        out += [f"- {md_inline(point)}" for point in banner.points] + [""]
    return out


def _block(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        text = md_inline(block.text)
        return [f"> **Note:** {text}" if block.tone else text, ""]
    if isinstance(block, BulletList):
        return [f"- {md_inline(item)}" for item in block.items] + [""]
    if isinstance(block, CodeBlock):
        return [md_block(block.lines), ""]
    if isinstance(block, Table):
        head = "| " + " | ".join(md_text(c.title) for c in block.columns) + " |"
        rule = "|" + "|".join("---:" if c.numeric else "---" for c in block.columns) + "|"
        rows = ["| " + " | ".join(md_inline(cell, in_table=True) for cell in row) + " |" for row in block.rows]
        return [head, rule, *rows, ""]
    if isinstance(block, LineChart):
        # A chart needs pixels: Markdown names it and points to the HTML page.
        return [f"_{md_text(block.title)}: a chart in the HTML report._", ""]
    raise TypeError(f"unknown block {type(block).__name__}")


def render_markdown(run: AuditRun) -> str:
    out: list[str] = []
    out += _header(run)
    out += _decision(run)
    out += _top_actions(run)
    out += _ranked_table(run)
    out += _details(run)
    out += _accepted(run)
    out += _not_verified(run)
    out += _fixed(run)
    out += _host_facts(run)
    out += _dns_map(run)
    return _finish(out)


def _host_facts(run: AuditRun) -> list[str]:
    if not run.host_facts:
        return []
    out = ["## Host facts", "", "| Host | Fact | Value | How | Check |", "|---|---|---|---|---|"]
    for f in run.host_facts:
        how = md_text(", ".join(f.detail)) if f.detail else ""
        out.append(
            f"| {md_code(f.host)} | {md_text(f.name)} | **{md_text(f.value)}** | {how} | {md_code(f.check_id)} |"
        )
    return out + [""]


def _dns_map(run: AuditRun) -> list[str]:
    if run.dns_map is None:
        return []
    return ["## DNS map", "", *dns_map_markdown(run.dns_map), ""]


def _header(run: AuditRun) -> list[str]:
    meta = [f"Audited {human_utc(run.started)}", f"launchready {md_text(run.tool_version)}"]
    if run.run_id is not None:
        meta.append(f"run #{run.run_id}")
    return [f"# Launch readiness: {md_text(run.target)}", "", " · ".join(meta), ""]


def _decision(run: AuditRun) -> list[str]:
    verdict = run.decision.verdict
    out = [f"## Decision: {verdict.value}", "", f"> {md_text(VERDICT_PLAIN[verdict])}", ""]
    out += [f"- {md_text(reason)}" for reason in run.decision.reasons]
    if run.decision.reasons:
        out.append("")
    counts = severity_counts(run)
    statuses = status_counts(run)
    out.append(
        "**Risks:** "
        + " · ".join(f"{counts[s]} {s.value}" for s in SEVERITIES)
        + "  \n**Checks:** "
        + " · ".join(f"{statuses[s]} {s.value}" for s in STATUSES)
        + f" ({check_outcomes(run)[0]} with findings, {check_outcomes(run)[1]} with notes only"
        + f", {len(run.not_configured)} not configured)"
    )
    out.append("")
    if run.decision.rules:
        out += ["<details><summary>How the decision is made</summary>", ""]
        out += [f"- {md_text(rule)}" for rule in run.decision.rules]
        out += ["", "</details>", ""]
    return out


def _top_actions(run: AuditRun) -> list[str]:
    top = top_actions(run)
    if not top:
        return []
    out = [f"## {top_heading(len(top))}", ""]
    for action in top:
        ids = ", ".join(md_code(g.id) for g in action.groups)
        out.append(
            f"{action.rank}. **{action.severity.value.upper()}** {md_text(action.title)} "
            f"on {md_text(targets_line(action.targets))} ({ids})  "
        )
        out.append(f"   **Fix:** {md_rich(action.fix)}")
    return out + [""]


def _ranked_table(run: AuditRun) -> list[str]:
    """One row per finding id, its targets in one cell (a problem on five hosts is one row)."""
    out = ["## Ranked risks", ""]
    if not run.findings:
        return out + ["No risks found.", ""]
    with_change = has_previous(run)
    head = "| # | Severity | Risk | Target | Impact |" + (" Change |" if with_change else "")
    rule = "|---:|---|---|---|---|" + ("---|" if with_change else "")
    out += [head, rule]
    for rank, group in enumerate(group_findings(run), start=1):
        shown = group.targets[:_MD_TARGETS]
        where = ", ".join(md_code(t) for t in shown)
        if len(group.targets) > len(shown):
            where += f" +{len(group.targets) - len(shown)} more"
        row = (
            f"| {rank} | **{group.severity.value.upper()}** | {md_text(group.title)} "
            f"{md_code(group.id)} | {where} | {IMPACT_LABEL[group.first.impact]} |"
        )
        if with_change:
            labels = {change_label(run, f) for f in group.findings} - {None}
            row += f" {'NEW' if 'NEW' in labels else ('still open' if labels else '')} |"
        out.append(row)
    return out + [""]


# Targets a ranked-table row names before "+N more" (every one is in "What to fix").
_MD_TARGETS = 5


def _details(run: AuditRun) -> list[str]:
    if not run.findings:
        return []
    out = ["## What to fix", ""]
    for rank, finding in enumerate(open_findings(run), start=1):
        out += _finding_section(run, finding, rank)
    return out


def _finding_section(run: AuditRun, finding: Finding, rank: int) -> list[str]:
    change = change_label(run, finding)
    badge = f" ({change})" if change else ""
    out = [
        f"### {rank}. [{finding.severity.value.upper()}] {md_text(finding.title)}{badge}",
        "",
        f"- **Target:** {md_code(finding.target)}",
        f"- **ID:** {md_code(finding.id)} (confidence: {finding.confidence.value})",
        f"- **Business impact:** {IMPACT_LABEL[finding.impact]}: {md_text(IMPACT_PLAIN[finding.impact])}",
        "",
        "**Fix:** " + md_rich(finding.remediation),
        "",
    ]
    if finding.evidence:
        out += ["**Evidence:**", "", md_block(finding.evidence), ""]
    if finding.references:
        out += ["**References:**", ""]
        for ref in finding.references:
            out.append(f"- <{ref}>" if is_link(ref) and not re.search(r"[\s<>]", ref) else f"- {md_text(ref)}")
        out.append("")
    return out


def _accepted(run: AuditRun) -> list[str]:
    accepted = accepted_findings(run)
    if not accepted:
        return []
    out = ["## Accepted for now", "", "Not counted in the decision until their date passes.", ""]
    out += ["| Finding | Risk | Accepted by | Until | Why |", "|---|---|---|---|---|"]
    for f in accepted:
        a = f.accepted
        assert a is not None
        out.append(
            f"| {md_code(f.fingerprint)} | {md_text(f.title)} | {md_text(a.by)} | {a.until.isoformat()} "
            f"| {md_text(a.reason)} |"
        )
    return out + [""]


def _not_verified(run: AuditRun) -> list[str]:
    out = ["## Not verified", ""]
    not_run = run.not_run
    if run.fully_verified:
        return out + ["Every check ran.", ""] + _did_not_apply(run)
    if run.not_configured:
        out += [
            NOT_CONFIGURED_LEAD,
            "",
            "| Check | Why it did not run | To run it |",
            "|---|---|---|",
        ]
        for result in run.not_configured:
            out.append(
                f"| {md_code(result.check_id)} | {md_text(result.reason or 'not configured')} "
                f"| {md_text(result.configure or '')} |"
            )
        out.append("")
    if not not_run:
        return out + _did_not_apply(run)
    out += [
        "These checks could not run, so nothing is known about them: they are **not** passes.",
        "",
        "| Check | Target | Why it could not run |",
        "|---|---|---|",
    ]
    for result in not_run:
        out.append(f"| {md_code(result.check_id)} | {md_code(result.target)} | {md_text(result.reason or 'unknown')} |")
    return out + [""] + _did_not_apply(run)


def _did_not_apply(run: AuditRun) -> list[str]:
    skipped = did_not_apply(run)
    if not skipped:
        return []
    out = ["<details><summary>Checks that did not apply (" + str(len(skipped)) + ")</summary>", ""]
    out += [f"- {md_code(r.check_id)}: {md_text(r.reason or 'does not apply')}" for r in skipped]
    return out + ["", "</details>", ""]


def _fixed(run: AuditRun) -> list[str]:
    delta = run.delta
    if delta is None or delta.previous_run_id is None:
        return []
    since = f"run #{delta.previous_run_id}"
    if delta.previous_started is not None:
        since += f", {human_utc(delta.previous_started)}"
    out = [f"## Fixed since last audit ({since})", ""]
    fixed = fixed_findings(run)
    if not fixed:
        return out + ["Nothing was fixed since the previous audit.", ""]
    for finding in fixed:
        out.append(
            f"- ~~{md_text(finding.title)}~~ {md_code(finding.id)} on {md_code(finding.target)} "
            f"(was {finding.severity.value})"
        )
    return out + [""]
