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
from matplotlib.patches import FancyArrowPatch  # noqa: E402

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


# The pathway timeline's own proportions: rows of labels on the left, years across.
LABEL_SHARE = 0.36  # of the width, for the row labels
ROW_PITCH = 0.26  # inches per row when there is room
MIN_ROW_PITCH = 0.13  # below this the labels would touch: the figure grows instead
FRAME = 0.9  # inches above and below the rows: legend, year axis
CHAR_WIDTH = 0.56  # DejaVu Sans, average advance per point of font size


def timeline_svg(
    items: Sequence[TimelineItem],
    links: Sequence[TimelineLink],
    title: str = "",
    *,
    width: float = 10.0,
    max_height: float | None = None,
) -> str:
    """A chronological pathway: one row per grant or output, links drawn between rows.

    ``width`` is in inches: 10 for the web page, the text block's width for a
    PDF (so the chart prints at its own size and its text at its own points).
    ``max_height`` (inches) tightens the rows, and shrinks labels and markers
    with them, so a long pathway still fits the page; below a minimum pitch the
    figure grows taller instead (the report's CSS then scales it to the page).
    """
    ordered = sorted(items, key=lambda item: (item.when, item.kind != "grant", item.key))
    rows = {item.key: index for index, item in enumerate(ordered)}
    count = max(len(ordered), 1)
    pitch = ROW_PITCH
    if max_height is not None:
        pitch = min(ROW_PITCH, max(MIN_ROW_PITCH, (max_height - FRAME) / count))
    scale = pitch / ROW_PITCH
    font = max(5.5, min(7.5, 7.5 * scale + 1.0))
    height = max(2.2, pitch * count + FRAME)
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((LABEL_SHARE, FRAME / height * 0.6, 0.98 - LABEL_SHARE, 1 - FRAME / height))
    # As many characters as the label column holds at this font size.
    label_chars = max(20, int(width * (LABEL_SHARE - 0.02) * 72 / (font * CHAR_WIDTH)))
    x = {item.key: item.when.toordinal() for item in ordered}
    for link in links:
        if link.source in rows and link.target in rows:
            colour = PALETTE["attribution"] if link.kind == "attribution" else PALETTE["link"]
            # A bare arrow patch, not ax.annotate: an annotation is also a text to lay out.
            ax.add_artist(
                FancyArrowPatch(
                    posA=(x[link.source], rows[link.source]),
                    posB=(x[link.target], rows[link.target]),
                    arrowstyle="-|>",
                    color=colour,
                    linewidth=0.9 * max(scale, 0.7),
                    shrinkA=4 * scale,
                    shrinkB=4 * scale,
                    mutation_scale=10 * max(scale, 0.6),
                    linestyle="--" if link.kind == "attribution" else "-",
                    clip_on=False,
                )
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
                markersize=size * max(scale, 0.6),
                label={"grant": "Grant awarded", "output": "Output", "trial": "Clinical trial"}[
                    kind
                ],
            )
    # Row labels as text beside the axes, not as tick labels: a tick is half a dozen
    # artists to build and restyle, and at thirty rows they were most of the drawing.
    ax.set_yticks([])
    for row, item in enumerate(ordered):
        ax.text(
            -0.012,
            row,
            _label(item.label, label_chars),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=font,
            color=PALETTE["grant"] if item.kind == "grant" else PALETTE["ink"],
        )
    ax.invert_yaxis()
    if ordered:
        # Half a row of air above the first item and below the last.
        ax.set_ylim(len(ordered) - 0.5, -0.5)
    years = sorted({item.when.year for item in ordered})
    if years:
        first, last = years[0], years[-1] + 1
        # About one labelled year per 0.45 inch of plot.
        room = max(2, int(width * (0.98 - LABEL_SHARE) / 0.45))
        step = next(s for s in (1, 2, 5, 10, 20, 50) if (last - first) / s <= room)
        ticks = [y for y in range(first - first % step, last + 1, step)]
        ax.set_xticks([date(y, 1, 1).toordinal() for y in ticks])
        ax.set_xticklabels([str(y) for y in ticks], fontsize=font + 0.5)
        ax.set_xlim(date(first, 1, 1).toordinal() - 60, date(last, 1, 1).toordinal() + 60)
    ax.grid(axis="x", color=PALETTE["grid"], linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=2.5, colors=PALETTE["ink"])
    if ordered:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=3,
            frameon=False,
            fontsize=font + 0.5,
            borderaxespad=0.3,
        )
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
