"""Load-test reports: terminal (rich), JSON, and one self-contained HTML page with inline SVG plots.

The plots are drawn here as SVG text (no JavaScript, nothing fetched): latency over time (p50,
p99 and max per second, errors marked) and the percentile distribution on HdrHistogram's usual
log axis (0, 90, 99, 99.9, 99.99 %).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from launchready.core.finding import Finding
from launchready.perf.generator import LoadResult
from launchready.perf.histogram import Histogram
from launchready.perf.plan import PlannedEndpoint

PERCENTILES = (50.0, 90.0, 95.0, 99.0)
REPORT_VERSION = "1.0"


def _ms(us: int) -> float:
    return round(us / 1000, 3)


def _latency(h: Histogram) -> dict[str, float]:
    out = {f"p{p:g}": _ms(h.percentile(p)) for p in PERCENTILES}
    out["max"] = _ms(h.max_us)
    out["mean"] = round(h.mean_us / 1000, 3)
    return out


def to_dict(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> dict[str, Any]:
    s = result.settings
    watch = result.watch
    return {
        "report_version": REPORT_VERSION,
        "kind": "load",
        "settings": {
            "rate": s.rate,
            "duration_s": s.duration_s,
            "warmup_s": s.warmup_s,
            "connections": s.connections,
            "timeout_s": s.timeout_s,
            "model": "open (constant arrival rate), latency from scheduled send time",
        },
        "overall": {
            "requests": result.total,
            "ok": result.ok,
            "errors": result.errors,
            "error_rate": round(result.error_rate, 6),
            "throughput_rps": round(result.throughput, 2),
            "latency_ms": _latency(result.overall),
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
            "timer_lag_p99_ms": _ms(watch.timer_lag.percentile(99)),
            "queued_max": watch.queued_max,
            "connect_errors": watch.connect_errors,
            "bottleneck": watch.bottleneck,
        },
        "findings": [f.model_dump(mode="json") for f in findings],
    }


def render_json(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    return json.dumps(to_dict(result, planned, findings), indent=2) + "\n"


def render_terminal(
    result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding], console: Console
) -> None:
    s = result.settings
    console.print(
        f"[bold]Load[/bold]: {s.rate:g} req/s for {s.duration_s:g} s after a {s.warmup_s:g} s warm-up "
        "(open model; latency from each request's scheduled send time)"
    )
    table = Table(show_edge=False)
    for column in ("endpoint", "requests", "errors", "p50", "p90", "p95", "p99", "max", "budget p95"):
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
            f"{p.p95_ms:g} ms",
        )
    console.print(table)
    for p in planned:
        auth = result.endpoints[p.name].auth
        if auth:
            # Already masked; printed as plain text so rich markup in a cookie name cannot style it.
            console.print(f"auth: {p.name}: {auth}", markup=False, highlight=False)
    console.print(
        f"overall: {result.total} requests, {result.throughput:.1f} req/s, {result.error_rate:.2%} errors, "
        f"p95 {result.overall.percentile(95) / 1000:.1f} ms, p99 {result.overall.percentile(99) / 1000:.1f} ms (ms)"
    )
    w = result.watch
    console.print(
        f"generator: CPU {w.cpu_mean:.0%} mean / {w.cpu_max:.0%} max of one core, timer lag p99 {w.timer_lag.percentile(99) / 1000:.1f} ms"
    )
    if w.bottleneck:
        console.print(f"[yellow]warning: {w.bottleneck}[/yellow]")
    if not findings:
        console.print("[green]Every endpoint is within its budget.[/green]")
    for f in findings:
        console.print(f"[bold]{f.severity.value.upper()}[/bold] {f.id}: {f.title}")
        for line in f.evidence:
            console.print(f"    {line}")
        console.print(f"    fix: {f.remediation}")


# -- HTML ----------------------------------------------------------------------------------

_W, _H, _PAD = 720, 260, 48


def _polyline(points: list[tuple[float, float]], color: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{coords}"/>'


def _axes(x_label: str, y_label: str, y_max: float, x_ticks: list[tuple[float, str]]) -> str:
    parts = [
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - 10}" y2="{_H - _PAD}" stroke="#888"/>',
        f'<line x1="{_PAD}" y1="10" x2="{_PAD}" y2="{_H - _PAD}" stroke="#888"/>',
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="12" y="{_H / 2}" transform="rotate(-90 12 {_H / 2})" text-anchor="middle">{html.escape(y_label)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = _H - _PAD - (_H - _PAD - 10) * i / 4
        parts.append(f'<text x="{_PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{value:.0f}</text>')
        parts.append(f'<line x1="{_PAD}" y1="{y:.1f}" x2="{_W - 10}" y2="{y:.1f}" stroke="#eee"/>')
    for x, label in x_ticks:
        parts.append(f'<text x="{x:.1f}" y="{_H - _PAD + 16}" text-anchor="middle">{html.escape(label)}</text>')
    return "".join(parts)


def _svg(body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'font-family="system-ui, sans-serif" font-size="11" role="img"><title>{html.escape(title)}</title>{body}</svg>'
    )


def _scale_y(value: float, y_max: float) -> float:
    return _H - _PAD - (_H - _PAD - 10) * (value / y_max if y_max else 0)


def timeline_svg(result: LoadResult) -> str:
    seconds = len(result.per_second)
    series = {
        "p50": [h.percentile(50) / 1000 for h in result.per_second],
        "p99": [h.percentile(99) / 1000 for h in result.per_second],
        "max": [h.max_us / 1000 for h in result.per_second],
    }
    y_max = max([*series["max"], 1.0]) * 1.1

    def x_of(i: int) -> float:
        return _PAD + (_W - 10 - _PAD) * (i + 0.5) / max(seconds, 1)

    body = [
        _axes(
            "seconds into the measured run",
            "latency (ms)",
            y_max,
            [(x_of(i), str(i)) for i in range(0, seconds, max(1, seconds // 10))],
        )
    ]
    for name, color in (("p50", "#2b6cb0"), ("p99", "#dd6b20"), ("max", "#c53030")):
        body.append(_polyline([(x_of(i), _scale_y(v, y_max)) for i, v in enumerate(series[name])], color))
    for i, errors in enumerate(result.errors_per_second):
        if errors:
            body.append(
                f'<circle cx="{x_of(i):.1f}" cy="{_H - _PAD - 4}" r="3" fill="#c53030"><title>{errors} errors</title></circle>'
            )
    body.append(_legend((("p50", "#2b6cb0"), ("p99", "#dd6b20"), ("max", "#c53030"))))
    return _svg("".join(body), "Latency over time")


def _legend(items: tuple[tuple[str, str], ...]) -> str:
    out = []
    for i, (name, color) in enumerate(items):
        x = _W - 200 + i * 60
        out.append(
            f'<rect x="{x}" y="14" width="10" height="10" fill="{color}"/><text x="{x + 14}" y="23">{name}</text>'
        )
    return "".join(out)


def percentile_svg(histograms: dict[str, Histogram]) -> str:
    # x = log10(1 / (1 - p)): 0 -> 0 (p0), 1 -> 90 %, 2 -> 99 %, 3 -> 99.9 %, 4 -> 99.99 %.
    x_span = 4.0
    y_max = max([h.max_us / 1000 for h in histograms.values()] + [1.0]) * 1.1

    def x_of(p: float) -> float:
        p = min(p, 99.99)
        return _PAD + (_W - 10 - _PAD) * math.log10(1 / (1 - p / 100)) / x_span

    ticks = [(x_of(p), label) for p, label in ((0, "0%"), (90, "90%"), (99, "99%"), (99.9, "99.9%"), (99.99, "99.99%"))]
    body = [_axes("percentile", "latency (ms)", y_max, ticks)]
    colors = ("#2b6cb0", "#dd6b20", "#2f855a", "#6b46c1", "#c53030", "#718096")
    legend = []
    for (name, h), color in zip(histograms.items(), colors * 10, strict=False):
        points = [(x_of(0), _scale_y(h.min_us / 1000, y_max))]
        points += [(x_of(p), _scale_y(v / 1000, y_max)) for p, v in h.distribution()]
        body.append(_polyline(points, color))
        legend.append((name[:8], color))
    body.append(_legend(tuple(legend[:3])))
    return _svg("".join(body), "Latency by percentile")


def render_html(result: LoadResult, planned: list[PlannedEndpoint], findings: list[Finding]) -> str:
    data = to_dict(result, planned, findings)
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td>{}<td>{:g} ms</td></tr>".format(
            html.escape(e["name"]),
            e["requests"],
            f"{e['errors']} ({e['error_rate']:.1%})",
            "".join(f"<td>{e['latency_ms'][k]:.1f}</td>" for k in ("p50", "p90", "p95", "p99", "max")),
            e["budget"]["p95_ms"],
        )
        for e in data["endpoints"]
    )
    items = (
        "".join(
            f"<li><b>{html.escape(f.severity.value.upper())}</b> {html.escape(f.title)}<br><small>{html.escape(f.remediation)}</small></li>"
            for f in findings
        )
        or "<li>Every endpoint is within its budget.</li>"
    )
    auth = "".join(
        f"<li>{html.escape(e['name'])}: {html.escape(e['auth'])}</li>" for e in data["endpoints"] if e["auth"]
    )
    auth_block = f"<h2>Authentication</h2><ul>{auth}</ul>" if auth else ""
    generator = data["generator"]
    warning = f'<p class="warn">{html.escape(generator["bottleneck"])}</p>' if generator["bottleneck"] else ""
    s = result.settings
    histograms = {
        "all": result.overall,
        **{p.name: result.endpoints[p.name].latency for p in planned if len(planned) > 1},
    }
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>launchready load report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a202c}}
table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;border-bottom:1px solid #e2e8f0;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.warn{{background:#fffbea;border-left:4px solid #d69e2e;padding:.5rem}}</style>
</head><body>
<h1>Load report</h1>
<p>{s.rate:g} requests/s for {s.duration_s:g} s after a {s.warmup_s:g} s warm-up; open model, each latency measured from the
request's scheduled send time. {data["overall"]["requests"]} requests, {data["overall"]["error_rate"]:.2%} errors.</p>
{warning}
<h2>Findings</h2><ul>{items}</ul>
<h2>Endpoints (ms)</h2>
<table><tr><th>endpoint</th><th>requests</th><th>errors</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>max</th><th>budget p95</th></tr>{rows}</table>
{auth_block}
<h2>Latency over time</h2>{timeline_svg(result)}
<h2>Latency by percentile</h2>{percentile_svg(histograms)}
<p><small>Generator: CPU {generator["cpu_mean"]:.0%} mean of one core, timer lag p99 {generator["timer_lag_p99_ms"]:.1f} ms.</small></p>
</body></html>
"""
