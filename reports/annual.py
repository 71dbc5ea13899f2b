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
    HighlightItem,
    Period,
    RegisterRow,
    TrialRow,
    YearAmount,
)
from .archive import FigureTable, archive_pdf
from .pathway import print_timeline
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
    highlights: tuple[HighlightItem, ...]
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
    def trials_active(self) -> int:
        """Clinical trials active in the period (the portfolio's definition)."""
        return sum(row.in_period for row in self.trials_by_phase)

    @property
    def trials_featured(self) -> int:
        """Trials in "From funding to trials": active in the period or reporting results in it."""
        return len(self.pathways) + len(self.other_trials)

    @property
    def highlight_years(self) -> tuple[tuple[int, tuple[HighlightItem, ...]], ...]:
        """The highlights grouped by year, in the order staff gave them."""
        years = sorted({h.year for h in self.highlights})
        return tuple((y, tuple(h for h in self.highlights if h.year == y)) for y in years)

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


def _trials_by_phase(trials: Sequence[TrialRow], period: Period) -> tuple[CountRow, ...]:
    """Trials active in the period and begun by its end, by phase (``trials`` asked for it)."""
    rows = []
    for phase in TrialPhase:
        to_date = sum(
            1 for t in trials if t.phase == phase and t.start and t.start <= period.last_day
        )
        in_period = sum(1 for t in trials if t.phase == phase and t.active)
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
        timeline_svg=print_timeline(found) if (found.grants or found.outputs) else None,
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
            "awards were never made: they are left out of every figure. A grant is active in "
            "the period when it started (or, without a start date, was awarded) before the "
            "period ended and ended after it began; without an end date it counts as active "
            "only while it is awarded or active. Cumulative funding adds every award from the "
            "first grant to the end of the period. A grant tagged with several research areas "
            "counts in each of them, so the areas add up to more than the total. These are "
            "the definitions of the portfolio pages too, so both show the same figures.",
        ),
        MethodNote(
            "Clinical trials counted",
            "A trial began on its start date (else on the day its first patient was treated, "
            "else on the date recorded for it). It is active in the period when it began by "
            "the period's end and either is still running (not yet recruiting, recruiting, "
            "enrolling, active, or suspended), or was completed within or after the period; "
            "a trial that stopped without a recorded completion date counts only in the "
            "period it began. Outputs are counted by the date they appeared.",
        ),
        MethodNote(
            "Trials featured",
            f"A trial appears in “From funding to trials” when it was active in "
            f"{period.label} or when a publication reporting its results is dated in the "
            "period.",
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
    trials = data.trials(session, levels, period)
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
        trials_by_phase=_trials_by_phase(trials, period),
        funding_by_year=by_year,
        by_programme=by_programme,
        by_area=by_area,
        by_institution=by_institution,
        other_institutions=other_institutions,
        charts=charts,
        pathways=tuple(pathways),
        other_trials=other_trials,
        highlights=data.highlights(session, period, levels),
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


# --------------------------------------------------------------------------- figures as CSV


def pathway_summary_table(
    sections: Sequence[PathwaySection], briefs: Sequence[TrialBrief] = ()
) -> FigureTable:
    """One row per trial: the pathway figures printed in its section (or the trials table)."""
    rows: list[tuple[object, ...]] = []
    for p in sections:
        s = p.summary
        rows.append(
            (
                p.name,
                p.title,
                p.phase,
                p.status,
                "; ".join(p.registry_ids),
                p.reason,
                s.grant_count,
                s.total_awarded_eur,
                s.attributed_eur,
                s.unconverted_grant_count,
                s.first_grant_year,
                s.trial_start_year,
                s.years_to_trial,
                s.institution_count,
                s.researcher_count,
                p.upstream_count,
            )
        )
    for t in briefs:
        rows.append(
            (t.name, None, t.phase, t.status, "; ".join(t.registry_ids), t.reason)
            + (t.grant_count, t.total_awarded_eur)
            + (None,) * 8
        )
    return FigureTable(
        "trial-pathways.csv",
        "Each trial and the funding behind it: grants, total awarded (EUR), attributed by share, "
        "first grant and first patient years",
        (
            "trial",
            "title",
            "phase",
            "status",
            "registry_ids",
            "reason",
            "grants",
            "total_awarded_eur",
            "attributed_eur",
            "grants_without_euro_equivalent",
            "first_grant_year",
            "trial_start_year",
            "years_to_trial",
            "institutions",
            "researchers",
            "earlier_outputs",
        ),
        tuple(rows),
    )


def pathway_grants_table(sections: Sequence[PathwaySection]) -> FigureTable:
    """One row per trial and grant behind it, as in each pathway's grants table."""
    return FigureTable(
        "trial-pathway-grants.csv",
        "The grants behind each trial, with the amount in the award's currency and in EUR",
        (
            "trial",
            "grant",
            "title",
            "year",
            "institution",
            "amount",
            "currency",
            "amount_eur",
        ),
        tuple(
            (p.name, g.reference, g.title, g.year, g.institution, g.amount, g.currency)
            + (g.amount_eur,)
            for p in sections
            for g in p.grants
        ),
    )


def _amount_table(
    filename: str, description: str, label: str, rows: Sequence[AmountRow]
) -> FigureTable:
    return FigureTable(
        filename,
        description,
        (label, "grants", "amount_eur"),
        tuple((r.label, r.count, r.amount_eur) for r in rows),
    )


def annual_figures(report: AnnualReport) -> tuple[FigureTable, ...]:
    """The report's figures as CSV tables: the same values the PDF prints, unformatted."""
    g, period = report.grants, report.period.label
    key = (
        ("grants_awarded", f"Grants awarded in {period}", g.awarded_count, "grants"),
        ("awarded_eur", f"Total awarded in {period}", g.awarded_eur, "EUR"),
        (
            "awarded_without_euro_equivalent",
            f"Grants awarded in {period} without a euro equivalent (not in the total)",
            g.awarded_unconverted,
            "grants",
        ),
        ("institutions_funded", f"Institutions funded in {period}", g.institution_count, ""),
        ("grants_active", f"Grants active in {period}", g.active_count, "grants"),
        ("trials_active", f"Clinical trials active in {period}", report.trials_active, "trials"),
        ("outputs", f"Outputs in {period}", report.outputs_in_period, "outputs"),
        ("trials_featured", "Trials featured", report.trials_featured, "trials"),
        ("first_award_year", "Year of the first grant", g.first_award_year, "year"),
        ("grants_to_date", "Grants awarded since the first grant", g.cumulative_count, "grants"),
        ("cumulative_eur", "Cumulative funding since the first grant", g.cumulative_eur, "EUR"),
    )
    by_institution = list(report.by_institution)
    if report.other_institutions is not None:
        by_institution.append(report.other_institutions)
    d = report.donations
    tables = [
        FigureTable(
            "key-figures.csv",
            f"Key figures of {period}",
            ("figure", "label", "value", "unit"),
            key,
        ),
        FigureTable(
            "funding-by-year.csv",
            "Grants and euro awarded each year since the first grant",
            ("year", "grants", "amount_eur", "in_period"),
            tuple(
                (
                    y.year,
                    y.count,
                    y.amount_eur,
                    report.period.start_year <= y.year <= report.period.end_year,
                )
                for y in report.funding_by_year
            ),
        ),
        _amount_table(
            "funding-by-programme.csv",
            f"Awards of {period} by "
            + ("programme" if report.period.is_single_year else "kind of programme"),
            "programme" if report.period.is_single_year else "programme_kind",
            report.by_programme,
        ),
        _amount_table(
            "funding-by-area.csv",
            f"Awards of {period} by research area (a grant with several areas counts in each)",
            "research_area",
            report.by_area,
        ),
        _amount_table(
            "funding-by-institution.csv",
            f"Awards of {period} by host institution, the largest first, the rest summed",
            "institution",
            by_institution,
        ),
        FigureTable(
            "outputs-by-type.csv",
            f"Outputs by type: in {period} and up to the end of {report.period.end_year}",
            ("type", "in_period", "to_end_of_period"),
            tuple((r.label, r.in_period, r.to_date) for r in report.outputs_by_type),
        ),
        FigureTable(
            "trials-by-phase.csv",
            f"Clinical trials by phase: active in {period}, and begun by the end of "
            f"{report.period.end_year}",
            ("phase", "active_in_period", "begun_by_end_of_period"),
            tuple((r.label, r.in_period, r.to_date) for r in report.trials_by_phase),
        ),
        pathway_summary_table(report.pathways, report.other_trials),
        pathway_grants_table(report.pathways),
        FigureTable(
            "donations-by-fund.csv",
            f"Donations received in {period} by fund, and allocations to grants of {period}",
            ("fund", "restricted", "donations", "received_eur", "allocated_eur"),
            tuple(
                (f.name, f.is_restricted, f.donation_count, f.received_eur, f.allocated_eur)
                for f in d.funds
            ),
        ),
        FigureTable(
            "largest-gifts.csv",
            f"The largest gifts of {period} (anonymous donors unnamed)",
            ("donor", "kind", "amount_eur"),
            tuple((donor.name, donor.kind, donor.amount_eur) for donor in d.top_donors),
        ),
    ]
    if report.register is not None:
        tables.append(
            FigureTable(
                "register.csv",
                f"Every grant awarded in {period}",
                (
                    "reference",
                    "title",
                    "award_date",
                    "programme",
                    "institution",
                    "investigator",
                    "amount",
                    "currency",
                    "amount_eur",
                    "status",
                ),
                tuple(
                    (
                        r.reference,
                        r.title,
                        r.award_date,
                        r.programme,
                        r.institution,
                        r.investigator,
                        r.amount,
                        r.currency,
                        r.amount_eur,
                        r.status,
                    )
                    for r in report.register
                ),
            )
        )
    return tuple(tables)


def annual_archive_pdf(report: AnnualReport) -> bytes:
    """The report as its archive copy: PDF/A-3u with :func:`annual_figures` attached as CSV."""
    return archive_pdf(annual_html(report), report.metadata, annual_figures(report))
