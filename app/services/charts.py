"""SVG charts for the quarterly report, drawn with matplotlib.

Made to print: black and white (a line with markers; values written on the
points, so nothing depends on colour), text kept as text (`svg.fonttype = none`:
no font files are embedded or downloaded), and deterministic (a fixed hash salt and
no date), so the same data always gives the same bytes. Each chart carries
`<title>` and `<desc>` for screen readers.
"""

import io
import re
import threading
from collections.abc import Sequence
from html import escape
from typing import Any

_lock = threading.Lock()
_STYLE: dict[str, Any] = {
    "svg.hashsalt": "settle-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.edgecolor": "#000000",
    "axes.labelcolor": "#000000",
    "xtick.color": "#000000",
    "ytick.color": "#000000",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure() -> Any:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 2.4), dpi=72)
    FigureCanvasSVG(figure)
    return figure


def line_chart(
    *, title: str, description: str, labels: Sequence[str], values: Sequence[float | None]
) -> str:
    """A line over quarters as an inline SVG element; gaps where a value is missing."""
    import matplotlib

    # matplotlib's state is global: one chart at a time, whatever thread asks.
    with _lock, matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        figure = _figure()
        axes = figure.add_subplot(1, 1, 1)
        xs = list(range(len(labels)))
        ys = [float("nan") if value is None else value for value in values]
        axes.plot(xs, ys, color="#000000", linewidth=1.6, marker="o", markersize=4)
        for x, value in zip(xs, values, strict=True):
            if value is not None:
                axes.annotate(
                    f"{value:g}",
                    (x, value),
                    textcoords="offset points",
                    xytext=(0, 5),
                    ha="center",
                    fontsize=8,
                )
        axes.set_xticks(xs, list(labels))
        axes.set_ylim(bottom=0, top=max([v for v in values if v is not None] or [1]) * 1.25 or 1)
        axes.grid(axis="y", color="#999999", linewidth=0.5, linestyle=":")
        axes.set_title(title, loc="left", fontsize=10)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _accessible(buffer.getvalue(), title, description)


def _accessible(svg: str, title: str, description: str) -> str:
    """Inline-ready SVG: no XML prolog or DOCTYPE, with role, title and desc."""
    start = svg.index("<svg")
    svg = svg[start:]
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "chart"
    head = head.replace("<svg", f'<svg role="img" aria-labelledby="{slug}-title {slug}-desc"', 1)
    accessible = (
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(description)}</desc>'
    )
    return head + accessible + svg[head_end:]
