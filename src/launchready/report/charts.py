"""Line charts as inline SVG text: no JavaScript, nothing fetched, readable when printed.

The chart scales to its container (viewBox, CSS width 100%). Its text is sized by the page's
stylesheet in viewBox units, larger on narrow screens, so tick labels stay readable when a phone
shrinks the drawing to half its size; lines keep their pixel width (non-scaling strokes). The
legend is HTML next to the drawing (``legend_html``), so it wraps on a phone and names every
series. Colours follow the series order, so the same chart reads the same in every report.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from launchready.report.model import LineChart

WIDTH, HEIGHT = 720, 300
# The plot's edges inside the viewBox: room left for the y tick labels, right for the last x
# tick's label, above for the y axis title, below for the x tick labels and the x axis title.
LEFT, RIGHT, TOP, BOTTOM = 64, WIDTH - 40, 44, HEIGHT - 64
Y_STEPS = 4
PALETTE = ("#2b6cb0", "#dd6b20", "#805ad5", "#2f855a", "#b7791f", "#718096")
MARKER_COLOUR = "#c53030"
THRESHOLD_COLOUR = "#b42318"
_STROKE = 'vector-effect="non-scaling-stroke"'


def series_colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def line_chart_svg(chart: LineChart) -> Markup:
    values = [y for s in chart.series for _, y in s.points]
    # A budget line stays inside the plot with room above it for its label.
    values += [t.y * 1.1 for t in chart.thresholds]
    step = _nice_step(max([*values, 1.0]) * 1.05 / Y_STEPS)
    y_max = step * Y_STEPS
    x_low, x_high = chart.x_range
    x_span = (x_high - x_low) or 1.0

    def x_of(x: float) -> float:
        return LEFT + (RIGHT - LEFT) * (min(max(x, x_low), x_high) - x_low) / x_span

    def y_of(y: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * (min(max(y, 0.0), y_max) / y_max)

    parts: list[str] = [
        f'<line class="chart-axis" {_STROKE} x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>',
        f'<line class="chart-axis" {_STROKE} x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}"/>',
        f'<text class="chart-text" x="{(LEFT + RIGHT) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(chart.x_label)}</text>",
        # Above the axis rather than rotated beside it: as large as the tick labels, it still fits a phone.
        f'<text class="chart-text" x="8" y="{TOP - 14}">{escape(chart.y_label)}</text>',
    ]
    for i in range(Y_STEPS + 1):
        value = step * i
        y = BOTTOM - (BOTTOM - TOP) * i / Y_STEPS
        parts.append(f'<line class="chart-grid" {_STROKE} x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="chart-text" x="{LEFT - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle">'
            f"{value:g}</text>"
        )
    for x, label in chart.x_ticks:
        parts.append(
            f'<text class="chart-text" x="{x_of(x):.1f}" y="{BOTTOM + 6}" text-anchor="middle" '
            f'dominant-baseline="hanging">{escape(label)}</text>'
        )
    for threshold in chart.thresholds:
        y = y_of(threshold.y)
        parts.append(
            f'<line class="chart-threshold" {_STROKE} x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" '
            f'stroke="{THRESHOLD_COLOUR}" stroke-width="2" stroke-dasharray="8 5">'
            f"<title>{escape(threshold.label)}</title></line>"
            f'<text class="chart-text chart-threshold-label" x="{RIGHT - 4}" y="{y - 6:.1f}" text-anchor="end" '
            f'fill="{THRESHOLD_COLOUR}">{escape(threshold.label)}</text>'
        )
    coloured = [(s, series_colour(i)) for i, s in enumerate(chart.series)]
    # Dashed series first, then the solid ones last to first: the first series is drawn on top.
    order = [c for c in coloured if c[0].dashed] + [c for c in reversed(coloured) if not c[0].dashed]
    for series, colour in order:
        coords = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in series.points)
        style = 'stroke-width="3" stroke-dasharray="7 5" stroke-opacity="0.75"' if series.dashed else 'stroke-width="2"'
        if len(series.points) == 1:
            ((x, y),) = series.points
            parts.append(
                f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="4" fill="{colour}"><title>{escape(series.name)}</title></circle>'
            )
            continue
        parts.append(
            f'<polyline fill="none" stroke="{colour}" {style} {_STROKE} points="{coords}">'
            f"<title>{escape(series.name)}</title></polyline>"
        )
    for marker in chart.markers:
        parts.append(
            f'<circle class="chart-marker" cx="{x_of(marker.x):.1f}" cy="{BOTTOM - 6}" r="5" fill="{MARKER_COLOUR}">'
            f"<title>{escape(marker.label)}</title></circle>"
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(chart.title)}</title>{''.join(parts)}</svg>"
    )


def legend_html(chart: LineChart) -> Markup:
    """Every series, budget line and marker kind named in HTML beside the drawing (it wraps)."""
    items: list[Markup] = []
    for i, series in enumerate(chart.series):
        items.append(_legend_item(series.name, series_colour(i), dashed=series.dashed))
    for threshold in chart.thresholds:
        items.append(_legend_item(threshold.label, THRESHOLD_COLOUR, dashed=True))
    if chart.markers:
        items.append(
            Markup('<li><span class="swatch dot" style="background:%s"></span>%s</li>')
            % (MARKER_COLOUR, "a second with errors")
        )
    return Markup('<ul class="chart-legend">%s</ul>') % Markup("").join(items)


def _legend_item(name: str, colour: str, *, dashed: bool) -> Markup:
    style = f"border-top: 3px {'dashed' if dashed else 'solid'} {colour}"
    return Markup('<li><span class="swatch" style="%s"></span>%s</li>') % (style, name)


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``raw``: axis ticks people read."""
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10.0 * power
