"""Read queries of the annual impact report: SQL aggregates in, frozen plain rows out.

Every function runs a fixed number of queries whatever the number of grants
(the only per-item queries are the lineages of the featured trials, in
``reports.annual``). Visibility: grants and outputs are filtered by the
confidentiality levels given (trustees' reports: public + trustees) and soft
deleted records never count.

Definitions: the SQL conditions of every figure (which grants count, what
"awarded", "active" and "appeared in the period" mean for grants, trials and
outputs) live in :mod:`app.portfolio.definitions`, shared with the /portfolio
figures so the report and the page agree; the report's method notes state
them in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.highlights.queries import highlights_between
from app.models import (
    ClinicalTrial,
    Confidentiality,
    Donation,
    Donor,
    Fund,
    FundAllocation,
    Grant,
    LinkRelation,
    Organisation,
    Output,
    OutputLink,
    OutputType,
    Person,
    Programme,
    ResearchArea,
    TrialPhase,
    TrialRegistryId,
    TrialStatus,
    grant_areas,
)
from app.portfolio.definitions import (
    awarded_between,
    counted_grant,
    grant_active_between,
    output_dated_between,
    trial_active_between,
    trial_start,
)

ZERO = Decimal("0.00")
NO_AREA = "No research area"
ANONYMOUS = "Anonymous donor"


@dataclass(frozen=True)
class Period:
    """One calendar year or a range of years, inclusive."""

    start_year: int
    end_year: int

    def __post_init__(self) -> None:
        if self.end_year < self.start_year:
            raise ValueError("The period ends before it starts")

    @property
    def first_day(self) -> date:
        return date(self.start_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.end_year, 12, 31)

    @property
    def label(self) -> str:
        if self.start_year == self.end_year:
            return str(self.start_year)
        return f"{self.start_year}–{self.end_year}"

    @property
    def is_single_year(self) -> bool:
        return self.start_year == self.end_year

    def contains(self, day: date | None) -> bool:
        return day is not None and self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class GrantFigures:
    awarded_count: int
    awarded_eur: Decimal
    awarded_unconverted: int  # awarded in the period without a euro equivalent
    institution_count: int  # hosts of the grants awarded in the period
    active_count: int
    cumulative_count: int  # awarded up to the end of the period
    cumulative_eur: Decimal
    first_award_year: int | None


@dataclass(frozen=True)
class YearAmount:
    year: int
    count: int
    amount_eur: Decimal


@dataclass(frozen=True)
class AmountRow:
    label: str
    count: int
    amount_eur: Decimal


@dataclass(frozen=True)
class CountRow:
    label: str
    in_period: int
    to_date: int  # up to the end of the period


@dataclass(frozen=True)
class TrialRow:
    output_id: int
    title: str
    acronym: str | None
    phase: TrialPhase
    status: TrialStatus
    registry_ids: tuple[str, ...]
    start: date | None  # when it began: see trial_start()
    completion: date | None
    results: tuple[date, ...]  # dates of outputs reporting its results
    active: bool = False  # active in the period asked for (trial_active_between)

    @property
    def name(self) -> str:
        return self.acronym or self.title


@dataclass(frozen=True)
class FundRow:
    name: str
    is_restricted: bool
    donation_count: int
    received_eur: Decimal
    allocated_eur: Decimal  # to grants awarded in the period


@dataclass(frozen=True)
class DonorRow:
    name: str  # "Anonymous donor" for anonymous donors: the name never leaves SQL
    kind: str
    amount_eur: Decimal


@dataclass(frozen=True)
class DonationFigures:
    funds: tuple[FundRow, ...]
    donation_count: int
    received_eur: Decimal
    donor_count: int
    anonymous_donor_count: int
    top_donors: tuple[DonorRow, ...]


@dataclass(frozen=True)
class HighlightItem:
    """A highlight written by staff, as the report prints it."""

    year: int
    title: str
    paragraphs: tuple[str, ...]  # plain text; the template escapes it
    about: str | None  # "STEMS", "FMR-2010-001 · …": only when visible at the report's levels
    about_kind: str | None  # "Clinical trial", "Grant", ...


@dataclass(frozen=True)
class RegisterRow:
    reference: str
    title: str
    award_date: date
    programme: str | None
    institution: str
    investigator: str | None
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    status: str


def _visible_grant(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(counted_grant(), Grant.confidentiality.in_(levels))


def _visible_output(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Output.deleted_at.is_(None), Output.confidentiality.in_(levels))


def _awarded_in(period: Period) -> sa.ColumnElement[bool]:
    return awarded_between(period.first_day, period.last_day)


def _eur_sum(condition: sa.ColumnElement[bool] | None = None) -> Any:
    """SUM of euro amounts (optionally of the rows matching), typed so cents come back exact."""
    value: Any = Grant.amount_eur if condition is None else sa.case((condition, Grant.amount_eur))
    return sa.type_coerce(sa.func.sum(value), Grant.amount_eur.type)


def _count_if(condition: sa.ColumnElement[bool]) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def active_condition(period: Period) -> sa.ColumnElement[bool]:
    """Grants running at some time in the period (see the module docstring)."""
    return grant_active_between(period.first_day, period.last_day)


def grant_figures(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> GrantFigures:
    """Awarded, active and cumulative grant figures for the period (two queries)."""
    awarded = _awarded_in(period)
    to_date = Grant.award_date <= period.last_day
    row = session.execute(
        sa.select(
            _count_if(awarded),
            _eur_sum(awarded),
            _count_if(sa.and_(awarded, Grant.amount_eur.is_(None))),
            _count_if(active_condition(period)),
            _count_if(to_date),
            _eur_sum(to_date),
            sa.func.min(Grant.award_date),
        ).where(_visible_grant(levels))
    ).one()
    institutions = session.scalar(
        sa.select(sa.func.count(sa.distinct(Grant.host_organisation_id))).where(
            _visible_grant(levels), awarded
        )
    )
    return GrantFigures(
        awarded_count=int(row[0]),
        awarded_eur=row[1] or ZERO,
        awarded_unconverted=int(row[2]),
        institution_count=institutions or 0,
        active_count=int(row[3]),
        cumulative_count=int(row[4]),
        cumulative_eur=row[5] or ZERO,
        first_award_year=row[6].year if row[6] else None,
    )


def funding_by_year(
    session: so.Session, levels: Sequence[Confidentiality], until_year: int
) -> tuple[YearAmount, ...]:
    """Grants and euro awarded in every year from the first award to ``until_year``."""
    year = sa.extract("year", Grant.award_date)
    rows = session.execute(
        sa.select(year.label("year"), sa.func.count(Grant.id), _eur_sum())
        .where(_visible_grant(levels), Grant.award_date <= date(until_year, 12, 31))
        .group_by(year)
        .order_by(year)
    ).all()
    found = {int(r[0]): (int(r[1]), r[2] or ZERO) for r in rows}
    if not found:
        return ()
    # Years without awards appear as zero bars, not as gaps closing up.
    return tuple(YearAmount(y, *found.get(y, (0, ZERO))) for y in range(min(found), until_year + 1))


def funding_by_programme(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> tuple[AmountRow, ...]:
    """Awards of the period by programme (single year) or by kind of programme (a range).

    Programmes are usually per call ("Annual call 2023"), so across several
    years their kinds are the meaningful grouping.
    """
    if period.is_single_year:
        label: Any = sa.func.coalesce(Programme.name, "No programme")
    else:
        label = Programme.kind
    rows = session.execute(
        sa.select(label.label("label"), sa.func.count(Grant.id), _eur_sum())
        .select_from(Grant)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .where(_visible_grant(levels), _awarded_in(period))
        .group_by(label)
    ).all()
    result = []
    for r in rows:
        text = r[0]
        if not period.is_single_year:
            text = "No programme" if text is None else text.label
        result.append(AmountRow(str(text), int(r[1]), r[2] or ZERO))
    return tuple(sorted(result, key=lambda row: (-row.amount_eur, row.label)))


def funding_by_area(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> tuple[AmountRow, ...]:
    """Awards of the period by research area; a grant with several areas counts in each.

    Grants without an area make a "No research area" row, so every grant is in the chart.
    """
    rows = session.execute(
        sa.select(ResearchArea.name, sa.func.count(Grant.id), _eur_sum())
        .select_from(Grant)
        .outerjoin(grant_areas, grant_areas.c.grant_id == Grant.id)
        .outerjoin(ResearchArea, ResearchArea.id == grant_areas.c.research_area_id)
        .where(_visible_grant(levels), _awarded_in(period))
        .group_by(ResearchArea.name)
    ).all()
    result = [AmountRow(r[0] or NO_AREA, int(r[1]), r[2] or ZERO) for r in rows]
    return tuple(sorted(result, key=lambda row: (-row.amount_eur, row.label)))


def funding_by_institution(
    session: so.Session, period: Period, levels: Sequence[Confidentiality], limit: int
) -> tuple[tuple[AmountRow, ...], AmountRow | None]:
    """The ``limit`` institutions awarded most in the period, and the rest summed up."""
    amount = _eur_sum()
    rows = session.execute(
        sa.select(Organisation.name, sa.func.count(Grant.id), amount)
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .where(_visible_grant(levels), _awarded_in(period))
        .group_by(Organisation.id, Organisation.name)
        # The portfolio's order, ties included: amount, then number of grants, then name.
        .order_by(
            sa.func.coalesce(amount, 0).desc(), sa.func.count(Grant.id).desc(), Organisation.name
        )
    ).all()
    top = tuple(AmountRow(r[0], int(r[1]), r[2] or ZERO) for r in rows[:limit])
    rest = rows[limit:]
    others = None
    if rest:
        others = AmountRow(
            f"{len(rest)} other institution{'s' if len(rest) != 1 else ''}",
            sum(int(r[1]) for r in rest),
            sum((r[2] or ZERO for r in rest), ZERO),
        )
    return top, others


def outputs_by_type(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> tuple[CountRow, ...]:
    """Outputs dated in the period and up to its end, by Researchfish type."""
    in_period = output_dated_between(period.first_day, period.last_day)
    rows = session.execute(
        sa.select(Output.type, _count_if(in_period), sa.func.count(Output.id))
        .where(_visible_output(levels), Output.output_date <= period.last_day)
        .group_by(Output.type)
    ).all()
    counts = {r[0]: (int(r[1]), int(r[2])) for r in rows}
    return tuple(CountRow(kind.label, *counts[kind]) for kind in OutputType if kind in counts)


def trials(
    session: so.Session, levels: Sequence[Confidentiality], period: Period | None = None
) -> tuple[TrialRow, ...]:
    """Every visible clinical trial with its dates and results dates (three queries).

    With a period, each row also says whether the trial was active in it.
    """
    start = trial_start()
    active: Any = sa.false()
    if period is not None:
        active = trial_active_between(period.first_day, period.last_day)
    rows = session.execute(
        sa.select(
            Output.id,
            Output.title,
            ClinicalTrial.acronym,
            ClinicalTrial.phase,
            ClinicalTrial.status,
            start.label("start"),
            ClinicalTrial.completion_date,
            active.label("active"),
        )
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(_visible_output(levels))
        .order_by(start.nulls_last(), Output.id)
    ).all()
    if not rows:
        return ()
    ids = [r.id for r in rows]
    registry: dict[int, list[str]] = {}
    for trial_id, value in session.execute(
        sa.select(TrialRegistryId.trial_output_id, TrialRegistryId.value)
        .where(TrialRegistryId.trial_output_id.in_(ids))
        .order_by(TrialRegistryId.trial_output_id, TrialRegistryId.scheme)
    ):
        registry.setdefault(trial_id, []).append(value)
    results: dict[int, list[date]] = {}
    for trial_id, day in session.execute(
        sa.select(OutputLink.upstream_output_id, Output.output_date)
        .join(Output, Output.id == OutputLink.output_id)
        .where(
            OutputLink.upstream_output_id.in_(ids),
            OutputLink.relation == LinkRelation.REPORTS_RESULTS_OF,
            Output.output_date.is_not(None),
            _visible_output(levels),
        )
        .order_by(Output.output_date)
    ):
        if day is not None:  # filtered in SQL; this tells the type checker
            results.setdefault(trial_id, []).append(day)
    return tuple(
        TrialRow(
            output_id=r.id,
            title=r.title,
            acronym=r.acronym,
            phase=r.phase,
            status=r.status,
            registry_ids=tuple(registry.get(r.id, ())),
            start=r.start,
            completion=r.completion_date,
            results=tuple(results.get(r.id, ())),
            active=bool(r.active),
        )
        for r in rows
    )


def trial_featured_reason(trial: TrialRow, period: Period) -> str | None:
    """Why a trial belongs to the period's report, or None when it does not.

    A trial is featured when it was active in the period (``trials`` asked
    with that period: :func:`trial_active_between`) or when results of it were
    published in the period.
    """
    if trial.active:
        return "started in the period" if period.contains(trial.start) else "running in the period"
    if any(period.contains(day) for day in trial.results):
        return "results published in the period"
    return None


def donation_figures(
    session: so.Session, period: Period, levels: Sequence[Confidentiality], top: int
) -> DonationFigures:
    """Donations received in the period by fund, donors, and fund allocations (four queries)."""
    received = Donation.received_on.between(period.first_day, period.last_day)
    donation_eur = sa.type_coerce(sa.func.sum(Donation.amount_eur), Donation.amount_eur.type)
    by_fund = {
        r[0]: (int(r[1]), r[2] or ZERO)
        for r in session.execute(
            sa.select(Donation.fund_id, sa.func.count(Donation.id), donation_eur)
            .join(Donor, Donor.id == Donation.donor_id)
            .where(received, Donor.deleted_at.is_(None))
            .group_by(Donation.fund_id)
        )
    }
    allocated_eur = sa.type_coerce(
        sa.func.sum(FundAllocation.amount_eur), FundAllocation.amount_eur.type
    )
    allocated = {
        r[0]: r[1] or ZERO
        for r in session.execute(
            sa.select(FundAllocation.fund_id, allocated_eur)
            .join(Grant, Grant.id == FundAllocation.grant_id)
            .where(_visible_grant(levels), _awarded_in(period))
            .group_by(FundAllocation.fund_id)
        )
    }
    funds = tuple(
        FundRow(
            name=name,
            is_restricted=restricted,
            donation_count=by_fund.get(fund_id, (0, ZERO))[0],
            received_eur=by_fund.get(fund_id, (0, ZERO))[1],
            allocated_eur=allocated.get(fund_id, ZERO),
        )
        for fund_id, name, restricted in session.execute(
            sa.select(Fund.id, Fund.name, Fund.is_restricted)
            .where(Fund.deleted_at.is_(None))
            .order_by(Fund.name)
        )
        if fund_id in by_fund or fund_id in allocated
    )
    # The name is replaced in SQL: an anonymous donor's name never reaches Python.
    shown = sa.case((Donor.is_anonymous, sa.literal(ANONYMOUS)), else_=Donor.name)
    per_donor = (
        sa.select(
            Donor.id.label("donor_id"),
            shown.label("name"),
            Donor.kind.label("kind"),
            Donor.is_anonymous.label("is_anonymous"),
            donation_eur.label("amount"),
        )
        .join(Donation, Donation.donor_id == Donor.id)
        .where(received, Donor.deleted_at.is_(None))
        .group_by(Donor.id, shown, Donor.kind, Donor.is_anonymous)
        .subquery("per_donor")
    )
    donors = session.execute(
        sa.select(
            per_donor.c.name, per_donor.c.kind, per_donor.c.is_anonymous, per_donor.c.amount
        ).order_by(sa.func.coalesce(per_donor.c.amount, 0).desc(), per_donor.c.donor_id)
    ).all()
    return DonationFigures(
        funds=funds,
        donation_count=sum(count for count, _ in by_fund.values()),
        received_eur=sum((amount for _, amount in by_fund.values()), ZERO),
        donor_count=len(donors),
        anonymous_donor_count=sum(1 for d in donors if d.is_anonymous),
        top_donors=tuple(DonorRow(d.name, d.kind.label, d.amount or ZERO) for d in donors[:top]),
    )


def grant_register(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> tuple[RegisterRow, ...]:
    """Every grant awarded in the period, by award date (one query)."""
    rows = session.execute(
        sa.select(
            Grant.reference,
            Grant.title,
            Grant.award_date,
            Programme.name.label("programme"),
            Organisation.name.label("institution"),
            Person.given_names,
            Person.family_name,
            Grant.amount_awarded,
            Grant.currency,
            Grant.amount_eur,
            Grant.status,
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .outerjoin(Person, Person.id == Grant.principal_investigator_id)
        .where(_visible_grant(levels), _awarded_in(period))
        .order_by(Grant.award_date, Grant.reference)
    ).all()
    return tuple(
        RegisterRow(
            reference=r.reference,
            title=r.title,
            award_date=r.award_date,
            programme=r.programme,
            institution=r.institution,
            investigator=(f"{r.given_names} {r.family_name}".strip() if r.family_name else None),
            amount=r.amount_awarded,
            currency=r.currency,
            amount_eur=r.amount_eur,
            status=r.status.label,
        )
        for r in rows
    )


def highlights(
    session: so.Session, period: Period, levels: Sequence[Confidentiality]
) -> tuple[HighlightItem, ...]:
    """The staff highlights of the period's years, by year and in their order (one query)."""
    return tuple(
        HighlightItem(
            year=row.year,
            title=row.title,
            paragraphs=row.paragraphs,
            about=row.subject.label if row.subject else None,
            about_kind=row.subject.kind_label if row.subject else None,
        )
        for row in highlights_between(session, period.start_year, period.end_year, levels)
    )


def has_fictional_data(session: so.Session) -> bool:
    """Whether any record is flagged fictional (the demo foundation): one query."""
    flagged = [
        sa.exists().where(model.is_fictional.is_(True))  # type: ignore[attr-defined]
        for model in (Grant, Output, Organisation, Donor, Person)
    ]
    return bool(session.scalar(sa.select(sa.or_(*flagged))))


def first_award_year(session: so.Session, levels: Sequence[Confidentiality]) -> int | None:
    """The year of the earliest visible award, for the report form's year choices."""
    first = session.scalar(sa.select(sa.func.min(Grant.award_date)).where(_visible_grant(levels)))
    return first.year if first else None
