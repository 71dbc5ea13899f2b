"""Bar charts of portfolio figures, as vector SVG (matplotlib, the palette of reports.charts).

Functions take plain values and return SVG text without an XML prolog, for
inlining or for an <img> (see app/portfolio/views.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .charts import PALETTE, _label, _svg

__all__ = ["funding_by_year_svg", "horizontal_bars_svg"]

MILLION = Decimal(1_000_000)


def _tidy(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]
    ax.set_axisbelow(True)  # type: ignore[attr-defined]


def funding_by_year_svg(
    years: Sequence[tuple[int, Decimal]],
    highlight: tuple[int, int] | None = None,
    title: str = "",
) -> str:
    """Amount awarded per year (million EUR), the years in ``highlight`` (first, last) darker."""
    fig = Figure(figsize=(10, 3.1))
    ax = fig.add_axes((0.07, 0.16, 0.91, 0.7 if title else 0.78))
    xs = [year for year, _ in years]
    heights = [float(amount / MILLION) for _, amount in years]
    colours = [
        PALETTE["grant"]
        if highlight and highlight[0] <= year <= highlight[1]
        else PALETTE["attribution"]
        for year in xs
    ]
    ax.bar(xs, heights, color=colours, width=0.8)
    ax.set_ylabel("million EUR", fontsize=8, color=PALETTE["ink"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=14))
    ax.tick_params(labelsize=8, colors=PALETTE["ink"])
    ax.grid(axis="y", color=PALETTE["grid"], linewidth=0.6)
    if xs:
        ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    _tidy(ax)
    if title:
        fig.suptitle(_label(title, 100), fontsize=9, x=0.02, ha="left")
    return _svg(fig)


def horizontal_bars_svg(
    rows: Sequence[tuple[str, int | Decimal]],
    colour: str = "grant",
    unit: str = "",
    title: str = "",
) -> str:
    """One labelled bar per row, largest first as given; ``unit`` labels the value axis."""
    height = max(1.4, 0.26 * len(rows) + 0.75)
    fig = Figure(figsize=(5.2, height))
    ax = fig.add_axes((0.45, 0.5 / height, 0.47, 1 - (0.85 if title else 0.6) / height))
    labels = [_label(label, 36) for label, _ in rows]
    values = [float(value) for _, value in rows]
    positions = range(len(rows))
    ax.barh(positions, values, color=PALETTE.get(colour, colour), height=0.65)
    ax.set_yticks(list(positions))
    ax.set_yticklabels(labels, fontsize=8, color=PALETTE["ink"])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.tick_params(axis="x", labelsize=8, colors=PALETTE["ink"])
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color=PALETTE["grid"], linewidth=0.6)
    for position, value in zip(positions, values, strict=True):
        ax.annotate(
            f"{value:,.0f}",
            (value, position),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
            color=PALETTE["ink"],
        )
    if values:
        ax.set_xlim(0, max(values) * 1.12 or 1)
    if unit:
        ax.set_xlabel(unit, fontsize=8, color=PALETTE["ink"])
    _tidy(ax)
    ax.spines["left"].set_visible(False)
    if title:
        fig.suptitle(_label(title, 100), fontsize=9, x=0.02, ha="left")
    return _svg(fig)
