"""The trial pathway report: one trial's pathway as its own document.

It reuses the annual report's pathway section (``_pathway.html``) and adds
the upstream outputs and the method note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import orm as so

from app.lineage.queries import METHOD_NOTE, lineage
from app.models import Confidentiality, TrialPhase, TrialStatus

from .annual import (
    FICTION_NOTICE,
    TRUSTEE_LEVELS,
    PathwaySection,
    _pathway_section,
    pathway_grants_table,
    pathway_summary_table,
)
from .annual_data import TrialRow, has_fictional_data, trials
from .archive import FigureTable, archive_pdf
from .pdf import PdfMetadata, render_pdf
from .templating import render_document


@dataclass(frozen=True)
class UpstreamRow:
    title: str
    kind: str
    date: date | None
    depth: int


@dataclass(frozen=True)
class TrialReport:
    """A trial's pathway, as plain values."""

    foundation: str
    generated_at: datetime
    is_draft: bool
    is_fictional: bool
    pathway: PathwaySection
    upstream: tuple[UpstreamRow, ...]
    method_note: str
    fiction_notice: str

    @property
    def title(self) -> str:
        return f"From funding to {self.pathway.name}"

    @property
    def metadata(self) -> PdfMetadata:
        return PdfMetadata(
            title=f"{self.title} · {self.foundation}",
            author=self.foundation,
            subject=f"The grants and earlier work behind the trial {self.pathway.title}",
            keywords=("trial pathway", self.pathway.name, *self.pathway.registry_ids)
            + (("fictional demonstration data",) if self.is_fictional else ()),
            created=self.generated_at,
        )


def build_trial_report(
    session: so.Session,
    output_id: int,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    is_draft: bool = True,
    now: datetime | None = None,
) -> TrialReport:
    """The pathway of one trial (raises OutputNotFound if it is not visible)."""
    levels = tuple(levels)
    found = lineage(session, output_id, levels)
    row = next((t for t in trials(session, levels) if t.output_id == output_id), None)
    if row is None:
        # Not a clinical trial: the pathway of any output still makes sense.
        row = TrialRow(
            output_id,
            found.output.title,
            None,
            TrialPhase.NOT_APPLICABLE,
            TrialStatus.UNKNOWN,
            (),
            found.output.date,
            None,
            (),
        )
    return TrialReport(
        foundation=foundation,
        generated_at=now or datetime.now(UTC).replace(microsecond=0),
        is_draft=is_draft,
        is_fictional=has_fictional_data(session),
        pathway=_pathway_section(row, found, ""),
        upstream=tuple(
            UpstreamRow(o.title, o.type.label, o.date, o.depth)
            for o in sorted(found.outputs, key=lambda o: (o.date or date.max, o.id))
        ),
        method_note=METHOD_NOTE,
        fiction_notice=FICTION_NOTICE,
    )


def trial_html(
    report: TrialReport, *, asset_url: str = "", preview: dict[str, str] | None = None
) -> str:
    """The trial pathway report as HTML (PDF or preview)."""
    return render_document("trial.html", report, asset_url=asset_url, preview=preview)


def trial_pdf(report: TrialReport, *, variant: str | None = None) -> bytes:
    """The trial pathway report as PDF bytes."""
    return render_pdf(trial_html(report), variant=variant, metadata=report.metadata)


def trial_figures(report: TrialReport) -> tuple[FigureTable, ...]:
    """The report's figures as CSV tables: the pathway, its grants, the earlier work."""
    return (
        pathway_summary_table([report.pathway]),
        pathway_grants_table([report.pathway]),
        FigureTable(
            "earlier-outputs.csv",
            f"The earlier work {report.pathway.name} stands on, nearest first by date",
            ("output", "type", "date", "steps_back"),
            tuple((o.title, o.kind, o.date, o.depth) for o in report.upstream),
        ),
    )


def trial_archive_pdf(report: TrialReport) -> bytes:
    """The archive copy: PDF/A-3u with :func:`trial_figures` attached as CSV."""
    return archive_pdf(trial_html(report), report.metadata, trial_figures(report))
