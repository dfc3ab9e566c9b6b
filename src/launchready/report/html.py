"""HTML: every page launchready writes, from Jinja2 templates sharing one stylesheet.

``templates/base.html.j2`` is the page shell with ``templates/style.css`` inlined; the audit
report (``report.html.j2``, built below) and every ``Document`` (``document.html.j2``, through
``write_html``: the load report, and later the monitor and handover pages) extend it.

Each page is one self-contained file a founder can open, print or forward: inline CSS only, no
scripts, no external fetches; the only URLs are the references a reader may click. Jinja2
autoescaping is on, so evidence copied from the audited site (which an attacker may control) is
shown as text and never becomes markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from launchready.core.finding import Finding, Status
from launchready.core.run import AuditRun, Verdict
from launchready.report.charts import legend_html, line_chart_svg
from launchready.report.controls import visible
from launchready.report.model import Document, Text, spans
from launchready.report.view import (
    IMPACT_LABEL,
    IMPACT_PLAIN,
    NOT_CONFIGURED_LEAD,
    SEVERITIES,
    SEVERITY_PLAIN,
    VERDICT_PLAIN,
    FindingGroup,
    accepted_findings,
    change_label,
    check_outcomes,
    code_spans,
    did_not_apply,
    fixed_findings,
    group_findings,
    human_utc,
    is_link,
    open_findings,
    severity_counts,
    status_counts,
    top_actions,
    top_heading,
)

TEMPLATE = "report.html.j2"

_VERDICT_CLASS = {Verdict.PAUSE: "pause", Verdict.SHIP_WITH_FIXES: "fixes", Verdict.SHIP: "ship"}


@dataclass(frozen=True)
class HtmlFinding:
    rank: int
    id: str
    title: str
    severity: str
    severity_label: str
    target: str
    impact_label: str
    impact_text: str
    confidence: str
    remediation: str
    evidence: tuple[str, ...]
    links: tuple[str, ...]
    plain_references: tuple[str, ...]
    change: str | None


@dataclass(frozen=True)
class HtmlAction:
    rank: int
    severity: str
    title: str
    ids: tuple[str, ...]
    targets: tuple[str, ...]
    fix: str


@dataclass(frozen=True)
class HtmlGroup:
    severity: str
    title: str
    id: str
    targets: tuple[str, ...]
    change: str | None


@dataclass(frozen=True)
class HtmlCount:
    severity: str
    label: str
    count: int


@dataclass(frozen=True)
class HtmlNotRun:
    check_id: str
    target: str
    reason: str
    configure: str = ""


@dataclass(frozen=True)
class HtmlFixed:
    id: str
    title: str
    severity: str
    target: str


@dataclass(frozen=True)
class HtmlHost:
    name: str
    addresses: str
    cname_chain: str
    found_by: str


@dataclass(frozen=True)
class HtmlHistory:
    previous_run_id: int
    previous_started: str | None
    new: int
    still_open: int
    fixed: tuple[HtmlFixed, ...]


@dataclass(frozen=True)
class HtmlPage:
    target: str
    started: str
    duration: str
    tool_version: str
    run_id: int | None
    verdict: str
    verdict_class: str
    verdict_text: str
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    counts: tuple[HtmlCount, ...]
    checks_total: int
    checks_passed: int
    checks_failed: int
    checks_not_run: int
    checks_skipped: int
    checks_notes: int
    checks_not_configured: int
    findings: tuple[HtmlFinding, ...]
    top: tuple[HtmlAction, ...]
    # Accepted findings: (id@target, title, by, until, reason) rows.
    accepted: tuple[tuple[str, str, str, str, str], ...]
    top_heading: str
    groups: tuple[HtmlGroup, ...]
    not_run: tuple[HtmlNotRun, ...]
    not_configured: tuple[HtmlNotRun, ...]
    did_not_apply: tuple[HtmlNotRun, ...]
    not_configured_lead: str
    history: HtmlHistory | None
    hosts: tuple[HtmlHost, ...]
    # The DNS map: (name, type, ttl, value, role) rows and the DNSSEC status line; empty when absent.
    dns_rows: tuple[tuple[str, str, str, str, str], ...] = ()
    dns_note: str = ""
    # Host facts (core/facts.py): (host, fact, value, check id, how it was reached) rows; empty when none.
    fact_rows: tuple[tuple[str, str, str, str, str], ...] = ()


STYLESHEET = "style.css"

# Banner tones share the audit verdict's colours.
_BANNER_CLASS = {"good": "ship", "warn": "fixes", "bad": "pause"}


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("launchready.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_visible_controls,
    )
    env.filters["code_spans"] = _code_spans_html
    env.filters["inline"] = _inline_html
    env.filters["wrap_points"] = _wrap_points
    env.filters["chart_svg"] = line_chart_svg
    env.filters["chart_legend"] = legend_html
    env.globals["stylesheet"] = Markup(stylesheet())
    env.globals["banner_class"] = _BANNER_CLASS
    return env


def _visible_controls(value: object) -> object:
    """Every value a template prints passes here (markup from the filters too): the one place
    control characters from the page, certificate or repository are made visible. The stand-ins
    are plain characters, so already-escaped markup stays safe."""
    if isinstance(value, Markup):
        return Markup(visible(str(value)))
    if isinstance(value, str):
        return visible(value)
    return value


def stylesheet() -> str:
    """The one stylesheet every HTML page inlines."""
    return resources.files("launchready.report").joinpath("templates", STYLESHEET).read_text("utf-8")


def write_html(doc: Document) -> str:
    return environment().get_template("document.html.j2").render(doc=doc, tool_version=doc.tool_version)


def render_html(run: AuditRun) -> str:
    return environment().get_template(TEMPLATE).render(page=build_page(run), tool_version=run.tool_version)


def _inline_html(text: Text) -> Markup:
    """Model text as HTML: every part escaped, then wrapped in <code>/<strong>/a tone class."""
    out = Markup("")
    for span in spans(text):
        part: Markup = escape(span.text)
        if span.code:
            part = Markup('<code class="mono">%s</code>') % part
        if span.strong:
            part = Markup("<strong>%s</strong>") % part
        if span.tone:
            part = Markup('<span class="tone-%s">%s</span>') % (span.tone, part)
        out += part
    return out


def _code_spans_html(text: str) -> Markup:
    """Backtick-quoted parts as <code>; every part is escaped first, so nothing else becomes markup."""
    out = Markup("")
    for is_code, part in code_spans(text):
        out += Markup("<code>%s</code>") % part if is_code else escape(part)
    return out


def build_page(run: AuditRun) -> HtmlPage:
    counts = severity_counts(run)
    statuses = status_counts(run)
    seconds = max(0.0, (run.finished - run.started).total_seconds())
    return HtmlPage(
        target=run.target,
        started=human_utc(run.started),
        duration=f"{seconds:.1f} s",
        tool_version=run.tool_version,
        run_id=run.run_id,
        verdict=run.decision.verdict.value,
        verdict_class=_VERDICT_CLASS[run.decision.verdict],
        verdict_text=VERDICT_PLAIN[run.decision.verdict],
        reasons=run.decision.reasons,
        rules=run.decision.rules,
        counts=tuple(HtmlCount(s.value, s.value.capitalize(), counts[s]) for s in SEVERITIES),
        checks_total=len(run.results),
        checks_passed=statuses[Status.PASSED],
        checks_failed=check_outcomes(run)[0],
        checks_notes=check_outcomes(run)[1],
        checks_not_configured=len(run.not_configured),
        checks_not_run=statuses[Status.ERROR],
        checks_skipped=statuses[Status.SKIPPED] - len(run.not_configured),
        findings=tuple(_finding(run, f, rank) for rank, f in enumerate(open_findings(run), start=1)),
        accepted=tuple(
            (f.fingerprint, f.title, f.accepted.by, f.accepted.until.isoformat(), f.accepted.reason)
            for f in accepted_findings(run)
            if f.accepted is not None
        ),
        top=tuple(
            HtmlAction(a.rank, a.severity.value, a.title, tuple(g.id for g in a.groups), a.targets, a.fix)
            for a in top_actions(run)
        ),
        top_heading=top_heading(len(top_actions(run))),
        groups=tuple(
            HtmlGroup(g.severity.value, g.title, g.id, g.targets, _group_change(run, g)) for g in group_findings(run)
        ),
        not_run=tuple(HtmlNotRun(r.check_id, r.target, r.reason or "unknown reason") for r in run.not_run),
        not_configured=tuple(
            HtmlNotRun(r.check_id, r.target, r.reason or "not configured", r.configure or "")
            for r in run.not_configured
        ),
        not_configured_lead=NOT_CONFIGURED_LEAD,
        did_not_apply=tuple(HtmlNotRun(r.check_id, r.target, r.reason or "does not apply") for r in did_not_apply(run)),
        history=_history(run),
        hosts=tuple(
            HtmlHost(
                name=h.name,
                addresses=", ".join(h.addresses) or "no address",
                cname_chain=" → ".join(h.cname_chain),
                found_by=h.found_by,
            )
            for h in run.hosts
        )
        + (
            (
                HtmlHost(
                    name=f"… {run.hosts_omitted} more host(s) not listed", addresses="", cname_chain="", found_by=""
                ),
            )
            if run.hosts_omitted
            else ()
        ),
        dns_rows=tuple(
            (r.name, r.type, "" if r.ttl is None else str(r.ttl), r.value, r.role)
            for r in (run.dns_map.records if run.dns_map is not None else ())
        ),
        dns_note=(
            f"DNSSEC: {run.dns_map.dnssec}"
            + (f"; not answered: {', '.join(run.dns_map.unanswered)}" if run.dns_map.unanswered else "")
            + (f"; not listed: {', '.join(run.dns_map.omitted)}" if run.dns_map.omitted else "")
            if run.dns_map is not None
            else ""
        ),
        fact_rows=tuple((f.host, f.name, f.value, f.check_id, ", ".join(f.detail)) for f in run.host_facts),
    )


def _group_change(run: AuditRun, group: FindingGroup) -> str | None:
    labels = {change_label(run, f) for f in group.findings} - {None}
    return "NEW" if "NEW" in labels else ("still open" if labels else None)


def _wrap_points(text: str) -> Markup:
    """Escaped text with break opportunities after dots, slashes and hyphens, so host names and
    paths wrap between their parts, never mid-word."""
    escaped = str(escape(text))
    for mark in (".", "/", "-", "@"):
        escaped = escaped.replace(mark, mark + "<wbr>")
    return Markup(escaped)


def _finding(run: AuditRun, finding: Finding, rank: int) -> HtmlFinding:
    return HtmlFinding(
        rank=rank,
        id=finding.id,
        title=finding.title,
        severity=finding.severity.value,
        severity_label=SEVERITY_PLAIN[finding.severity],
        target=finding.target,
        impact_label=IMPACT_LABEL[finding.impact],
        impact_text=IMPACT_PLAIN[finding.impact],
        confidence=finding.confidence.value,
        remediation=finding.remediation,
        evidence=finding.evidence,
        links=tuple(r for r in finding.references if is_link(r)),
        plain_references=tuple(r for r in finding.references if not is_link(r)),
        change=change_label(run, finding),
    )


def _history(run: AuditRun) -> HtmlHistory | None:
    delta = run.delta
    if delta is None or delta.previous_run_id is None:
        return None
    return HtmlHistory(
        previous_run_id=delta.previous_run_id,
        previous_started=human_utc(delta.previous_started) if delta.previous_started else None,
        new=len(delta.new),
        still_open=len(delta.still_open),
        fixed=tuple(HtmlFixed(f.id, f.title, f.severity.value, f.target) for f in fixed_findings(run)),
    )
