"""Read queries for portfolio figures (aggregates in SQL, no ORM walks)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import sqlalchemy as sa
from babel import Locale
from sqlalchemy import orm as so

from app.models import (
    Attribution,
    ClinicalTrial,
    Confidentiality,
    FurtherFunding,
    Grant,
    GrantStatus,
    Organisation,
    Output,
    OutputType,
    Programme,
    ResearchArea,
    TrialPhase,
    TrialStatus,
    grant_areas,
)
from app.records.listing import unindexed

from .definitions import counted_grant, trial_active_between
from .priceindex import index_values, real_terms_sum


@dataclass(frozen=True)
class TrialSummary:
    output_id: int
    title: str
    acronym: str | None
    phase: TrialPhase
    start_year: int | None


@dataclass(frozen=True)
class PortfolioOverview:
    grant_count: int
    total_awarded_eur: Decimal
    first_award_year: int | None
    last_award_year: int | None
    output_count: int
    trial_count: int
    institution_count: int
    recent_trials: tuple[TrialSummary, ...]
    has_fictional_data: bool


def _level_in(column: Any, levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    # Staff see every level: no test at all, which spares the planner and each row.
    if set(levels) >= set(Confidentiality):
        return sa.true()
    return column.in_(levels)


def _live_grants(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    # One definition with the annual report (definitions.py): withdrawn grants never count.
    return sa.and_(counted_grant(), _level_in(Grant.confidentiality, levels))


def _live_outputs(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Output.deleted_at.is_(None), _level_in(Output.confidentiality, levels))


def portfolio_overview(session: so.Session, levels: Sequence[Confidentiality]) -> PortfolioOverview:
    """Headline figures for the home page, restricted to the visible levels."""
    grant_row = session.execute(
        sa.select(
            sa.func.count(Grant.id),
            sa.func.sum(Grant.amount_eur),
            sa.func.min(Grant.award_date),
            sa.func.max(Grant.award_date),
            sa.func.count(sa.distinct(Grant.host_organisation_id)),
            sa.func.max(sa.cast(Grant.is_fictional, sa.Integer)),
        ).where(_live_grants(levels))
    ).one()
    output_count = session.scalar(sa.select(sa.func.count(Output.id)).where(_live_outputs(levels)))
    trials = session.execute(
        sa.select(
            Output.id,
            Output.title,
            ClinicalTrial.acronym,
            ClinicalTrial.phase,
            ClinicalTrial.start_date,
        )
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(_live_outputs(levels))
        .order_by(ClinicalTrial.start_date.desc().nulls_last(), Output.id.desc())
    ).all()
    return PortfolioOverview(
        grant_count=grant_row[0],
        total_awarded_eur=grant_row[1] or Decimal(0),
        first_award_year=grant_row[2].year if grant_row[2] else None,
        last_award_year=grant_row[3].year if grant_row[3] else None,
        output_count=output_count or 0,
        trial_count=len(trials),
        institution_count=grant_row[4],
        recent_trials=tuple(
            TrialSummary(
                t.id, t.title, t.acronym, t.phase, t.start_date.year if t.start_date else None
            )
            for t in trials[:8]
        ),
        has_fictional_data=bool(grant_row[5]),
    )


# --------------------------------------------------------------------------- period figures

METHOD_NOTES = (
    "Grants are counted in the year of their award whatever their status, except withdrawn "
    "grants (awards never made), which count nowhere; amounts are the "
    "euro equivalents stored with each grant (lire and other legacy currencies at the "
    "irrevocable euro rates). Grants without a euro equivalent are counted but not summed.",
    "A grant with several research areas counts in each of them, so the research-area "
    "table adds up to more than the total awarded.",
    "Outputs are counted in the year of their date, whichever grant they came from. "
    "Clinical trials are those active in the period: begun by its end (start date, else "
    "first patient, else the output's date) and still running, completed within or after "
    "the period, or (stopped with no completion date) begun within it.",
    "Time to first output runs from the month of a grant's award to the month of the "
    "earliest dated output attributed to it (outputs known only to the year count as "
    "January; an output dated before the award counts as 0 months); grants without any "
    "dated output are left out.",
    "Leverage is the further funding recorded as outputs of the period's grants (each "
    "output once, in euros) divided by the total awarded to those grants.",
    "Completed grants are the grants with status completed whose end date falls in the "
    "period, whatever their award year; 'with outputs' means at least one output (not "
    "deleted, of any date) is attributed to them.",
    "Real terms: each year's amount is multiplied by the price index of the base year and "
    "divided by the index of the award year; shown only when the index covers every year.",
)

TOP_INSTITUTIONS = 10
OVERDUE_LIST = 10
MONTH_PRECISION = Decimal("0.1")


@dataclass(frozen=True)
class YearFunding:
    year: int
    grant_count: int
    amount_eur: Decimal


@dataclass(frozen=True)
class GroupFunding:
    """Grants and money of one programme, area, institution or country (id None: none)."""

    id: int | None
    key: str | None
    label: str
    grant_count: int
    amount_eur: Decimal


@dataclass(frozen=True)
class CountRow:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class YearCount:
    year: int
    count: int


@dataclass(frozen=True)
class OverdueGrant:
    id: int
    reference: str
    title: str
    institution: str
    due: date
    days_overdue: int


@dataclass(frozen=True)
class PortfolioFigures:
    start_year: int
    end_year: int
    grant_count: int
    total_awarded_eur: Decimal
    unconverted_grant_count: int
    real_terms_base_year: int | None
    real_terms_total_eur: Decimal | None
    # Years the index lacks, when a base year was asked for and the total is None.
    real_terms_missing_years: tuple[int, ...]
    funding_by_year: tuple[YearFunding, ...]  # every year of the period
    funding_by_year_all: tuple[YearFunding, ...]  # first to last award year, gaps as zero
    by_programme: tuple[GroupFunding, ...]
    by_area: tuple[GroupFunding, ...]
    by_institution: tuple[GroupFunding, ...]  # the top institutions by amount
    other_institutions: GroupFunding | None  # the rest, summed; label says how many
    institution_count: int
    by_country: tuple[GroupFunding, ...]
    output_count: int
    outputs_by_type: tuple[CountRow, ...]
    outputs_by_year: tuple[YearCount, ...]
    trial_count: int
    trials_by_phase: tuple[CountRow, ...]
    trials_by_status: tuple[CountRow, ...]
    grants_with_outputs: int  # grants of the period with a dated output
    median_months_to_first_output: Decimal | None
    mean_months_to_first_output: Decimal | None
    further_funding_eur: Decimal
    leverage: Decimal | None  # further funding per euro awarded
    completed_grant_count: int
    completed_with_outputs_count: int
    completed_with_outputs_share: Decimal | None  # 0..1
    overdue_count: int
    overdue: tuple[OverdueGrant, ...]  # the longest overdue first
    has_fictional_data: bool
    method_notes: tuple[str, ...] = METHOD_NOTES

    @property
    def single_year(self) -> bool:
        return self.start_year == self.end_year

    @property
    def label(self) -> str:
        return str(self.start_year) if self.single_year else f"{self.start_year}–{self.end_year}"


def _money(value: Decimal | None) -> Decimal:
    return value if value is not None else Decimal("0.00")


def _decimal(value: object, places: Decimal) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_EVEN)


@functools.cache
def _country_name(code: str) -> str:
    return Locale.parse("en_GB").territories.get(code.upper(), code)


class _Period:
    """The grants, outputs and dates of the period, as SQL conditions."""

    def __init__(self, start_year: int, end_year: int, levels: Sequence[Confidentiality]):
        self.start = date(start_year, 1, 1)
        self.end = date(end_year, 12, 31)
        self.after = date(end_year + 1, 1, 1)
        self.levels = levels
        # Date ranges, not extract(): the award-date index answers them.
        self.grants = sa.and_(
            _live_grants(levels), Grant.award_date >= self.start, Grant.award_date < self.after
        )
        self.outputs = sa.and_(
            _live_outputs(levels),
            # Every type named, so the (type, date) index serves the date range.
            Output.type.in_(list(OutputType)),
            Output.output_date >= self.start,
            Output.output_date < self.after,
        )


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _funding_by_year(
    session: so.Session, period: _Period
) -> tuple[tuple[YearFunding, ...], dict[int, int]]:
    """Grants and euros of every award year, gaps filled; unconverted grants per year."""
    # Per award date first: SQLite reads ix_grants_award_totals in order with no
    # sort, leaving a small sort of distinct dates by year (three times faster
    # at 100,000 grants than grouping the grants by year directly).
    by_day = (
        sa.select(
            Grant.award_date.label("day"),
            sa.func.count().label("grants"),
            sa.func.count(Grant.amount_eur).label("converted"),
            sa.func.sum(Grant.amount_eur).label("amount"),
        )
        .where(_live_grants(period.levels))
        .group_by(Grant.award_date)
        .subquery("by_day")
    )
    year = sa.extract("year", by_day.c.day)
    rows = session.execute(
        sa.select(
            year.label("year"),
            sa.func.sum(by_day.c.grants).label("grants"),
            sa.func.sum(by_day.c.converted).label("converted"),
            sa.func.sum(by_day.c.amount).label("amount"),
        ).group_by(year)
    ).all()
    found = {int(r.year): YearFunding(int(r.year), int(r.grants), _money(r.amount)) for r in rows}
    years = range(min(found), max(found) + 1) if found else range(0)
    return (
        tuple(found.get(y, YearFunding(y, 0, Decimal("0.00"))) for y in years),
        {int(r.year): int(r.grants) - int(r.converted) for r in rows},
    )


def _completed(session: so.Session, period: _Period) -> tuple[int, int]:
    """(grants completed in the period, those with a live output), read by ix_grants_end_date."""
    has_output = (
        sa.select(Attribution.id)
        .join(Output, Output.id == Attribution.output_id)
        .where(Attribution.grant_id == Grant.id, _live_outputs(period.levels))
        .exists()
    )
    row = session.execute(
        sa.select(sa.func.count().label("completed"), _count_if(has_output).label("with_output"))
        .select_from(Grant)
        .where(
            _live_grants(period.levels),
            # Most grants are completed: SQLite must read the period's by end date instead.
            unindexed(Grant.status) == GrantStatus.COMPLETED,
            Grant.end_date >= period.start,
            Grant.end_date < period.after,
        )
    ).one()
    return int(row.completed), int(row.with_output)


def _grouped(
    session: so.Session,
    period: _Period,
    key: Any,
    label: Any,
    joins: Sequence[Any],
    limit: int | None = None,
) -> tuple[Sequence[Any], int]:
    """Rows (id, key, label, grants, amount) by amount, and how many groups there are."""
    amount = sa.func.sum(Grant.amount_eur)
    query = sa.select(
        key.label("id"),
        label.label("label"),
        sa.func.count(Grant.id).label("grants"),
        amount.label("amount"),
        sa.func.count().over().label("groups"),
    ).select_from(Grant)
    for target, on in joins:
        query = query.outerjoin(target, on)
    query = (
        query.where(period.grants)
        .group_by(key, label)
        .order_by(amount.desc().nulls_last(), sa.func.count(Grant.id).desc(), label)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return rows, rows[0].groups if rows else 0


def _output_counts(
    session: so.Session, period: _Period
) -> tuple[tuple[CountRow, ...], tuple[YearCount, ...], int]:
    year = sa.extract("year", Output.output_date)
    rows = session.execute(
        sa.select(Output.type, year.label("year"), sa.func.count(Output.id).label("n"))
        .where(period.outputs)
        .group_by(Output.type, year)
    ).all()
    by_type: dict[OutputType, int] = {}
    by_year = dict.fromkeys(range(period.start.year, period.after.year), 0)
    for row in rows:
        by_type[row.type] = by_type.get(row.type, 0) + row.n
        by_year[int(row.year)] += row.n
    types = tuple(
        CountRow(kind.value, kind.label, by_type[kind])
        for kind in sorted(by_type, key=lambda kind: (-by_type[kind], kind.label))
    )
    return types, tuple(YearCount(y, n) for y, n in by_year.items()), sum(by_type.values())


def _trial_counts(
    session: so.Session, period: _Period
) -> tuple[tuple[CountRow, ...], tuple[CountRow, ...], int]:
    # EXISTS, not a join: a planner without statistics would scan every output.
    live_and_active = (
        sa.select(Output.id)
        .where(
            Output.id == ClinicalTrial.output_id,
            _live_outputs(period.levels),
            trial_active_between(period.start, period.end),
        )
        .exists()
    )
    rows = session.execute(
        sa.select(ClinicalTrial.phase, ClinicalTrial.status, sa.func.count().label("n"))
        .where(
            live_and_active,
        )
        .group_by(ClinicalTrial.phase, ClinicalTrial.status)
    ).all()
    phases: dict[TrialPhase, int] = {}
    statuses: dict[TrialStatus, int] = {}
    for row in rows:
        phases[row.phase] = phases.get(row.phase, 0) + row.n
        statuses[row.status] = statuses.get(row.status, 0) + row.n
    # Vocabulary order: phase 1 before phase 2, recruiting before completed.
    return (
        tuple(CountRow(p.value, p.label, phases[p]) for p in TrialPhase if p in phases),
        tuple(CountRow(s.value, s.label, statuses[s]) for s in TrialStatus if s in statuses),
        sum(phases.values()),
    )


def _months_to_first_output(
    session: so.Session, period: _Period
) -> tuple[int, Decimal | None, Decimal | None]:
    """(grants with a dated output, median months, mean months), in one query."""
    first = (
        sa.select(Grant.award_date.label("award"), sa.func.min(Output.output_date).label("first"))
        .join(Attribution, Attribution.grant_id == Grant.id)
        .join(Output, Output.id == Attribution.output_id)
        .where(period.grants, _live_outputs(period.levels), Output.output_date.is_not(None))
        .group_by(Grant.id, Grant.award_date)
        .subquery("first_outputs")
    )

    def month_number(day: Any) -> Any:
        return sa.cast(sa.extract("year", day), sa.Integer) * 12 + sa.cast(
            sa.extract("month", day), sa.Integer
        )

    gap = month_number(first.c.first) - month_number(first.c.award)
    months = sa.select(sa.case((gap < 0, 0), else_=gap).label("months")).subquery("months")
    ranked = sa.select(
        months.c.months,
        sa.func.row_number().over(order_by=months.c.months).label("rank"),
        sa.func.count().over().label("n"),
        sa.func.avg(months.c.months).over().label("mean"),
    ).subquery("ranked")
    # The median is the middle row, or the mean of the two middle rows.
    row = session.execute(
        sa.select(
            sa.func.avg(ranked.c.months).label("median"),
            sa.func.max(ranked.c.n).label("n"),
            sa.func.max(ranked.c.mean).label("mean"),
        ).where(ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
    ).one()
    return (row.n or 0, _decimal(row.median, MONTH_PRECISION), _decimal(row.mean, MONTH_PRECISION))


def _further_funding(session: so.Session, period: _Period) -> Decimal:
    of_period = (
        sa.select(Attribution.output_id)
        .join(Grant, Grant.id == Attribution.grant_id)
        .where(period.grants)
    )
    total = session.scalar(
        sa.select(sa.func.sum(FurtherFunding.amount_eur))
        .join(Output, Output.id == FurtherFunding.output_id)
        .where(_live_outputs(period.levels), Output.id.in_(of_period))
    )
    return _money(total)


def _overdue(
    session: so.Session, levels: Sequence[Confidentiality], today: date, limit: int
) -> tuple[int, tuple[OverdueGrant, ...]]:
    """How many outcome reports are overdue, and the longest overdue (ix_grants_report_awaited)."""
    overdue = sa.and_(
        _live_grants(levels),
        Grant.outcome_report_due < today,
        Grant.outcome_report_received.is_(None),
    )
    count = session.scalar(sa.select(sa.func.count()).select_from(Grant).where(overdue)) or 0
    if not count:
        return 0, ()
    rows = session.execute(
        sa.select(
            Grant.id,
            Grant.reference,
            Grant.title,
            Organisation.name.label("institution"),
            Grant.outcome_report_due,
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .where(overdue)
        .order_by(Grant.outcome_report_due, Grant.id)
        .limit(limit)
    ).all()
    return count, tuple(
        OverdueGrant(
            r.id,
            r.reference,
            r.title,
            r.institution,
            r.outcome_report_due,
            (today - r.outcome_report_due).days,
        )
        for r in rows
    )


def _groups(rows: Sequence[Any], label: Callable[[Any], str]) -> tuple[GroupFunding, ...]:
    return tuple(
        GroupFunding(
            r.id if isinstance(r.id, int) else None,
            r.id if isinstance(r.id, str) else None,
            label(r),
            r.grants,
            _money(r.amount),
        )
        for r in rows
    )


def portfolio_figures(
    session: so.Session,
    start_year: int,
    end_year: int,
    levels: Sequence[Confidentiality],
    real_terms_base_year: int | None = None,
    *,
    today: date | None = None,
    top_institutions: int = TOP_INSTITUTIONS,
    overdue_limit: int = OVERDUE_LIST,
) -> PortfolioFigures:
    """Figures for the grants awarded, outputs dated and trials active in a period of years.

    Aggregates in SQL, a fixed number of queries whatever the data (at most
    thirteen, fourteen with a real-terms base year); only live records at the given
    confidentiality levels count. Overdue outcome reports are as of ``today``.
    """
    if not 1 <= start_year <= end_year <= 9998:
        raise ValueError(f"bad period {start_year}-{end_year}")
    today = today or date.today()
    period = _Period(start_year, end_year, levels)

    all_years, unconverted = _funding_by_year(session, period)
    known = {y.year: y for y in all_years}
    in_period = tuple(
        known.get(y, YearFunding(y, 0, Decimal("0.00"))) for y in range(start_year, end_year + 1)
    )
    grant_count = sum(y.grant_count for y in in_period)
    total = sum((y.amount_eur for y in in_period), Decimal("0.00"))

    programmes, _ = _grouped(
        session,
        period,
        Programme.id,
        Programme.name,
        [(Programme, Programme.id == Grant.programme_id)],
    )
    areas, _ = _grouped(
        session,
        period,
        ResearchArea.id,
        ResearchArea.name,
        [
            (grant_areas, grant_areas.c.grant_id == Grant.id),
            (ResearchArea, ResearchArea.id == grant_areas.c.research_area_id),
        ],
    )
    institutions, institution_count = _grouped(
        session,
        period,
        Organisation.id,
        Organisation.name,
        [(Organisation, Organisation.id == Grant.host_organisation_id)],
        limit=top_institutions,
    )
    countries, _ = _grouped(
        session,
        period,
        Organisation.country,
        Organisation.country,
        [(Organisation, Organisation.id == Grant.host_organisation_id)],
    )
    top = _groups(institutions, lambda r: r.label)
    others = None
    if institution_count > len(top):
        rest = institution_count - len(top)
        others = GroupFunding(
            None,
            None,
            f"{rest} other institution{'s' if rest != 1 else ''}",
            grant_count - sum(g.grant_count for g in top),
            total - sum((g.amount_eur for g in top), Decimal("0.00")),
        )

    outputs_by_type, outputs_by_year, output_count = _output_counts(session, period)
    trials_by_phase, trials_by_status, trial_count = _trial_counts(session, period)
    with_outputs, median, mean = _months_to_first_output(session, period)
    further = _further_funding(session, period)
    completed, completed_with = _completed(session, period)
    # EXISTS stops at the first fictional grant (the demo's are all fictional).
    fictional = bool(
        session.scalar(
            sa.select(sa.exists().where(Grant.is_fictional.is_(True), _live_grants(levels)))
        )
    )
    overdue_count, overdue = _overdue(session, levels, today, overdue_limit)

    real_total: Decimal | None = None
    missing: tuple[int, ...] = ()
    if real_terms_base_year is not None:
        amounts = [(y.year, y.amount_eur) for y in in_period if y.amount_eur]
        index = index_values(session, [real_terms_base_year, *(y for y, _ in amounts)])
        real_total = real_terms_sum(amounts, real_terms_base_year, index)
        missing = tuple(
            y for y in sorted({real_terms_base_year, *(y for y, _ in amounts)}) if y not in index
        )

    return PortfolioFigures(
        start_year=start_year,
        end_year=end_year,
        grant_count=grant_count,
        total_awarded_eur=total,
        unconverted_grant_count=sum(unconverted.get(y.year, 0) for y in in_period),
        real_terms_base_year=real_terms_base_year,
        real_terms_total_eur=real_total,
        real_terms_missing_years=missing,
        funding_by_year=in_period,
        funding_by_year_all=all_years,
        by_programme=_groups(programmes, lambda r: r.label or "No programme"),
        by_area=_groups(areas, lambda r: r.label or "No research area"),
        by_institution=top,
        other_institutions=others,
        institution_count=institution_count,
        by_country=_groups(countries, lambda r: _country_name(r.label)),
        output_count=output_count,
        outputs_by_type=outputs_by_type,
        outputs_by_year=outputs_by_year,
        trial_count=trial_count,
        trials_by_phase=trials_by_phase,
        trials_by_status=trials_by_status,
        grants_with_outputs=with_outputs,
        median_months_to_first_output=median,
        mean_months_to_first_output=mean,
        further_funding_eur=further,
        leverage=(further / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        if total
        else None,
        completed_grant_count=completed,
        completed_with_outputs_count=completed_with,
        completed_with_outputs_share=(Decimal(completed_with) / completed).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_EVEN
        )
        if completed
        else None,
        overdue_count=overdue_count,
        overdue=overdue,
        has_fictional_data=fictional,
    )
