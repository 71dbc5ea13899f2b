"""Charts as vector SVG (matplotlib), one palette readable in print and greyscale.

Functions take plain data and return SVG text. Text stays text in the SVG
(svg.fonttype 'none') so pages and PDFs use their own fonts; every label is
escaped for matplotlib's mathtext, and matplotlib escapes XML itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

# Distinct in hue and in lightness, so greyscale print still separates them.
PALETTE = {
    "ink": "#1d2430",
    "grant": "#1f5f8b",
    "output": "#c26d00",
    "trial": "#1e6b3a",
    "link": "#7a8594",
    "attribution": "#9fb9cf",
    "grid": "#d9dee5",
}
FONT = ["Source Sans 3", "DejaVu Sans", "sans-serif"]


def _label(text: str, limit: int = 60) -> str:
    """Shorten and neutralise text for matplotlib ($ would start mathtext)."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


@dataclass(frozen=True)
class TimelineItem:
    key: str  # "g:<id>" for grants, "o:<id>" for outputs
    label: str
    when: date
    kind: str  # "grant", "output" or "trial"


@dataclass(frozen=True)
class TimelineLink:
    source: str  # the earlier item's key
    target: str
    kind: str  # "attribution" or "link"


def timeline_svg(
    items: Sequence[TimelineItem], links: Sequence[TimelineLink], title: str = ""
) -> str:
    """A chronological pathway: one row per grant or output, links drawn between rows."""
    ordered = sorted(items, key=lambda item: (item.when, item.kind != "grant", item.key))
    rows = {item.key: index for index, item in enumerate(ordered)}
    height = max(2.2, 0.26 * len(ordered) + 0.9)
    fig = Figure(figsize=(10, height))
    ax = fig.add_axes((0.36, 0.9 / height * 0.6, 0.62, 1 - 0.9 / height))
    x = {item.key: item.when.toordinal() for item in ordered}
    for link in links:
        if link.source in rows and link.target in rows:
            colour = PALETTE["attribution"] if link.kind == "attribution" else PALETTE["link"]
            ax.annotate(
                "",
                xy=(x[link.target], rows[link.target]),
                xytext=(x[link.source], rows[link.source]),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": colour,
                    "lw": 0.9,
                    "shrinkA": 4,
                    "shrinkB": 4,
                    "linestyle": "--" if link.kind == "attribution" else "-",
                },
            )
    markers = {
        "grant": ("s", PALETTE["grant"], 7),
        "output": ("o", PALETTE["output"], 7),
        "trial": ("*", PALETTE["trial"], 14),
    }
    for kind, (marker, colour, size) in markers.items():
        chosen = [item for item in ordered if item.kind == kind]
        if chosen:
            ax.plot(
                [x[i.key] for i in chosen],
                [rows[i.key] for i in chosen],
                linestyle="none",
                marker=marker,
                color=colour,
                markersize=size,
                label={"grant": "Grant awarded", "output": "Output", "trial": "Clinical trial"}[
                    kind
                ],
            )
    ax.set_yticks(range(len(ordered)))
    ax.set_yticklabels([_label(item.label) for item in ordered], fontsize=7.5)
    for tick, item in zip(ax.get_yticklabels(), ordered, strict=True):
        tick.set_color(PALETTE["grant"] if item.kind == "grant" else PALETTE["ink"])
    ax.invert_yaxis()
    years = sorted({item.when.year for item in ordered})
    if years:
        first, last = years[0], years[-1] + 1
        step = 1 if last - first <= 12 else (2 if last - first <= 24 else 5)
        ticks = [y for y in range(first - first % step, last + 1, step)]
        ax.set_xticks([date(y, 1, 1).toordinal() for y in ticks])
        ax.set_xticklabels([str(y) for y in ticks], fontsize=8)
        ax.set_xlim(date(first, 1, 1).toordinal() - 60, date(last, 1, 1).toordinal() + 60)
    ax.grid(axis="x", color=PALETTE["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if ordered:
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=8)
    if title:
        fig.suptitle(_label(title, 100), fontsize=9, x=0.02, ha="left")
    return _svg(fig)


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "font.family": FONT, "svg.hashsalt": "grantpath"}
    ):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can be inlined in HTML.
    return svg[svg.index("<svg") :]
