"""The pathway timeline of a lineage, as chart data and SVG."""

from __future__ import annotations

from app.lineage.queries import Lineage

from .charts import TimelineItem, TimelineLink, timeline_svg


def pathway_timeline(lineage: Lineage) -> str:
    """SVG timeline: grants, the outputs they led to, the trial; links between them."""
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
    return timeline_svg(items, links)
