"""Load-test reports: terminal (rich), JSON, and one self-contained HTML page with two charts.

The HTML page is a ``Document`` written by the output layer (report/), with the shared
stylesheet; this module only chooses what it shows: the budget verdict, the endpoints table,
latency over time (p50, p99 and max per second, errors marked) and the percentile distribution
on HdrHistogram's usual log axis (0, 90, 99, 99.9, 99.99 %).
"""

from __future__ import annotations

import json
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from launchready import __version__
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Severity
from launchready.perf.generator import Health, LoadResult
from launchready.perf.growth import GrowthSeries
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint
from launchready.report.html import write_html
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
    backticks,
)
from launchready.report.model import (
    Table as DocTable,
)

PERCENTILES = (50.0, 90.0, 95.0, 99.0)
REPORT_VERSION = "1.0"


def _ms(us: int) -> float:
    return round(us / 1000, 3)


def _latency(h: Histogram) -> dict[str, float]:
    out = {f"p{p:g}": _ms(h.percentile(p)) for p in PERCENTILES}
    out["max"] = _ms(h.max_us)
    out["mean"] = round(h.mean_us / 1000, 3)
    return out


def health_of(result: LoadResult, planned: list[PlannedEndpoint]) -> Health:
    """The run's health judged against its tightest p95 budget (as the perf.load check does)."""
    return result.health(min((p.p95_ms for p in planned), default=None))


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


def to_dict(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> dict[str, Any]:
    s = result.settings
    watch = result.watch
    health = health_of(result, planned)
    return {
        "report_version": REPORT_VERSION,
        "kind": "load",
        "health": _health_dict(health),
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
                "mean_bytes": round(e.mean_bytes, 1),
                "statuses": e.statuses,
                "error_samples": e.error_samples,
                # How the requests were authenticated, values masked; null = anonymous.
                "auth": e.auth,
                "auth_lost": e.auth_lost,
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
                "p50_ms": _ms(h.percentile(50)),
                "p99_ms": _ms(h.percentile(99)),
                "max_ms": _ms(h.max_us),
            }
            for i, h in enumerate(result.per_second)
        ],
        "distribution": [{"percentile": round(p, 4), "latency_ms": _ms(v)} for p, v in result.overall.distribution()],
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


def render_json(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    return json.dumps(to_dict(result, planned, findings), indent=2) + "\n"


def render_terminal(
    result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding], console: Console
) -> None:
    s = result.settings
    health = health_of(result, planned)
    if not health.healthy:
        # First, before any number: the numbers below measure the generator as much as the server.
        console.print(f"[bold yellow]{health.verdict.upper()}[/bold yellow]: latency findings are tentative: ", end="")
        console.print(f"{health.reason}", markup=False, highlight=False)
        console.print(f"fix: {health.fix}", markup=False, highlight=False)
    console.print(
        f"[bold]Load[/bold]: {s.rate:g} req/s for {s.duration_s:g} s after a {s.warmup_s:g} s warm-up"
        f"{f' over {s.workers} processes' if s.workers > 1 else ''} "
        "(open model; latency from each request's scheduled send time)"
    )
    table = Table(show_edge=False)
    for column in ("endpoint", "requests", "errors", "p50", "p90", "p95", "p99", "max", "wire p95", "budget p95"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for p in planned:
        e = result.endpoints[p.name]
        h = e.latency
        p95 = h.percentile(95) / 1000
        over = p95 > p.p95_ms
        table.add_row(
            p.name,
            str(e.total),
            f"{e.errors} ({e.error_rate:.1%})",
            *(f"{h.percentile(q) / 1000:.1f}" for q in (50, 90)),
            f"[red]{p95:.1f}[/red]" if over else f"{p95:.1f}",
            f"{h.percentile(99) / 1000:.1f}",
            f"{h.max_us / 1000:.1f}",
            f"{e.wire.percentile(95) / 1000:.1f}",
            f"{p.p95_ms:g} ms",
        )
    console.print(table)
    for p in planned:
        auth = result.endpoints[p.name].auth
        if auth:
            # Already masked; printed as plain text so rich markup in a cookie name cannot style it.
            console.print(f"auth: {p.name}: {auth}", markup=False, highlight=False)
    console.print(
        f"overall: {result.total} requests, served {result.throughput:.1f} req/s of {s.rate:g} asked, "
        f"{result.error_rate:.2%} errors, p95 {result.overall.percentile(95) / 1000:.1f} ms, "
        f"p99 {result.overall.percentile(99) / 1000:.1f} ms; on the wire p95 {result.wire.percentile(95) / 1000:.1f} ms"
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
        console.print(f"[bold]{f.severity.value.upper()}[/bold]{tentative} {f.id}: {f.title}")
        for line in f.evidence:
            console.print(f"    {line}")
        console.print(f"    fix: {f.remediation}")


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


def timeline_chart(result: LoadResult) -> LineChart:
    """p50, p99 and max latency per measured second, seconds with errors marked."""
    seconds = len(result.per_second)
    per_second: dict[str, list[int]] = {
        "p50": [h.percentile(50) for h in result.per_second],
        "p99": [h.percentile(99) for h in result.per_second],
        "max": [h.max_us for h in result.per_second],
    }
    series = tuple(
        Series(name, tuple((i + 0.5, us / 1000) for i, us in enumerate(values))) for name, values in per_second.items()
    )
    return LineChart(
        title="Latency over time",
        x_label="seconds into the measured run",
        y_label="latency (ms)",
        x_range=(0.0, float(max(seconds, 1))),
        series=series,
        x_ticks=tuple((i + 0.5, str(i)) for i in range(0, seconds, max(1, seconds // 10))),
        markers=tuple(
            Marker(i + 0.5, f"{errors} errors") for i, errors in enumerate(result.errors_per_second) if errors
        ),
    )


def percentile_chart(histograms: dict[str, Histogram]) -> LineChart:
    """Latency by percentile, one line per histogram."""
    series = tuple(
        Series(
            name,
            ((0.0, h.min_us / 1000), *((_percentile_x(p), v / 1000) for p, v in h.distribution())),
        )
        for name, h in histograms.items()
    )
    return LineChart(
        title="Latency by percentile",
        x_label="percentile",
        y_label="latency (ms)",
        x_range=(0.0, 4.0),
        series=series,
        x_ticks=tuple((_percentile_x(p), label) for p, label in _PERCENTILE_TICKS),
    )


def load_document(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> Document:
    data = to_dict(result, planned, findings)
    s = result.settings
    health = health_of(result, planned)
    overall = data["overall"]
    problems = [f for f in findings if f.severity is not Severity.INFO]
    headline = "OVER BUDGET" if problems else "WITHIN BUDGET"
    if health.healthy:
        banner = Banner(
            label="Load",
            headline=headline,
            text=(
                f"{len(problems)} {'problem' if len(problems) == 1 else 'problems'} found: "
                "fix them before launch traffic arrives."
                if problems
                else "Every endpoint is within its budget."
            ),
            tone="bad" if problems else "good",
            points=tuple(f.title for f in problems),
        )
    else:
        # The generator's limit comes first: no verdict on the server stands until it is fixed.
        banner = Banner(
            label="Load",
            headline=f"{headline} (TENTATIVE)",
            text=f"The run was {health.verdict}: its latency measured the generator, not only the server.",
            tone="warn",
            points=(f"{health.reason}.", ("Fix: ", *backticks(health.fix or "")), *(f.title for f in problems)),
        )
    summary = Paragraph(
        f"{s.rate:g} requests/s asked for {s.duration_s:g} s after a {s.warmup_s:g} s warm-up"
        f"{f' over {s.workers} processes' if s.workers > 1 else ''}; open model, each latency "
        f"measured from the request's scheduled send time. {overall['requests']} requests, "
        f"{overall['error_rate']:.2%} errors, {overall['throughput_rps']:.1f} req/s served."
    )
    generator = data["generator"]
    run_blocks: list[Block] = [summary]
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
                f"{e['errors']} ({e['error_rate']:.1%})",
                *(f"{e['latency_ms'][k]:.1f}" for k in ("p50", "p90")),
                Span(f"{e['latency_ms']['p95']:.1f}", strong=True, tone="bad")
                if e["latency_ms"]["p95"] > e["budget"]["p95_ms"]
                else f"{e['latency_ms']['p95']:.1f}",
                *(f"{e['latency_ms'][k]:.1f}" for k in ("p99", "max")),
                f"{e['wire_ms']['p95']:.1f}",
                f"{e['budget']['p95_ms']:g} ms",
            )
            for e in data["endpoints"]
        ),
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
            (endpoints,),
            lead="Latency in milliseconds from the scheduled time; wire = written to response complete.",
        ),
    ]
    auth = tuple((Span(e["name"], code=True), ": ", e["auth"]) for e in data["endpoints"] if e["auth"])
    if auth:
        sections.append(Section("Authentication", (BulletList(auth),), lead="Values are masked."))
    histograms = {
        "all": result.overall,
        **{p.name: result.endpoints[p.name].latency for p in planned if len(planned) > 1},
    }
    sections.append(Section("Latency", (timeline_chart(result), percentile_chart(histograms))))
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
    generator_blocks: list[Block] = [
        Paragraph(
            f"Verdict: {health.verdict}. Requests waited inside the generator p99 "
            f"{generator['wait_ms']['p99']:.1f} ms (bound {health.bound_ms:g} ms); CPU "
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
        meta=(f"{s.rate:g} req/s", f"{s.duration_s:g} s measured", f"launchready {__version__}"),
        banner=banner,
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


# -- the growth test ----------------------------------------------------------------------------


def growth_dict(
    series: list[GrowthSeries], findings: list[Finding], max_factor: float, unit: str = "members"
) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "kind": "growth",
        "max_factor": max_factor,
        "unit": unit,
        "endpoints": [{"name": s.name, "url": s.url, "points": [p.__dict__ for p in s.points]} for s in series],
        "findings": [f.model_dump(mode="json") for f in findings],
    }


def growth_document(series: list[GrowthSeries], findings: list[Finding], max_factor: float) -> Document:
    """The growth test as a page: one table per endpoint (size -> p50, p95, bytes), then the findings."""
    problems = [f for f in findings if f.severity is not Severity.INFO]
    banner = Banner(
        label="Growth",
        headline="GROWS" if problems else "FLAT",
        text=(
            f"{len(problems)} {'endpoint slows' if len(problems) == 1 else 'endpoints slow'} down as the data grows."
            if problems
            else f"No endpoint's p95 grew more than {max_factor:g}x."
        ),
        tone="bad" if problems else "good",
        points=tuple(f.title for f in problems),
    )
    sections = [Section("Findings", (_findings_block(findings, f"No endpoint's p95 grew more than {max_factor:g}x."),))]
    for s in series:
        table = DocTable(
            (
                Column("Members", numeric=True),
                Column("p50 (ms)", numeric=True),
                Column("p95 (ms)", numeric=True),
                Column("Mean bytes", numeric=True),
                Column("OK", numeric=True),
                Column("Errors", numeric=True),
            ),
            tuple(
                (str(p.size), f"{p.p50_ms:.1f}", f"{p.p95_ms:.1f}", f"{p.mean_bytes:.0f}", str(p.ok), str(p.errors))
                for p in s.points
            ),
        )
        sections.append(Section(s.name, (Paragraph(Span(s.url, code=True)), table)))
    return Document(
        title="launchready growth report",
        heading="Growth report",
        meta=(f"max factor {max_factor:g}x", f"launchready {__version__}"),
        banner=banner,
        sections=tuple(sections),
        tool_version=__version__,
    )


def render_growth_html(series: list[GrowthSeries], findings: list[Finding], max_factor: float) -> str:
    return write_html(growth_document(series, findings, max_factor))
