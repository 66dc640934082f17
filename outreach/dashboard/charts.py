"""Inline SVG charts rendered on the server: no JavaScript library, no CDN."""

from __future__ import annotations

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLORS = {"sent": "#2563eb", "replied": "#16a34a", "bounced": "#dc2626"}
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 200, 40, 24, 10
PAD_RIGHT = 24


def _nice_max(value: int) -> int:
    for step in (4, 8, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10000, 20000, 40000):
        if value <= step:
            return step
    return value


def line_chart(*, days: list[date], series: dict[str, list[int]]) -> SafeString:
    """A line per series over `days`, y axis from 0, one tick label per week."""
    top = _nice_max(max((max(values, default=0) for values in series.values()), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_BOTTOM - PAD_TOP
    step_x = plot_w / max(len(days) - 1, 1)

    def point(i: int, v: int) -> str:
        return f"{PAD_LEFT + i * step_x:.1f},{PAD_TOP + plot_h - plot_h * v / top:.1f}"

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/>'
        '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
        (
            (PAD_LEFT, WIDTH - PAD_RIGHT, y, y, PAD_LEFT - 6, y + 4, value)
            for value, y in ((top * k // 4, PAD_TOP + plot_h - plot_h * k / 4) for k in range(5))
        ),
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
        (
            (f"{PAD_LEFT + i * step_x:.1f}", HEIGHT - 6, day.strftime("%b %d"))
            for i, day in enumerate(days)
            if (len(days) - 1 - i) % 7 == 0
        ),
    )
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" data-series="{}">'
        "<title>{}</title></polyline>",
        (
            (
                " ".join(point(i, v) for i, v in enumerate(values)),
                COLORS.get(name, "#666"),
                name,
                f"{name}: {sum(values)} in {len(days)} days",
            )
            for name, values in series.items()
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" class="chart" role="img" aria-label="{}">{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        "Sent, replies and bounces per day",
        grid,
        ticks,
        lines,
    )
