"""SVG charts drawn on the server: no scripts, no chart library, readable at any width.

The plot lives in a nested ``<svg>`` with a fixed 1000x1000 view box stretched to the space it
gets (``preserveAspectRatio="none"``, strokes kept thin with ``non-scaling-stroke``), while
labels sit in the outer ``<svg>`` at percentage positions, so text keeps its size on a phone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from markupsafe import Markup, escape

from launchready.monitor.web.queries import Deploy, SeriesPoint

HEIGHT_PX = 240
PLOT_TOP_PX = 18
PLOT_HEIGHT_PX = 180
_VIEW = 1000.0


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = float(10.0 ** math.floor(math.log10(value)))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _time_label(at: float, span_s: float) -> str:
    fmt = "%H:%M" if span_s <= 2 * 86400 else "%d %b"
    return time.strftime(fmt, time.gmtime(at))


def latency_chart(
    points: Sequence[SeriesPoint], deploys: Sequence[Deploy], start: float, end: float, step_s: float
) -> Markup:
    span = max(end - start, 1.0)

    def x(at: float) -> float:
        return (at - start) / span * _VIEW

    def x_pct(at: float) -> str:
        # Kept off the very edges so a marker's triangle is never cut in half.
        return f"{min(max((at - start) / span * 100.0, 0.4), 99.6):.2f}%"

    peak = max((p.p95_ms or p.avg_ms or 0.0 for p in points), default=0.0)
    top = _nice_ceiling(peak * 1.1)

    def y(ms: float) -> float:
        return _VIEW - min(ms / top, 1.0) * _VIEW

    plot: list[str] = []
    for fraction in (0.25, 0.5, 0.75):
        plot.append(
            f'<line class="grid" x1="0" x2="{_VIEW:.0f}" y1="{y(top * fraction):.1f}" y2="{y(top * fraction):.1f}"/>'
        )
    for p in points:
        if p.failures:
            # Mostly failing (an outage): a band over the whole height; occasional failures: a
            # strip along the bottom, darker the larger their share.
            share = p.failures / max(p.count, 1)
            width = max(step_s / span * _VIEW, 2.0)
            height = _VIEW if share >= 0.5 else _VIEW * 0.08
            plot.append(
                f'<rect class="fail" x="{x(p.start):.1f}" y="{_VIEW - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill-opacity="{0.25 + 0.5 * share:.2f}">'
                f"<title>{p.failures} of {p.count} failed</title></rect>"
            )
    for css in ("p95", "avg"):
        run: list[str] = []
        previous: float | None = None
        for p in points:
            value = p.p95_ms if css == "p95" else p.avg_ms
            gap = previous is not None and p.start - previous > step_s * 1.5
            if value is None or gap:
                if len(run) > 1:
                    plot.append(f'<polyline class="{css}" points="{" ".join(run)}"/>')
                run = []
            if value is not None:
                run.append(f"{x(p.start + step_s / 2):.1f},{y(value):.1f}")
            previous = p.start
        if len(run) > 1:
            plot.append(f'<polyline class="{css}" points="{" ".join(run)}"/>')
        elif len(run) == 1:
            cx, cy = run[0].split(",")
            plot.append(f'<circle class="{css}" cx="{cx}" cy="{cy}" r="4"/>')

    labels: list[str] = []
    for fraction in (0.5, 1.0) if peak > 0 else ():
        label_y = PLOT_TOP_PX + PLOT_HEIGHT_PX * (1 - fraction) + 12
        labels.append(f'<text class="axis" x="4" y="{label_y:.0f}">{top * fraction:g} ms</text>')
    for index in range(1, 4):
        at = start + span * index / 4
        labels.append(
            f'<text class="axis" x="{index * 25}%" y="{PLOT_TOP_PX + PLOT_HEIGHT_PX + 18}" text-anchor="middle">'
            f"{escape(_time_label(at, span))}</text>"
        )
    for deploy in deploys:
        title = escape(f"deploy {deploy.version} to {deploy.environment} at {_time_label(deploy.at, 0)} UTC")
        labels.append(
            f'<g class="deploy"><title>{title}</title>'
            f'<line x1="{x_pct(deploy.at)}" x2="{x_pct(deploy.at)}" y1="{PLOT_TOP_PX - 6}" y2="{PLOT_TOP_PX + PLOT_HEIGHT_PX}"/>'
            f'<text x="{x_pct(deploy.at)}" y="{PLOT_TOP_PX - 8}" text-anchor="middle">▼</text></g>'
        )
    empty = (
        ""
        if points
        else (
            f'<text class="axis" x="50%" y="{PLOT_TOP_PX + PLOT_HEIGHT_PX / 2:.0f}" text-anchor="middle">no results in this range</text>'
        )
    )
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="100%" height="{HEIGHT_PX}" role="img" '
        f'aria-label="Latency over time with deploy markers">'
        f'<rect class="frame" x="0" y="{PLOT_TOP_PX}" width="100%" height="{PLOT_HEIGHT_PX}"/>'
        f'<svg x="0" y="{PLOT_TOP_PX}" width="100%" height="{PLOT_HEIGHT_PX}" viewBox="0 0 {_VIEW:.0f} {_VIEW:.0f}" '
        f'preserveAspectRatio="none">{"".join(plot)}</svg>'
        f"{''.join(labels)}{empty}</svg>"
    )
