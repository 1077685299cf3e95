"""Charts drawn on the server as SVG (no script): stacked bars of steps done per month, in time,
with an extension, with the clock stopped, or late. Each chart has a title and a description for
screen readers, and the page shows the same numbers in a table beneath it."""

from dataclasses import dataclass
from html import escape

# GOV.UK colours: green, blue, dark grey, red (in time ... late).
SERIES = (
    ("in time", "#00703c"),
    ("in time with extension", "#1d70b8"),
    ("in time (clock stopped)", "#505a5f"),
    ("late", "#d4351c"),
)
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 40, 40, 16


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. "Nov 2026"
    counts: dict[str, int]  # per series name

    @property
    def total(self) -> int:
        return sum(self.counts.get(name, 0) for name, _ in SERIES)


def stacked_bars(chart_id: str, title: str, bars: list[Bar]) -> str:
    """Return an SVG of `bars`, one stack per month, with a legend."""
    top = max((b.total for b in bars), default=0) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT - 10) / max(len(bars), 1)
    width = step * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="app-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(bars))}</desc>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - BOTTOM}" stroke="#0b0c0c"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="12">{top}</text>',
        f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end" font-size="12">0</text>',
    ]
    for n, bar in enumerate(bars):
        x = LEFT + n * step + (step - width) / 2
        y: float = HEIGHT - BOTTOM
        for name, colour in SERIES:
            count = bar.counts.get(name, 0)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(bar.label)}: {count} {escape(name)}</title></rect>"
            )
        parts.append(
            f'<text x="{x + width / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="12">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")  # the legend is the page's (legend()), in body text
    return "".join(parts)


def legend() -> list[tuple[str, int]]:
    """Return the chart's series as the page's legend shows them, in body text: (name, its
    colour's number, styled `app-legend__swatch--N` as the bars are)."""
    return [(name, n) for n, (name, _) in enumerate(SERIES)]


def _describe(bars: list[Bar]) -> str:
    said = [
        f"{b.label}: {b.total} done"
        + "".join(f", {b.counts.get(name, 0)} {name}" for name, _ in SERIES if b.counts.get(name))
        for b in bars
    ]
    return "; ".join(said) or "nothing done in these months"
