"""Line charts as inline SVG text: no JavaScript, nothing fetched, readable when printed.

The chart scales to its container (viewBox, CSS width 100%); colours follow the series order, so
the same chart reads the same in every report.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from launchready.report.model import LineChart

WIDTH, HEIGHT, PAD = 720, 260, 48
RIGHT = WIDTH - 30  # the plot's right edge: room for the last x tick's label
TOP = 32  # the plot's top edge: the legend sits above it, never on a line
Y_STEPS = 4
PALETTE = ("#2b6cb0", "#dd6b20", "#c53030", "#2f855a", "#6b46c1", "#718096")
MARKER_COLOUR = "#c53030"


def line_chart_svg(chart: LineChart) -> Markup:
    step = _nice_step(max([y for s in chart.series for _, y in s.points] + [1.0]) * 1.05 / Y_STEPS)
    y_max = step * Y_STEPS
    x_low, x_high = chart.x_range
    x_span = (x_high - x_low) or 1.0
    bottom = HEIGHT - PAD

    def x_of(x: float) -> float:
        return PAD + (RIGHT - PAD) * (min(max(x, x_low), x_high) - x_low) / x_span

    def y_of(y: float) -> float:
        return bottom - (bottom - TOP) * (y / y_max)

    parts: list[str] = [
        f'<line class="chart-axis" x1="{PAD}" y1="{bottom}" x2="{RIGHT}" y2="{bottom}"/>',
        f'<line class="chart-axis" x1="{PAD}" y1="{TOP}" x2="{PAD}" y2="{bottom}"/>',
        f'<text class="chart-text" x="{(PAD + WIDTH) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(chart.x_label)}</text>",
        f'<text class="chart-text" x="12" y="{bottom / 2:.0f}" transform="rotate(-90 12 {bottom / 2:.0f})" '
        f'text-anchor="middle">{escape(chart.y_label)}</text>',
    ]
    for i in range(Y_STEPS + 1):
        value = step * i
        y = bottom - (bottom - TOP) * i / Y_STEPS
        parts.append(f'<line class="chart-grid" x1="{PAD}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-text" x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for x, label in chart.x_ticks:
        parts.append(
            f'<text class="chart-text" x="{x_of(x):.1f}" y="{bottom + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    for series, colour in zip(chart.series, PALETTE * (len(chart.series) // len(PALETTE) + 1), strict=False):
        coords = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in series.points)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{coords}">'
            f"<title>{escape(series.name)}</title></polyline>"
        )
    for marker in chart.markers:
        parts.append(
            f'<circle cx="{x_of(marker.x):.1f}" cy="{bottom - 4}" r="3" fill="{MARKER_COLOUR}">'
            f"<title>{escape(marker.label)}</title></circle>"
        )
    # The legend, right-aligned along the top: each entry as wide as its name.
    legend = list(zip(chart.series[: chart.legend_limit], PALETTE, strict=False))
    widths = [24 + 7 * len(series.name) for series, _ in legend]
    x = RIGHT - sum(widths)
    for (series, colour), width in zip(legend, widths, strict=True):
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{colour}"/>'
            f'<text class="chart-text" x="{x + 14}" y="17">{escape(series.name)}</text>'
        )
        x += width
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(chart.title)}</title>{''.join(parts)}</svg>"
    )


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``raw``: axis ticks people read."""
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power
