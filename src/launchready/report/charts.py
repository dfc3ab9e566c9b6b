"""Line charts as inline SVG text: no JavaScript, nothing fetched, readable when printed.

The chart scales to its container (viewBox, CSS width 100%); colours follow the series order, so
the same chart reads the same in every report.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from launchready.report.model import LineChart

WIDTH, HEIGHT, PAD = 720, 260, 48
PALETTE = ("#2b6cb0", "#dd6b20", "#c53030", "#2f855a", "#6b46c1", "#718096")
MARKER_COLOUR = "#c53030"


def line_chart_svg(chart: LineChart) -> Markup:
    y_max = max([y for s in chart.series for _, y in s.points] + [1.0]) * 1.1
    x_low, x_high = chart.x_range
    x_span = (x_high - x_low) or 1.0
    bottom = HEIGHT - PAD

    def x_of(x: float) -> float:
        return PAD + (WIDTH - 10 - PAD) * (min(max(x, x_low), x_high) - x_low) / x_span

    def y_of(y: float) -> float:
        return bottom - (bottom - 10) * (y / y_max)

    parts: list[str] = [
        f'<line class="chart-axis" x1="{PAD}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}"/>',
        f'<line class="chart-axis" x1="{PAD}" y1="10" x2="{PAD}" y2="{bottom}"/>',
        f'<text class="chart-text" x="{(PAD + WIDTH) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(chart.x_label)}</text>",
        f'<text class="chart-text" x="12" y="{bottom / 2:.0f}" transform="rotate(-90 12 {bottom / 2:.0f})" '
        f'text-anchor="middle">{escape(chart.y_label)}</text>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = bottom - (bottom - 10) * i / 4
        parts.append(f'<line class="chart-grid" x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-text" x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{value:.0f}</text>')
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
    for i, (series, colour) in enumerate(zip(chart.series[: chart.legend_limit], PALETTE, strict=False)):
        x = WIDTH - 10 - 70 * (min(len(chart.series), chart.legend_limit) - i)
        parts.append(
            f'<rect x="{x}" y="14" width="10" height="10" fill="{colour}"/>'
            f'<text class="chart-text" x="{x + 14}" y="23">{escape(series.name[:8])}</text>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(chart.title)}</title>{''.join(parts)}</svg>"
    )
