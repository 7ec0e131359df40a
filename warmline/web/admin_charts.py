"""Small bar charts drawn on the server as SVG: no chart library, no script, nothing from a CDN.

Only presentation attributes are used (no style attributes), so the strict CSP holds; each chart
carries a title and description, and the page shows the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from markupsafe import Markup, escape

from warmline.web.languages import gettext

WIDTH = 640
TOP_ROOM = 16  # for the value written above the tallest bar
BAR_AREA_HEIGHT = 160
LABEL_HEIGHT = 40
MAX_BAR_WIDTH = 72
_ids = count(1)


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, unit: str = "",
              label_every: int = 1) -> Markup:
    """Vertical bars, one per item, scaled to the largest; labels under every ``label_every``th bar."""
    chart_id = f"chart-{next(_ids)}"
    height = TOP_ROOM + BAR_AREA_HEIGHT + LABEL_HEIGHT
    top = max((value for _, value in items), default=0) or 1
    slot = WIDTH / max(len(items), 1)
    bar = min(max(slot * 0.7, 1), MAX_BAR_WIDTH)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(items, unit))}</desc>',
        f'<g transform="translate(0 {TOP_ROOM})">',
        f'<line x1="0" y1="{BAR_AREA_HEIGHT}" x2="{WIDTH}" y2="{BAR_AREA_HEIGHT}" class="axis"/>',
    ]
    for index, (label, value) in enumerate(items):
        h = BAR_AREA_HEIGHT * value / top
        x = index * slot + (slot - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{BAR_AREA_HEIGHT - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {escape(_fmt(value))}{escape(unit)}</title></rect>"
        )
        if value:
            parts.append(f'<text class="value" x="{x + bar / 2:.1f}" y="{BAR_AREA_HEIGHT - h - 3:.1f}" '
                         f'text-anchor="middle">{escape(_fmt(value))}</text>')
        if index % label_every == 0:
            parts.append(f'<text class="label" x="{x + bar / 2:.1f}" y="{BAR_AREA_HEIGHT + 16}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _describe(items: Sequence[tuple[str, float]], unit: str) -> str:
    shown = [f"{label} {_fmt(value)}{unit}" for label, value in items if value]
    return "; ".join(shown) if shown else gettext("no data in this range")
