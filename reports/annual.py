"""The annual impact report: plain data from read queries, one template, HTML and PDF.

:func:`build_annual_report` runs the queries (``reports.annual_data`` and the
lineage of each featured trial) and draws the charts; the result,
:class:`AnnualReport`, holds only plain values. :func:`annual_html` renders
the preview or the PDF's HTML from it; :func:`annual_pdf` lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import orm as so

from app.currency import LEGACY_FIXED_RATES
from app.lineage.queries import METHOD_NOTE, Lineage, OutputNotFound, PathwaySummary, lineage
from app.models import Confidentiality, TrialPhase

from . import annual_data as data
from .annual_charts import funding_by_year_svg, ranked_bars_svg
from .annual_data import (
    AmountRow,
    CountRow,
    DonationFigures,
    GrantFigures,
    Period,
    RegisterRow,
    TrialRow,
    YearAmount,
)
from .pathway import pathway_timeline
from .pdf import PdfMetadata, render_pdf
from .templating import render_document

# Reports for trustees show public and trustees-only records, never internal ones.
TRUSTEE_LEVELS = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
INSTITUTIONS_SHOWN = 10
TOP_DONORS = 10
# Beyond this many featured trials the rest are listed in a table, not given a section.
MAX_PATHWAYS = 8
FICTION_NOTICE = (
    "Fictional demonstration data: the foundation, its grants, people and most outputs are "
    "invented; only a few published trials and papers are real."
)


@dataclass(frozen=True)
class PathwayGrantRow:
    reference: str
    title: str
    year: int
    institution: str
    amount: Decimal
    currency: str
    amount_eur: Decimal | None


@dataclass(frozen=True)
class PathwaySection:
    """One trial and the funding behind it."""

    output_id: int
    name: str  # acronym, else title
    title: str
    phase: str
    status: str
    registry_ids: tuple[str, ...]
    first_patient: date | None
    completion: date | None
    reason: str  # why it is in this period's report
    summary: PathwaySummary
    upstream_count: int
    grants: tuple[PathwayGrantRow, ...]
    timeline_svg: str | None

    @property
    def anchor(self) -> str:
        return f"trial-{self.output_id}"


@dataclass(frozen=True)
class TrialBrief:
    """A featured trial beyond the sections shown in full."""

    name: str
    phase: str
    status: str
    registry_ids: tuple[str, ...]
    reason: str
    grant_count: int
    total_awarded_eur: Decimal


@dataclass(frozen=True)
class Charts:
    by_year: str
    by_programme: str | None
    by_area: str | None
    by_institution: str | None


@dataclass(frozen=True)
class MethodNote:
    title: str
    text: str


@dataclass(frozen=True)
class AnnualReport:
    """Everything the annual report shows, as plain values (no ORM objects)."""

    foundation: str
    period: Period
    generated_at: datetime
    is_draft: bool
    is_fictional: bool
    audience: str
    grants: GrantFigures
    outputs_by_type: tuple[CountRow, ...]
    trials_by_phase: tuple[CountRow, ...]
    funding_by_year: tuple[YearAmount, ...]
    by_programme: tuple[AmountRow, ...]
    by_area: tuple[AmountRow, ...]
    by_institution: tuple[AmountRow, ...]
    other_institutions: AmountRow | None
    charts: Charts
    pathways: tuple[PathwaySection, ...]
    other_trials: tuple[TrialBrief, ...]
    donations: DonationFigures
    register: tuple[RegisterRow, ...] | None
    method_notes: tuple[MethodNote, ...]
    fiction_notice: str

    @property
    def title(self) -> str:
        return f"Annual impact report {self.period.label}"

    @property
    def outputs_in_period(self) -> int:
        return sum(row.in_period for row in self.outputs_by_type)

    @property
    def trials_featured(self) -> int:
        return sum(row.in_period for row in self.trials_by_phase)

    @property
    def recent_years(self) -> tuple[YearAmount, ...]:
        """The period's years, and the years before it to show at least five."""
        first = min(self.period.start_year, self.period.end_year - 4)
        return tuple(y for y in self.funding_by_year if y.year >= first)

    @property
    def metadata(self) -> PdfMetadata:
        return PdfMetadata(
            title=f"{self.title} · {self.foundation}",
            author=self.foundation,
            subject=(
                f"Grants awarded, outputs, clinical trials and funding pathways of "
                f"{self.foundation} in {self.period.label}"
            ),
            keywords=(
                "annual impact report",
                self.period.label,
                "research grants",
                "clinical trials",
                "funding pathways",
            )
            + (("fictional demonstration data",) if self.is_fictional else ()),
            created=self.generated_at,
        )


def period_from_text(text: str) -> Period:
    """'2023' or '2015-2024' as a Period; ValueError with a readable message otherwise."""
    parts = text.strip().replace("–", "-").split("-")
    try:
        years = [int(part) for part in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a year or a range of years (e.g. 2015-2024)") from None
    if len(years) == 1:
        years *= 2
    if len(years) != 2 or not all(1900 <= y <= 2100 for y in years):
        raise ValueError(f"{text!r} is not a year or a range of years (e.g. 2015-2024)")
    if years[1] < years[0]:
        raise ValueError(f"The range {text!r} ends before it starts")
    return Period(years[0], years[1])


def default_foundation_name(session: so.Session, configured: str | None) -> str:
    """The configured foundation name, else the demo foundation's when it is loaded."""
    if configured:
        return configured
    from app.demo import FOUNDATION_NAME, is_loaded

    return FOUNDATION_NAME if is_loaded(session) else "The foundation"


def _trials_by_phase(
    trials: Sequence[TrialRow], featured: Sequence[TrialRow], period: Period
) -> tuple[CountRow, ...]:
    rows = []
    for phase in TrialPhase:
        to_date = sum(
            1 for t in trials if t.phase == phase and t.start and t.start <= period.last_day
        )
        in_period = sum(1 for t in featured if t.phase == phase)
        if to_date or in_period:
            rows.append(CountRow(phase.label, in_period, to_date))
    return tuple(rows)


def _pathway_section(trial: TrialRow, found: Lineage, reason: str) -> PathwaySection:
    details = found.output.trial
    return PathwaySection(
        output_id=trial.output_id,
        name=trial.name,
        title=trial.title,
        phase=trial.phase.label,
        status=trial.status.label,
        registry_ids=trial.registry_ids,
        first_patient=details.first_patient_date if details else None,
        completion=details.completion_date if details else None,
        reason=reason,
        summary=found.summary,
        upstream_count=len(found.outputs),
        grants=tuple(
            PathwayGrantRow(
                reference=g.reference,
                title=g.title,
                year=g.award_date.year,
                institution=g.institution,
                amount=g.amount,
                currency=g.currency,
                amount_eur=g.amount_eur,
            )
            for g in found.grants
        ),
        timeline_svg=pathway_timeline(found) if (found.grants or found.outputs) else None,
    )


def _method_notes(period: Period, levels: Sequence[Confidentiality]) -> tuple[MethodNote, ...]:
    itl = LEGACY_FIXED_RATES["ITL"]
    shown = " or ".join(f"“{level.label}”" for level in levels)
    return (
        MethodNote(
            "Currency",
            f"Every amount is recorded in the currency of the award. Grants awarded in Italian "
            f"lire before the euro are converted at the irrevocable rate of 1 EUR = "
            f"{itl:,} ITL (Council Regulation (EC) No 2866/98, in force from 1 January 1999); "
            f"other legacy currencies at their own fixed rates. Euro figures are nominal: they "
            f"are not adjusted for inflation. Totals are exact to the cent; grants whose euro "
            f"equivalent is unknown are counted but not summed.",
        ),
        MethodNote(
            "Grants counted",
            "A grant is awarded in the period when its award date falls in it. Withdrawn "
            "awards are left out of every figure. A grant is active in the period when it "
            "started (or, without a start date, was awarded) before the period ended and "
            "ended after it began; without an end date it counts as active only while it is "
            "awarded or active. Cumulative funding adds every award from the first grant to "
            "the end of the period. A grant tagged with several research areas counts in "
            "each of them, so the areas add up to more than the total.",
        ),
        MethodNote(
            "Trials featured",
            f"A trial appears in “From funding to trials” when it ran during {period.label} "
            "(it had treated its first patient, or started, by the end of the period and was "
            "still running or ended within or after it) or when a publication reporting its "
            "results is dated in the period.",
        ),
        MethodNote("Attribution of funding to a trial", METHOD_NOTE),
        MethodNote(
            "Confidentiality and donors",
            f"This report is prepared for the trustees: it includes records marked {shown}; "
            "records for staff only are left out. Donors who asked to remain anonymous are "
            "never named: they appear as “Anonymous donor”.",
        ),
    )


def build_annual_report(
    session: so.Session,
    period: Period,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    include_register: bool = True,
    is_draft: bool = True,
    max_pathways: int = MAX_PATHWAYS,
    now: datetime | None = None,
) -> AnnualReport:
    """Query the figures of a year or range and assemble the report's plain data."""
    levels = tuple(levels)
    by_year = data.funding_by_year(session, levels, period.end_year)
    by_programme = data.funding_by_programme(session, period, levels)
    by_area = data.funding_by_area(session, period, levels)
    by_institution, other_institutions = data.funding_by_institution(
        session, period, levels, INSTITUTIONS_SHOWN
    )
    trials = data.trials(session, levels)
    featured = [
        (trial, reason)
        for trial in trials
        if (reason := data.trial_featured_reason(trial, period)) is not None
    ]
    traced = []
    for trial, reason in featured:
        try:
            traced.append((trial, lineage(session, trial.output_id, levels), reason))
        except OutputNotFound:  # deleted between the two queries
            continue
    # The largest pathways first; beyond max_pathways, trials are only listed.
    traced.sort(
        key=lambda t: (-t[1].summary.total_awarded_eur, -t[1].summary.grant_count, t[0].name)
    )
    pathways = [_pathway_section(t, found, why) for t, found, why in traced[:max_pathways]]
    other_trials = tuple(
        TrialBrief(
            t.name,
            t.phase.label,
            t.status.label,
            t.registry_ids,
            why,
            found.summary.grant_count,
            found.summary.total_awarded_eur,
        )
        for t, found, why in traced[max_pathways:]
    )
    institution_rows = [(r.label, r.amount_eur) for r in by_institution]
    if other_institutions is not None:
        institution_rows.append((other_institutions.label, other_institutions.amount_eur))
    charts = Charts(
        by_year=funding_by_year_svg(
            [(y.year, y.amount_eur) for y in by_year], period.start_year, period.end_year
        ),
        by_programme=ranked_bars_svg([(r.label, r.amount_eur) for r in by_programme])
        if by_programme
        else None,
        by_area=ranked_bars_svg([(r.label, r.amount_eur) for r in by_area]) if by_area else None,
        by_institution=ranked_bars_svg(
            institution_rows, highlight_last=other_institutions is not None
        )
        if institution_rows
        else None,
    )
    return AnnualReport(
        foundation=foundation,
        period=period,
        generated_at=now or datetime.now(UTC).replace(microsecond=0),
        is_draft=is_draft,
        is_fictional=data.has_fictional_data(session),
        audience="Prepared for the trustees",
        grants=data.grant_figures(session, period, levels),
        outputs_by_type=data.outputs_by_type(session, period, levels),
        trials_by_phase=_trials_by_phase(trials, [t for t, _ in featured], period),
        funding_by_year=by_year,
        by_programme=by_programme,
        by_area=by_area,
        by_institution=by_institution,
        other_institutions=other_institutions,
        charts=charts,
        pathways=tuple(pathways),
        other_trials=other_trials,
        donations=data.donation_figures(session, period, levels, TOP_DONORS),
        register=data.grant_register(session, period, levels) if include_register else None,
        method_notes=_method_notes(period, levels),
        fiction_notice=FICTION_NOTICE,
    )


def annual_html(
    report: AnnualReport, *, asset_url: str = "", preview: dict[str, str] | None = None
) -> str:
    """The report as HTML: for the PDF (relative asset URLs) or the web preview.

    ``preview`` holds the preview bar's links (label → URL); None for the PDF.
    """
    return render_document("annual.html", report, asset_url=asset_url, preview=preview)


def annual_pdf(report: AnnualReport, *, variant: str | None = None) -> bytes:
    """The report as PDF bytes."""
    return render_pdf(annual_html(report), variant=variant, metadata=report.metadata)
