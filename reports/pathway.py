"""The pathway timeline of a lineage, as chart data and SVG."""

from __future__ import annotations

from app.lineage.queries import Lineage

from .charts import TimelineItem, TimelineLink, timeline_svg

# The PDFs' text block (A4 less 18 mm margins each side is 6.85 in) and the height a
# timeline may take below a pathway's head, so it prints at its own size on that page.
PRINT_WIDTH = 6.8
PRINT_MAX_HEIGHT = 6.9


def pathway_timeline(
    lineage: Lineage, *, width: float = 10.0, max_height: float | None = None
) -> str:
    """SVG timeline: grants, the outputs they led to, the trial; links between them.

    The defaults suit the web page; reports pass :data:`PRINT_WIDTH` and
    :data:`PRINT_MAX_HEIGHT` (see :func:`print_timeline`).
    """
    trial = lineage.output
    items = [
        TimelineItem(f"g:{g.id}", f"{g.reference} · {g.institution}", g.award_date, "grant")
        for g in lineage.grants
    ]
    items += [
        TimelineItem(
            f"o:{o.id}",
            o.title,
            o.date,
            "trial" if o.type == "medical_product" and o.id == trial.id else "output",
        )
        for o in lineage.outputs
        if o.date is not None
    ]
    when = (trial.trial.first_patient_date or trial.trial.start_date) if trial.trial else None
    when = when or trial.date
    if when is not None:
        label = trial.trial.acronym if trial.trial and trial.trial.acronym else trial.title
        items.append(
            TimelineItem(f"o:{trial.id}", label, when, "trial" if trial.trial else "output")
        )
    links = [
        TimelineLink(f"o:{e.upstream_output_id}", f"o:{e.output_id}", "link") for e in lineage.edges
    ]
    links += [
        TimelineLink(f"g:{g.id}", f"o:{a.output_id}", "attribution")
        for g in lineage.grants
        for a in g.attributions
    ]
    return timeline_svg(items, links, width=width, max_height=max_height)


def print_timeline(lineage: Lineage, max_height: float = PRINT_MAX_HEIGHT) -> str:
    """The pathway timeline sized for a report page (below a head of the usual height)."""
    return pathway_timeline(lineage, width=PRINT_WIDTH, max_height=max_height)
