"""Charts of the annual impact report, as vector SVG (matplotlib, the shared palette).

Plain data in, SVG text out. The period's bars are dark and the others light,
so the distinction survives greyscale printing; every bar also carries its
figure in the report's tables.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .charts import PALETTE, _label, _svg

# Content width of an A4 page with the report's margins, in inches.
WIDTH = 6.7
LABEL_CHARS = 46


def data_uri(svg: str) -> str:
    """An SVG as a data: URL, the one kind of URL the report fetcher serves besides assets."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _scale(maximum: float) -> tuple[float, str]:
    """Divisor and unit word for axis labels: millions or thousands of euro."""
    if maximum >= 1_000_000:
        return 1_000_000, "million EUR"
    if maximum >= 1_000:
        return 1_000, "thousand EUR"
    return 1, "EUR"


def _short(value: float, divisor: float) -> str:
    scaled = value / divisor
    if scaled >= 100 or scaled == int(scaled):
        return f"{scaled:,.0f}"
    return f"{scaled:,.1f}" if scaled >= 10 else f"{scaled:,.2f}"


def _tidy(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]
    ax.spines["left"].set_color(PALETTE["link"])  # type: ignore[attr-defined]
    ax.spines["bottom"].set_color(PALETTE["link"])  # type: ignore[attr-defined]
    ax.tick_params(colors=PALETTE["ink"], labelsize=7.5, length=2.5)  # type: ignore[attr-defined]


def _bars(ax: Any, boxes: Sequence[tuple[float, float, float, float]], colours: list[str]) -> None:
    """Draw bars (x0, y0, x1, y1) as one collection.

    ``ax.bar`` makes one patch per bar and updates the axes' limits for each; at
    forty bars that was a third of the chart's drawing time. The caller sets the limits.
    """
    corners = [[(x0, y0), (x0, y1), (x1, y1), (x1, y0)] for x0, y0, x1, y1 in boxes]
    ax.add_collection(
        PolyCollection(corners, facecolors=colours, edgecolors="none", linewidths=0),
        autolim=False,
    )


def funding_by_year_svg(
    years: Sequence[tuple[int, Decimal]], start_year: int, end_year: int
) -> str:
    """Bars of euro awarded per year over all years; the report's period stands out."""
    fig = Figure(figsize=(WIDTH, 2.7))
    ax = fig.add_axes((0.085, 0.16, 0.9, 0.74))
    values = [float(amount) for _, amount in years]
    divisor, unit = _scale(max(values, default=0))
    in_period = [start_year <= year <= end_year for year, _ in years]
    _bars(
        ax,
        [
            (year - 0.39, 0, year + 0.39, value)
            for (year, _), value in zip(years, values, strict=True)
        ],
        [PALETTE["grant"] if hit else PALETTE["attribution"] for hit in in_period],
    )
    ax.set_ylim(0, max(values, default=0) * 1.05 or 1)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _short(v, divisor)))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_ylabel(unit, fontsize=7.5, color=PALETTE["ink"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=14))
    if years:
        ax.set_xlim(years[0][0] - 0.7, years[-1][0] + 0.7)
    ax.grid(axis="y", color=PALETTE["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    _tidy(ax)
    # A legend built from proxy patches: the bars themselves are one artist.
    period = str(start_year) if start_year == end_year else f"{start_year}–{end_year}"
    ax.legend(
        handles=[
            Patch(color=PALETTE["grant"], label=f"Awarded in {period}"),
            Patch(color=PALETTE["attribution"], label="Other years"),
        ],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=7.5,
    )
    return _svg(fig)


def ranked_bars_svg(rows: Sequence[tuple[str, Decimal]], *, highlight_last: bool = False) -> str:
    """Horizontal bars, largest first, each labelled with its amount.

    ``highlight_last`` draws the last bar light: it is the "others" bucket.
    """
    count = max(len(rows), 1)
    height = 0.32 + 0.24 * count
    labels = [_label(label, LABEL_CHARS) for label, _ in rows]
    # Room on the left for the longest label (about 0.057 in a character at 7.5 pt).
    left = 0.04 + 0.0085 * max((len(label) for label in labels), default=10)
    fig = Figure(figsize=(WIDTH, height))
    ax = fig.add_axes((left, 0.2 / height, 0.94 - left, 1 - 0.3 / height))
    values = [float(amount) for _, amount in rows]
    maximum = max(values, default=0)
    colours = [PALETTE["grant"]] * len(rows)
    if highlight_last and colours:
        colours[-1] = PALETTE["attribution"]
    positions = list(range(len(rows)))
    _bars(ax, [(0, p - 0.33, v, p + 0.33) for p, v in zip(positions, values, strict=True)], colours)
    # Labels as text beside the axes rather than tick labels (far fewer artists to draw).
    ax.set_yticks([])
    for position, label in zip(positions, labels, strict=True):
        ax.text(
            -0.012,
            position,
            label,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=7.5,
            color=PALETTE["ink"],
        )
    # Largest at the top, with the margins barh would leave.
    pad = 0.05 * (count - 1 + 0.66)
    ax.set_ylim(count - 1 + 0.33 + pad, -0.33 - pad)
    ax.set_xlim(0, maximum * 1.22 if maximum else 1)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(PALETTE["link"])
    for position, value in zip(positions, values, strict=True):
        ax.text(
            value + maximum * 0.012,
            position,
            f"EUR {value:,.0f}",
            va="center",
            ha="left",
            fontsize=7,
            color=PALETTE["ink"],
        )
    return _svg(fig)
