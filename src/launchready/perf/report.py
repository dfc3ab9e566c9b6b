"""Load-test reports: terminal (rich), JSON, and one self-contained HTML page with two charts.

The HTML page is a ``Document`` written by the output layer (report/), with the shared
stylesheet; this module only chooses what it shows: the budget verdict, the endpoints table,
latency over time (p50, p99 and max per second, errors marked) and the percentile distribution
on HdrHistogram's usual log axis (0, 90, 99, 99.9, 99.99 %).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from launchready import __version__
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Severity
from launchready.perf.generator import EndpointStats, Health, LoadResult, LoadSettings
from launchready.perf.growth import GrowthSeries
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint
from launchready.report.html import write_html
from launchready.report.markdown import write_markdown
from launchready.report.model import (
    Banner,
    Block,
    BulletList,
    Column,
    Document,
    LineChart,
    Marker,
    Paragraph,
    Section,
    Series,
    Span,
    Text,
    Threshold,
    backticks,
    spans,
)
from launchready.report.model import (
    Table as DocTable,
)
from launchready.report.view import human_utc

PERCENTILES = (50.0, 90.0, 95.0, 99.0)
# 1.1: target, started, outcome, settings.workers/connections/budgets; null latency where no
# request succeeded (never 0.0 ms); endpoints[].error_statuses and failure.
REPORT_VERSION = "1.1"
# Shown in place of a latency no successful response measured.
NO_LATENCY = "–"


def _ms(us: int) -> float:
    return round(us / 1000, 3)


def _latency(h: Histogram) -> dict[str, float] | None:
    """Percentiles of ``h`` in ms; None when it holds no response (an all-error endpoint has no latency)."""
    if h.total == 0:
        return None
    out = {f"p{p:g}": _ms(h.percentile(p)) for p in PERCENTILES}
    out["max"] = _ms(h.max_us)
    out["mean"] = round(h.mean_us / 1000, 3)
    return out


def health_of(result: LoadResult, planned: list[PlannedEndpoint]) -> Health:
    """The run's health judged against its tightest p95 budget (as the perf.load check does)."""
    return result.health(min((p.p95_ms for p in planned), default=None))


# -- what every format says first ---------------------------------------------------------------


def problems_of(findings: list[Finding]) -> list[Finding]:
    """The findings that fail the run (and make the exit code 1): low and above."""
    return [f for f in findings if f.severity.at_least(Severity.LOW)]


def targets(urls: list[str]) -> list[str]:
    """The origins loaded (scheme://host[:port]), in the order the endpoints name them."""
    out: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in out:
            out.append(origin)
    return out


def started_text(started: datetime | None) -> str:
    return human_utc(started) if started is not None else "unknown"


def statuses_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{key} × {count}" for key, count in statuses.items())


def failure_text(stats: EndpointStats) -> str | None:
    """For an endpoint that never answered successfully: what happened instead; None otherwise."""
    if stats.ok or not stats.errors:
        return None
    why = statuses_text(stats.error_statuses())
    sample = next((s for s in stats.error_samples if not s.startswith("HTTP ")), None)
    detail = f"; e.g. {sample}" if sample else ""
    return f"no successful responses: {stats.errors} errors ({why}{detail})"


def errors_cell(stats: EndpointStats) -> str:
    if not stats.errors:
        return f"0 ({0:.1%})"
    return f"{stats.errors} ({stats.error_rate:.1%}): {statuses_text(stats.error_statuses())}"


def settings_text(settings: LoadSettings) -> str:
    processes = f"{settings.workers} {'process' if settings.workers == 1 else 'processes'}"
    return (
        f"{settings.rate:g} req/s for {settings.duration_s:g} s after a {settings.warmup_s:g} s warm-up; "
        f"{settings.connections} connections per pool, {processes}, timeout {settings.timeout_s:g} s; "
        "open model (latency from each request's scheduled send time)"
    )


def budgets_text(planned: list[PlannedEndpoint]) -> str:
    budgets = {(p.p95_ms, p.error_rate) for p in planned}
    if len(budgets) == 1:
        ((p95, errors),) = budgets
        return f"p95 under {p95:g} ms and at most {errors:.1%} errors, every endpoint"
    return "; ".join(f"{p.name}: p95 {p.p95_ms:g} ms, errors {p.error_rate:.1%}" for p in planned)


def health_text(health: Health) -> str:
    if health.healthy:
        return "healthy: the latency measured the server, not the generator"
    return f"{health.verdict}: latency findings are tentative: {health.reason}"


def _problem_points(result: LoadResult, planned: list[PlannedEndpoint], problems: list[Finding]) -> list[str]:
    """The failing findings' titles; an endpoint's errors get their statuses."""
    by_url = {p.url: result.endpoints[p.name] for p in planned}
    points = []
    for f in problems:
        stats = by_url.get(f.target)
        if f.id == "perf.load.error-rate-over-budget" and stats is not None and stats.errors:
            points.append(f"{f.title}: {statuses_text(stats.error_statuses())}")
        else:
            points.append(f.title)
    return points


def outcome(findings: list[Finding], health: Health) -> tuple[str, str]:
    """("PASS" or "FAIL", with " (TENTATIVE)" when the generator limited the run) and the banner's sentence."""
    problems = problems_of(findings)
    headline = "FAIL" if problems else "PASS"
    if not health.healthy:
        headline += " (TENTATIVE)"
    count = len(problems)
    text = (
        f"{count} {'problem' if count == 1 else 'problems'} over budget: fix {'it' if count == 1 else 'them'} "
        "before launch traffic arrives."
        if problems
        else "Every endpoint is within its budget."
    )
    return headline, text


def to_dict(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> dict[str, Any]:
    s = result.settings
    watch = result.watch
    health = health_of(result, planned)
    headline, _ = outcome(findings, health)
    return {
        "report_version": REPORT_VERSION,
        "kind": "load",
        # "pass" or "fail" as the exit code says; tentative when the generator was not healthy.
        "outcome": {
            "result": "fail" if problems_of(findings) else "pass",
            "tentative": not health.healthy,
            "headline": headline,
            "reasons": _problem_points(result, planned, problems_of(findings)),
        },
        "health": _health_dict(health),
        "target": targets([p.url for p in planned]),
        "started": result.started.isoformat() if result.started is not None else None,
        "settings": {
            "rate": s.rate,
            "duration_s": s.duration_s,
            "warmup_s": s.warmup_s,
            "connections": s.connections,
            "timeout_s": s.timeout_s,
            "workers": s.workers,
            "model": "open (constant arrival rate), latency from scheduled send time",
        },
        "overall": {
            "requests": result.total,
            "ok": result.ok,
            "errors": result.errors,
            "error_rate": round(result.error_rate, 6),
            # Served: responses completed inside the measured window per second.
            "throughput_rps": round(result.throughput, 2),
            "asked_rps": s.rate,
            "served_short": result.served_short,
            # null when no request succeeded.
            "latency_ms": _latency(result.overall),
            # Written -> response complete: the server's latency when the generator is healthy.
            "wire_ms": _latency(result.wire),
        },
        "endpoints": [
            {
                "name": p.name,
                "url": p.url,
                "method": p.method,
                "budget": {"p95_ms": p.p95_ms, "error_rate": p.error_rate},
                "requests": e.total,
                "ok": e.ok,
                "errors": e.errors,
                "error_rate": round(e.error_rate, 6),
                # Failed requests by HTTP status ("no response": connection error or timeout).
                "error_statuses": e.error_statuses(),
                # "no successful responses: ..." when every request failed, else null.
                "failure": failure_text(e),
                "mean_bytes": round(e.mean_bytes, 1),
                "statuses": e.statuses,
                "error_samples": e.error_samples,
                # How the requests were authenticated, values masked; null = anonymous.
                "auth": e.auth,
                "auth_lost": e.auth_lost,
                # Successful responses only; null when there were none.
                "latency_ms": _latency(e.latency),
                "wire_ms": _latency(e.wire),
                "pool_waited": e.pool_waited,
            }
            for p in planned
            for e in (result.endpoints[p.name],)
        ],
        "timeline": [
            {
                "second": i,
                "requests": h.total + result.errors_per_second[i],
                "errors": result.errors_per_second[i],
                # null for a second without a successful response.
                "p50_ms": _ms(h.percentile(50)) if h.total else None,
                "p99_ms": _ms(h.percentile(99)) if h.total else None,
                "max_ms": _ms(h.max_us) if h.total else None,
            }
            for i, h in enumerate(result.per_second)
        ],
        "distribution": [{"percentile": round(p, 4), "latency_ms": _ms(v)} for p, v in result.overall.distribution()]
        if result.overall.total
        else [],
        "generator": {
            "cpu_mean": round(watch.cpu_mean, 3),
            "cpu_max": round(watch.cpu_max, 3),
            # Share of the time it was runnable but waited for a CPU (other processes on the machine).
            "cpu_wait_mean": round(watch.starved_mean, 3),
            "timer_lag_p99_ms": _ms(watch.timer_lag.percentile(99)),
            # Scheduled -> written to the socket, every measured request.
            "wait_ms": _latency(watch.wait),
            "queued_max": watch.queued_max,
            "connect_errors": watch.connect_errors,
            "unsolicited_responses": watch.unsolicited,
            "bottleneck": health.reason,
        },
        "pools": [
            {
                "name": p.name,
                "connections": p.connections,
                "requests": p.requests,
                "waited": p.waited,
                "wait_p99_ms": round(p.wait_p99_ms, 3),
                "wire_mean_ms": round(p.wire_mean_ms, 3),
                "needed_by_littles_law": p.needed,
                "too_small": p.too_small,
            }
            for p in health.pools
        ],
        "findings": [f.model_dump(mode="json") for f in findings],
    }


def _health_dict(health: Health) -> dict[str, Any]:
    return {
        # "healthy", "generator-bound" or "pool-bound": anything but healthy makes latency findings tentative.
        "verdict": health.verdict,
        "reason": health.reason,
        "fix": health.fix,
        "wait_bound_ms": health.bound_ms,
        "wait_p99_ms": round(health.wait_p99_ms, 3),
        "note": health.note,
    }


def render_json(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    return json.dumps(to_dict(result, planned, findings), indent=2) + "\n"


def _ms_text(h: Histogram, p: float) -> str:
    return f"{h.percentile(p) / 1000:.1f}" if h.total else NO_LATENCY


def render_terminal(
    result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding], console: Console
) -> None:
    s = result.settings
    health = health_of(result, planned)
    headline, text = outcome(findings, health)
    tone = "yellow" if not health.healthy else ("red" if problems_of(findings) else "green")
    # The answer first: pass or fail, then whether the generator could be trusted, before any number.
    console.print(f"[bold {tone}]{headline}[/bold {tone}]  load test: ", end="")
    console.print(text, markup=False, highlight=False)
    if not health.healthy:
        console.print(f"[bold yellow]{health.verdict.upper()}[/bold yellow]: latency findings are tentative: ", end="")
        console.print(f"{health.reason}", markup=False, highlight=False)
        console.print(f"fix: {health.fix}", markup=False, highlight=False)
    else:
        console.print(f"generator: {health_text(health)}", markup=False, highlight=False)
    for point in _problem_points(result, planned, problems_of(findings)):
        console.print(f"  - {point}", markup=False, highlight=False)
    console.print(
        f"target: {', '.join(targets([p.url for p in planned]))} · started {started_text(result.started)}",
        markup=False,
        highlight=False,
    )
    console.print(f"settings: {settings_text(s)}", markup=False, highlight=False)
    console.print(f"budgets: {budgets_text(planned)}", markup=False, highlight=False)
    table = Table(show_edge=False)
    for column in ("endpoint", "requests", "errors", "p50", "p90", "p95", "p99", "max", "wire p95", "budget p95"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for p in planned:
        e = result.endpoints[p.name]
        h = e.latency
        p95 = h.percentile(95) / 1000
        over = h.total > 0 and p95 > p.p95_ms
        errors = errors_cell(e)
        table.add_row(
            p.name,
            str(e.total),
            f"[red]{escape(errors)}[/red]" if e.error_rate > p.error_rate else escape(errors),
            *(_ms_text(h, q) for q in (50, 90)),
            f"[red]{p95:.1f}[/red]" if over else _ms_text(h, 95),
            _ms_text(h, 99),
            f"{h.max_us / 1000:.1f}" if h.total else NO_LATENCY,
            _ms_text(e.wire, 95),
            f"{p.p95_ms:g} ms",
        )
    console.print(table)
    for p in planned:
        failure = failure_text(result.endpoints[p.name])
        if failure:
            console.print(f"[red]{escape(p.name)}: {escape(failure)}[/red]")
    for p in planned:
        auth = result.endpoints[p.name].auth
        if auth:
            # Already masked; printed as plain text so rich markup in a cookie name cannot style it.
            console.print(f"auth: {p.name}: {auth}", markup=False, highlight=False)
    overall = (
        f"p95 {result.overall.percentile(95) / 1000:.1f} ms, p99 {result.overall.percentile(99) / 1000:.1f} ms"
        if result.overall.total
        else "no successful responses"
    )
    console.print(
        f"overall: {result.total} requests, served {result.throughput:.1f} req/s of {s.rate:g} asked, "
        f"{result.error_rate:.2%} errors, {overall}; on the wire p95 {_ms_text(result.wire, 95)} ms"
    )
    if result.served_short:
        console.print(f"[yellow]warning: {result.served_short}[/yellow]")
    w = result.watch
    console.print(
        f"generator: {health.verdict}; waited inside it p99 {w.wait.percentile(99) / 1000:.1f} ms "
        f"(bound {health.bound_ms:g} ms), CPU {w.cpu_mean:.0%} mean / {w.cpu_max:.0%} max of one core "
        f"(waited for a CPU {w.starved_mean:.0%}), "
        f"timer lag p99 {w.timer_lag.percentile(99) / 1000:.1f} ms"
    )
    for line in _pool_lines(health):
        console.print(line, markup=False, highlight=False)
    if health.note:
        console.print(f"note: {health.note}", markup=False, highlight=False)
    if w.unsolicited:
        console.print(f"[yellow]warning: {_unsolicited(w.unsolicited)}[/yellow]")
    if not findings:
        console.print("[green]Every endpoint is within its budget.[/green]")
    for f in findings:
        tentative = " (tentative)" if f.confidence is Confidence.TENTATIVE else ""
        console.print(f"[bold]{f.severity.value.upper()}[/bold]{tentative} {f.id}: ", end="")
        console.print(f.title, markup=False, highlight=False)
        for line in f.evidence:
            console.print(f"    {line}", markup=False, highlight=False)
        console.print(f"    fix: {f.remediation}", markup=False, highlight=False)


def _pool_lines(health: Health) -> list[str]:
    return [
        f"pool {p.name}: {p.connections} connections, {p.needed} needed by Little's law; "
        f"{p.waited:,} of {p.requests:,} requests waited for a connection (p99 {p.wait_p99_ms:,.1f} ms)"
        for p in health.pools
    ]


def _unsolicited(count: int) -> str:
    return (
        f"{count} responses arrived with no request waiting for them; their connections were closed "
        "(a server or proxy answering twice, or closing idle connections with a 408)"
    )


# -- HTML: the load report as a document for the output layer --------------------------------

# HdrHistogram's usual percentile axis: x = log10(1 / (1 - p)), so 90 % -> 1, 99 % -> 2, ...
_PERCENTILE_TICKS = ((0.0, "0%"), (90.0, "90%"), (99.0, "99%"), (99.9, "99.9%"), (99.99, "99.99%"))


def _percentile_x(p: float) -> float:
    return math.log10(1 / (1 - min(p, 99.99) / 100))


def budget_lines(planned: list[PlannedEndpoint]) -> tuple[Threshold, ...]:
    """One line per distinct p95 budget, naming its endpoints when they differ."""
    by_budget: dict[float, list[str]] = {}
    for p in planned:
        by_budget.setdefault(p.p95_ms, []).append(p.name)
    if len(by_budget) == 1:
        return tuple(Threshold(budget, f"p95 budget {budget:g} ms") for budget in by_budget)
    return tuple(
        Threshold(budget, f"p95 budget {budget:g} ms ({', '.join(names)})") for budget, names in by_budget.items()
    )


def timeline_chart(result: LoadResult, budgets: tuple[Threshold, ...] = ()) -> LineChart:
    """p50, p99 and max latency per measured second (max dashed beneath, so an equal p99 stays
    visible), seconds with errors marked, the p95 budget drawn across."""
    seconds = len(result.per_second)
    # A second without a successful response has no latency: no point, rather than a 0 ms one.
    measured = [(i, h) for i, h in enumerate(result.per_second) if h.total]
    series = (
        Series("p50", tuple((i + 0.5, h.percentile(50) / 1000) for i, h in measured)),
        Series("p99", tuple((i + 0.5, h.percentile(99) / 1000) for i, h in measured)),
        Series("max", tuple((i + 0.5, h.max_us / 1000) for i, h in measured), dashed=True),
    )
    return LineChart(
        title="Latency over time",
        x_label="seconds into the measured run",
        y_label="latency (ms)",
        x_range=(0.0, float(max(seconds, 1))),
        series=series,
        x_ticks=tuple((i + 0.5, str(i)) for i in range(0, seconds, max(1, math.ceil(seconds / 10)))),
        markers=tuple(
            Marker(i + 0.5, f"{errors} errors") for i, errors in enumerate(result.errors_per_second) if errors
        ),
        thresholds=budgets,
    )


def percentile_chart(histograms: dict[str, Histogram], budgets: tuple[Threshold, ...] = ()) -> LineChart:
    """Latency by percentile, one line per histogram that holds a response."""
    series = tuple(
        Series(
            name,
            ((0.0, h.min_us / 1000), *((_percentile_x(p), v / 1000) for p, v in h.distribution())),
        )
        for name, h in histograms.items()
        if h.total
    )
    return LineChart(
        title="Latency by percentile",
        x_label="percentile",
        y_label="latency (ms)",
        x_range=(0.0, 4.0),
        series=series,
        x_ticks=tuple((_percentile_x(p), label) for p, label in _PERCENTILE_TICKS),
        thresholds=budgets,
    )


def load_banner(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> Banner:
    health = health_of(result, planned)
    headline, text = outcome(findings, health)
    problems = problems_of(findings)
    points: list[Text] = list(_problem_points(result, planned, problems))
    if health.healthy:
        points.append(f"Generator: {health_text(health)}.")
        return Banner(
            label="Load test", headline=headline, text=text, tone="bad" if problems else "good", points=tuple(points)
        )
    # The generator's limit comes first: no verdict on the server stands until it is fixed.
    return Banner(
        label="Load test",
        headline=headline,
        text=f"{text} The run was {health.verdict}: its latency measured the generator, not only the server.",
        tone="warn",
        points=(f"Generator: {health.verdict}: {health.reason}.", ("Fix: ", *backticks(health.fix or "")), *points),
    )


def _fact(label: str, value: Text) -> Text:
    return (Span(f"{label}:", strong=True), " ", *spans(value))


def _latency_cells(e: dict[str, Any]) -> tuple[Text, ...]:
    latency = e["latency_ms"]
    if latency is None:
        return (NO_LATENCY,) * 5
    p95: Text = f"{latency['p95']:.1f}"
    if latency["p95"] > e["budget"]["p95_ms"]:
        p95 = Span(f"{latency['p95']:.1f}", strong=True, tone="bad")
    return (f"{latency['p50']:.1f}", f"{latency['p90']:.1f}", p95, f"{latency['p99']:.1f}", f"{latency['max']:.1f}")


def load_document(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> Document:
    data = to_dict(result, planned, findings)
    s = result.settings
    health = health_of(result, planned)
    overall = data["overall"]
    target = ", ".join(data["target"])
    started = started_text(result.started)
    run_blocks: list[Block] = [
        BulletList(
            (
                _fact("Target", Span(target, code=True)),
                _fact("Started", started),
                _fact("Settings", settings_text(s)),
                _fact("Budgets", budgets_text(planned)),
            )
        ),
        Paragraph(
            f"{overall['requests']} requests, {overall['errors']} errors ({overall['error_rate']:.2%}), "
            f"{overall['throughput_rps']:.1f} req/s served of {s.rate:g} asked."
        ),
    ]
    generator = data["generator"]
    if result.served_short:
        run_blocks.append(Paragraph(f"The rate fell short: {result.served_short}.", tone="warn"))
    endpoints = DocTable(
        (
            Column("Endpoint"),
            Column("Requests", numeric=True),
            Column("Errors", numeric=True),
            *(Column(k, numeric=True) for k in ("p50", "p90", "p95", "p99", "max")),
            Column("Wire p95", numeric=True),
            Column("Budget p95", numeric=True),
        ),
        tuple(
            (
                Span(e["name"], code=True),
                str(e["requests"]),
                Span(errors_cell(stats), tone="bad")
                if e["error_rate"] > e["budget"]["error_rate"]
                else errors_cell(stats),
                *_latency_cells(e),
                f"{e['wire_ms']['p95']:.1f}" if e["wire_ms"] is not None else NO_LATENCY,
                f"{e['budget']['p95_ms']:g} ms",
            )
            for e, stats in zip(data["endpoints"], (result.endpoints[p.name] for p in planned), strict=True)
        ),
    )
    failures = tuple(
        Paragraph((Span(e["name"], code=True), f": {e['failure']}."), tone="bad")
        for e in data["endpoints"]
        if e["failure"]
    )
    sections = []
    if not health.healthy:
        sections.append(
            Section(
                "Generator health",
                (
                    Paragraph(f"{health.verdict}: {health.reason}.", tone="warn"),
                    Paragraph(("Fix: ", *backticks(health.fix or ""))),
                ),
                lead="Read this first: until it is fixed, the latency below is partly the generator's.",
            )
        )
    sections += [
        Section("The run", tuple(run_blocks)),
        Section("Findings", (_findings_block(findings),)),
        Section(
            "Endpoints",
            (endpoints, *failures),
            lead=(
                "Latency in milliseconds from the scheduled time, successful responses only; "
                "wire = written to response complete (every response)."
            ),
        ),
    ]
    auth = tuple((Span(e["name"], code=True), ": ", e["auth"]) for e in data["endpoints"] if e["auth"])
    if auth:
        sections.append(Section("Authentication", (BulletList(auth),), lead="Values are masked."))
    budgets = budget_lines(planned)
    latency_blocks: list[Block] = []
    if result.overall.total:
        histograms = {
            "all": result.overall,
            **{p.name: result.endpoints[p.name].latency for p in planned if len(planned) > 1},
        }
        latency_blocks += [timeline_chart(result, budgets), percentile_chart(histograms, budgets)]
        missing = [e for e in data["endpoints"] if e["failure"]]
        if missing:
            latency_blocks.append(
                Paragraph(
                    (
                        "Not drawn (no successful responses): ",
                        *(
                            part
                            for i, e in enumerate(missing)
                            for part in ((", " if i else ""), Span(e["name"], code=True))
                        ),
                        ".",
                    ),
                    tone="bad",
                )
            )
    else:
        latency_blocks.append(Paragraph("No request succeeded: there is no latency to draw.", tone="bad"))
    sections.append(Section("Latency", tuple(latency_blocks)))
    # One line per pool (the page keeps a single table: the endpoints').
    pools = BulletList(
        tuple(
            (
                Span(p.name, code=True),
                f": {p.connections} connections, ",
                Span(f"{p.needed} needed by Little's law", strong=p.too_small, tone="warn" if p.too_small else ""),
                f"; {p.waited:,} of {p.requests:,} requests waited for a connection (p99 {p.wait_p99_ms:,.1f} ms).",
            )
            for p in health.pools
        )
    )
    wait_p99 = generator["wait_ms"]["p99"] if generator["wait_ms"] else 0.0
    generator_blocks: list[Block] = [
        Paragraph(
            f"Verdict: {health.verdict}. Requests waited inside the generator p99 "
            f"{wait_p99:.1f} ms (bound {health.bound_ms:g} ms); CPU "
            f"{generator['cpu_mean']:.0%} mean of one core (waited for a CPU {generator['cpu_wait_mean']:.0%} of the "
            f"time), timer lag p99 {generator['timer_lag_p99_ms']:.1f} ms."
        ),
        pools,
    ]
    if health.note:
        generator_blocks.append(Paragraph(f"Note: {health.note}."))
    if result.watch.unsolicited:
        generator_blocks.append(Paragraph(_unsolicited(result.watch.unsolicited), tone="warn"))
    sections.append(Section("The generator", tuple(generator_blocks)))
    return Document(
        title="launchready load report",
        heading="Load report",
        meta=(target, started, f"launchready {__version__}"),
        banner=load_banner(result, planned, findings),
        sections=tuple(sections),
        tool_version=__version__,
    )


def _findings_block(findings: list[Finding], clean: str = "Every endpoint is within its budget.") -> Block:
    if not findings:
        return Paragraph(clean)
    return BulletList(
        tuple(
            (
                Span(f.severity.value.upper(), strong=True, tone=f.severity.value),
                " (tentative)" if f.confidence is Confidence.TENTATIVE else "",
                f" {f.title}. Fix: ",
                *backticks(f.remediation),
            )
            for f in findings
        )
    )


def render_html(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    return write_html(load_document(result, planned, findings))


def render_markdown(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    return write_markdown(load_document(result, planned, findings))


# -- the growth test ----------------------------------------------------------------------------


def growth_failures(series: list[GrowthSeries], unit: str = "members") -> list[str]:
    """Each size at which an endpoint had no successful response: nothing to compare there."""
    return [
        f"{s.name}: no successful responses at {p.size} {unit}: {p.errors} errors"
        + (f" ({statuses_text(dict(p.error_statuses))})" if p.error_statuses else "")
        for s in series
        for p in s.points
        if p.ok == 0
    ]


def growth_outcome(
    series: list[GrowthSeries], findings: list[Finding], max_factor: float, unit: str
) -> tuple[str, str, list[str]]:
    """("PASS" or "FAIL", the banner's sentence, the reasons)."""
    problems = problems_of(findings)
    failures = growth_failures(series, unit)
    reasons = [f.title for f in problems] + failures
    if not reasons:
        return "PASS", f"No endpoint's p95 grew more than {max_factor:g}x.", []
    parts = []
    if problems:
        parts.append(
            f"{len(problems)} {'endpoint slows' if len(problems) == 1 else 'endpoints slow'} down as the data grows"
        )
    if failures:
        parts.append(
            f"{len(failures)} {'measurement' if len(failures) == 1 else 'measurements'} without a successful response"
        )
    return "FAIL", "; ".join(parts).capitalize() + ".", reasons


def _growth_settings_text(settings: LoadSettings | None, sizes: list[int], unit: str, max_factor: float) -> str:
    load = (
        f"{settings.rate:g} req/s for {settings.duration_s:g} s after a {settings.warmup_s:g} s warm-up per size "
        f"and endpoint, {settings.connections} connections, timeout {settings.timeout_s:g} s; "
        if settings is not None
        else ""
    )
    return f"{load}sizes {', '.join(map(str, sizes))} {unit}; budget: p95 at most {max_factor:g}x the smallest size's"


@dataclass(frozen=True)
class GrowthRun:
    """What every growth report shows: the series measured, the findings judged over them, the
    budget, the unit the sizes count, and how and when the run was made (None where unknown)."""

    series: list[GrowthSeries]
    findings: list[Finding]
    max_factor: float
    unit: str = "members"
    settings: LoadSettings | None = None
    started: datetime | None = None


def growth_dict(run: GrowthRun) -> dict[str, Any]:
    series, settings, started = run.series, run.settings, run.started
    headline, _, reasons = growth_outcome(series, run.findings, run.max_factor, run.unit)
    return {
        "report_version": REPORT_VERSION,
        "kind": "growth",
        "outcome": {"result": headline.lower(), "headline": headline, "reasons": reasons},
        "target": targets([s.url for s in series]),
        "started": started.isoformat() if started is not None else None,
        "settings": None
        if settings is None
        else {
            "rate": settings.rate,
            "duration_s": settings.duration_s,
            "warmup_s": settings.warmup_s,
            "connections": settings.connections,
            "timeout_s": settings.timeout_s,
        },
        "max_factor": run.max_factor,
        "unit": run.unit,
        "endpoints": [
            {
                "name": s.name,
                "url": s.url,
                "points": [
                    {
                        "size": p.size,
                        # null where no request succeeded at that size (never 0.0 ms).
                        "p50_ms": p.p50_ms if p.ok else None,
                        "p95_ms": p.p95_ms if p.ok else None,
                        "mean_bytes": p.mean_bytes,
                        "ok": p.ok,
                        "errors": p.errors,
                        "error_statuses": dict(p.error_statuses),
                    }
                    for p in s.points
                ],
            }
            for s in series
        ],
        "findings": [f.model_dump(mode="json") for f in run.findings],
    }


def _growth_clean(series: list[GrowthSeries], max_factor: float, unit: str) -> str:
    if growth_failures(series, unit):
        return f"No endpoint that answered at every size grew more than {max_factor:g}x; the others are named above."
    return f"No endpoint's p95 grew more than {max_factor:g}x."


def _sizes(series: list[GrowthSeries]) -> list[int]:
    return sorted({p.size for s in series for p in s.points})


def growth_text(run: GrowthRun) -> str:
    """The growth test for the terminal: the outcome first, then one line per size and endpoint."""
    series, findings, max_factor, unit = run.series, run.findings, run.max_factor, run.unit
    headline, text, reasons = growth_outcome(series, findings, max_factor, unit)
    lines = [f"{headline}  growth test: {text}", *(f"  - {r}" for r in reasons)]
    lines.append(f"target: {', '.join(targets([s.url for s in series]))} · started {started_text(run.started)}")
    lines.append(f"settings: {_growth_settings_text(run.settings, _sizes(series), unit, max_factor)}")
    for s in series:
        lines.append(s.name + "  " + s.url)
        for p in s.points:
            if p.ok:
                measured = f"p50 {p.p50_ms:8.1f} ms  p95 {p.p95_ms:8.1f} ms  {p.mean_bytes:9.0f} bytes"
            else:
                measured = "no successful responses"
            errors = f"  {p.errors} errors ({statuses_text(dict(p.error_statuses))})" if p.errors else ""
            lines.append(f"  {p.size:>7} {unit}: {measured}{errors}")
    for f in findings:
        lines.append(f"{f.severity.value.upper()} {f.id}: {f.title}")
        lines.append(f"    fix: {f.remediation}")
    return "\n".join(lines) + "\n"


def growth_document(run: GrowthRun) -> Document:
    """The growth test as a page: the outcome, the run, one table per endpoint (size -> p50, p95, bytes)."""
    series, findings, max_factor, unit = run.series, run.findings, run.max_factor, run.unit
    headline, text, reasons = growth_outcome(series, findings, max_factor, unit)
    banner = Banner(
        label="Growth test", headline=headline, text=text, tone="bad" if reasons else "good", points=tuple(reasons)
    )
    target = ", ".join(targets([s.url for s in series]))
    when = started_text(run.started)
    facts = BulletList(
        (
            _fact("Target", Span(target, code=True)),
            _fact("Started", when),
            _fact("Settings", _growth_settings_text(run.settings, _sizes(series), unit, max_factor)),
        )
    )
    sections = [
        Section("The run", (facts,)),
        Section("Findings", (_findings_block(findings, _growth_clean(series, max_factor, unit)),)),
    ]
    for s in series:
        table = DocTable(
            (
                Column(unit.capitalize(), numeric=True),
                Column("p50 (ms)", numeric=True),
                Column("p95 (ms)", numeric=True),
                Column("Mean bytes", numeric=True),
                Column("OK", numeric=True),
                Column("Errors", numeric=True),
            ),
            tuple(
                (
                    str(p.size),
                    f"{p.p50_ms:.1f}" if p.ok else NO_LATENCY,
                    f"{p.p95_ms:.1f}" if p.ok else NO_LATENCY,
                    f"{p.mean_bytes:.0f}" if p.ok else NO_LATENCY,
                    str(p.ok),
                    Span(f"{p.errors}: {statuses_text(dict(p.error_statuses))}", tone="bad") if p.errors else "0",
                )
                for p in s.points
            ),
        )
        sections.append(Section(s.name, (Paragraph(Span(s.url, code=True)), table)))
    return Document(
        title="launchready growth report",
        heading="Growth report",
        meta=(target, when, f"launchready {__version__}"),
        banner=banner,
        sections=tuple(sections),
        tool_version=__version__,
    )


def render_growth_html(run: GrowthRun) -> str:
    return write_html(growth_document(run))


def render_growth_markdown(run: GrowthRun) -> str:
    return write_markdown(growth_document(run))
