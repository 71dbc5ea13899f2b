"""Downstream impact of a programme, an institution, a fund or a donor.

The grants behind a subject are chosen in SQL; what lies downstream of them
(outputs, trials) comes from the public functions of :mod:`app.lineage.queries`.
A donor's money is followed donations -> funds -> fund allocations -> grants,
pro rata (:data:`DONOR_METHOD`): the shares and allocations are SQL aggregates,
and only the final multiplication and rounding to the cent happen in Python,
exactly, with :class:`~decimal.Decimal`. Only frozen dataclasses of plain
values leave this module.

Every function takes the confidentiality ``levels`` of the viewer: grants and
outputs the viewer may not see are neither listed nor counted nor followed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import LEGACY_FIXED_RATES
from app.funds.queries import fund_totals, shown_name
from app.lineage.queries import DownstreamTrial, downstream_output_ids, downstream_trials
from app.models import (
    Confidentiality,
    Donation,
    Donor,
    Fund,
    FundAllocation,
    Grant,
    Organisation,
    Output,
    OutputType,
    Programme,
)
from app.models.base import Money

__all__ = [
    "DONOR_METHOD",
    "GRANT_CAP",
    "KINDS",
    "DonorFund",
    "DonorImpact",
    "FundMoney",
    "Impact",
    "ImpactGrant",
    "ImpactTotals",
    "OutputTypeCount",
    "Subject",
    "SubjectNotFound",
    "donor_impact",
    "grant_ids_for",
    "impact_of",
    "method_for",
]

KINDS = ("programme", "institution", "fund")
# Grants listed on a page; the figures always cover all of them.
GRANT_CAP = 200
CENT = Decimal("0.01")
_ITL = f"1 EUR = {LEGACY_FIXED_RATES['ITL']:,} ITL"

_WHICH_GRANTS = {
    "programme": "the grants awarded under this programme",
    "institution": "the grants hosted by this institution",
    "fund": "the grants this fund allocated money to",
}

_DOWNSTREAM = (
    "Downstream outputs are the outputs attributed to any of these grants and every output "
    "that stands on one of them through recorded output links, however many steps away; each "
    "output and each trial is counted once, however many grants or paths lead to it, and "
    '"Steps" is the shortest number of links from an output attributed directly to one of '
    "the grants. Deleted records, and grants and outputs you may not see, are left out and not "
    "followed. Other funders' grants may stand behind the same outputs: the figures show what "
    "these grants contributed to, not what they alone produced."
)

_EURO = (
    "Amounts are euro equivalents: lire and other legacy currencies converted at the "
    f"irrevocable fixed rates ({_ITL}), other currencies at the rate of the day"
)

_PRO_RATA = (
    "For each fund the donor gave to, the donor's share of the fund is the donor's donations "
    "to it divided by all donations to it (all time, in euro); for each allocation of that fund "
    "to a grant, the donor is attributed the allocation's euro amount multiplied by that share, "
    "rounded to the cent."
)

DONOR_METHOD = (
    "Money is followed from donations to funds and from funds to grants, pro rata. "
    + _PRO_RATA
    + " A grant's attributed amount is the sum over the funds that pay towards it, and the "
    "total is the sum over the grants. "
    + _EURO
    + "; donations and allocations without a euro equivalent are left out. A fund with no "
    "donations gives no attribution, and deleted funds are not counted. Total awarded is the "
    "full euro amount of the grants reached, of which the attributed amount is the donor's "
    "part. "
    + _DOWNSTREAM
    + ' Anonymous donors are never named to trustees: they read "Anonymous donor".'
)


def method_for(kind: str) -> str:
    """The method note printed next to the figures of a programme, institution or fund."""
    note = (
        f"The grants are {_WHICH_GRANTS[kind]}. Total awarded is the sum of their full "
        f"awards. {_EURO}; grants without a euro equivalent are counted but not summed. "
        + _DOWNSTREAM
    )
    if kind == "fund":
        note += (
            " Money from this fund is the sum of the euro equivalents of its allocations to "
            "these grants. A donor to this fund is credited pro rata. "
            + _PRO_RATA
            + " A fund with no donations gives no attribution. Anonymous donors are never "
            "named to trustees."
        )
    return note


class SubjectNotFound(LookupError):
    """No programme, organisation, fund or donor has the given id."""


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Subject:
    """Whose impact is shown; ``name`` is already hidden if the viewer may not read it."""

    kind: str
    id: int
    name: str
    deleted: bool


@dataclass(frozen=True)
class ImpactGrant:
    id: int
    reference: str
    title: str
    year: int
    amount_eur: Decimal | None
    # Money from the fund (fund pages) or attributed to the donor (donor pages).
    contributed_eur: Decimal | None = None


@dataclass(frozen=True)
class OutputTypeCount:
    type: OutputType
    count: int


@dataclass(frozen=True)
class ImpactTotals:
    grants: int
    eur: Decimal  # total awarded: the grants' full euro equivalents
    unconverted_grants: int  # grants without a euro equivalent, not in ``eur``
    outputs: int
    trials: int


@dataclass(frozen=True)
class FundMoney:
    """A fund's donations and what it pays towards the grants the viewer may see."""

    donations_eur: Decimal
    donation_count: int
    allocated_eur: Decimal
    allocation_count: int


@dataclass(frozen=True)
class Impact:
    """The grants of a programme, institution or fund and what lies downstream of them."""

    subject: Subject
    grants: tuple[ImpactGrant, ...]  # at most GRANT_CAP, by award date
    totals: ImpactTotals
    outputs_by_type: tuple[OutputTypeCount, ...]  # most numerous first
    trials: tuple[DownstreamTrial, ...]
    method: str
    fund: FundMoney | None = None

    @property
    def grants_capped(self) -> bool:
        return self.totals.grants > len(self.grants)


@dataclass(frozen=True)
class DonorFund:
    """What a donor gave to one fund, the donor's share of it and what that share reaches."""

    fund_id: int
    fund_name: str
    given_eur: Decimal
    fund_donations_eur: Decimal
    share: Decimal | None  # None: the fund gives no attribution (no donations in euro, deleted)
    attributed_eur: Decimal
    fund_deleted: bool


@dataclass(frozen=True)
class DonorImpact:
    subject: Subject
    given_eur: Decimal
    attributed_eur: Decimal
    funds: tuple[DonorFund, ...]
    grants: tuple[ImpactGrant, ...]  # at most GRANT_CAP, by award date; contributed = attributed
    totals: ImpactTotals
    outputs_by_type: tuple[OutputTypeCount, ...]
    trials: tuple[DownstreamTrial, ...]
    method: str = DONOR_METHOD

    @property
    def grants_capped(self) -> bool:
        return self.totals.grants > len(self.grants)


# --------------------------------------------------------------------------- helpers


def _visible_grant(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))


def _grant_ids_query(kind: str, subject_id: int, levels: Sequence[Confidentiality]) -> Any:
    query = sa.select(Grant.id).where(_visible_grant(levels))
    if kind == "programme":
        return query.where(Grant.programme_id == subject_id)
    if kind == "institution":
        return query.where(Grant.host_organisation_id == subject_id)
    if kind == "fund":
        return query.join(FundAllocation, FundAllocation.grant_id == Grant.id).where(
            FundAllocation.fund_id == subject_id
        )
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def _money(expression: Any) -> Any:
    # SUM over the scaled-integer money columns is exact; coerce it back to Decimal.
    return sa.type_coerce(sa.func.coalesce(expression, 0), Money)


def _grant_totals(session: so.Session, ids_query: Any) -> tuple[int, Decimal, int]:
    """(grants, sum of euro equivalents, grants without one) over the ids selected."""
    row = session.execute(
        sa.select(
            sa.func.count(Grant.id).label("n"),
            _money(sa.func.sum(Grant.amount_eur)).label("eur"),
            sa.func.count(Grant.amount_eur).label("converted"),
        ).where(Grant.id.in_(ids_query))
    ).one()
    return int(row.n), row.eur, int(row.n) - int(row.converted)


def _grant_page(session: so.Session, ids_query: Any, fund_id: int | None = None) -> list[Any]:
    """The first GRANT_CAP grants by award date; with ``fund_id``, what that fund pays each."""
    query: Any = sa.select(
        Grant.id, Grant.reference, Grant.title, Grant.award_date, Grant.amount_eur
    ).where(Grant.id.in_(ids_query))
    if fund_id is not None:
        query = query.add_columns(FundAllocation.amount_eur.label("contributed")).join(
            FundAllocation,
            sa.and_(FundAllocation.grant_id == Grant.id, FundAllocation.fund_id == fund_id),
        )
    return list(session.execute(query.order_by(Grant.award_date, Grant.reference).limit(GRANT_CAP)))


def _outputs_by_type(session: so.Session, output_ids: Collection[int]) -> list[OutputTypeCount]:
    if not output_ids:
        return []
    # Integers rendered inline: no bound-parameter limit however far the graph reaches.
    ids: Any = sa.bindparam("ids", sorted(output_ids), expanding=True, literal_execute=True)
    rows = session.execute(
        sa.select(Output.type, sa.func.count(Output.id).label("n"))
        .where(Output.id.in_(ids))
        .group_by(Output.type)
    )
    counts = [OutputTypeCount(row.type, int(row.n)) for row in rows]
    return sorted(counts, key=lambda c: (-c.count, c.type.label))


def _subject(session: so.Session, kind: str, subject_id: int) -> Subject:
    model: Any = {"programme": Programme, "institution": Organisation, "fund": Fund}[kind]
    row = session.execute(
        sa.select(model.name, model.deleted_at).where(model.id == subject_id)
    ).one_or_none()
    if row is None:
        raise SubjectNotFound(f"No {kind} with id {subject_id}")
    return Subject(kind, subject_id, row.name, row.deleted_at is not None)


# ------------------------------------------------------------ programme, institution, fund


def grant_ids_for(
    session: so.Session, kind: str, subject_id: int, levels: Sequence[Confidentiality]
) -> list[int]:
    """Ids of the live, visible grants of a programme, an institution (hosted) or a fund."""
    return list(session.scalars(_grant_ids_query(kind, subject_id, levels)))


def impact_of(
    session: so.Session, kind: str, subject_id: int, levels: Sequence[Confidentiality]
) -> Impact:
    """The grants of a programme, institution or fund, and the outputs and trials downstream.

    About ten queries whatever the number of grants. Raises :class:`SubjectNotFound`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    subject = _subject(session, kind, subject_id)
    ids_query = _grant_ids_query(kind, subject_id, levels)
    grant_ids = list(session.scalars(ids_query))
    count, eur, unconverted = _grant_totals(session, ids_query)

    fund = None
    if kind == "fund":
        money = fund_totals(session, subject_id, levels)
        fund = FundMoney(
            money.received_eur, money.donation_count, money.allocated_eur, money.allocation_count
        )

    grants = tuple(
        ImpactGrant(
            row.id,
            row.reference,
            row.title,
            row.award_date.year,
            row.amount_eur,
            getattr(row, "contributed", None),
        )
        for row in _grant_page(session, ids_query, subject_id if kind == "fund" else None)
    )
    outputs = downstream_output_ids(session, grant_ids, levels)
    trials = downstream_trials(session, grant_ids, levels)
    return Impact(
        subject=subject,
        grants=grants,
        totals=ImpactTotals(count, eur, unconverted, len(outputs), len(trials)),
        outputs_by_type=tuple(_outputs_by_type(session, outputs)),
        trials=trials,
        method=method_for(kind),
        fund=fund,
    )


# --------------------------------------------------------------------------- donor


def _attributed(allocation_eur: Decimal, given_eur: Decimal, fund_eur: Decimal) -> Decimal:
    """allocation × given / fund, rounded half-even to the cent (exact until the rounding)."""
    with localcontext() as context:
        context.prec = 50
        return (allocation_eur * given_eur / fund_eur).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _donor_funds(session: so.Session, donor_id: int) -> list[Any]:
    """Per fund the donor gave to: what the donor gave and what everyone gave (EUR)."""
    mine = (
        sa.select(Donation.fund_id, sa.func.sum(Donation.amount_eur).label("given"))
        .where(Donation.donor_id == donor_id)
        .group_by(Donation.fund_id)
        .subquery("mine")
    )
    everyone = (
        sa.select(Donation.fund_id, sa.func.sum(Donation.amount_eur).label("total"))
        .where(Donation.fund_id.in_(sa.select(mine.c.fund_id)))
        .group_by(Donation.fund_id)
        .subquery("everyone")
    )
    return list(
        session.execute(
            sa.select(
                Fund.id,
                Fund.name,
                Fund.deleted_at,
                _money(mine.c.given).label("given"),
                _money(everyone.c.total).label("total"),
            )
            .join(mine, mine.c.fund_id == Fund.id)
            .outerjoin(everyone, everyone.c.fund_id == Fund.id)
            .order_by(Fund.name, Fund.id)
        )
    )


def donor_impact(
    session: so.Session,
    donor_id: int,
    levels: Sequence[Confidentiality],
    reveal: bool = False,
) -> DonorImpact:
    """What a donor's money reached, pro rata through funds and allocations (:data:`DONOR_METHOD`).

    ``reveal`` (staff only) shows an anonymous donor's name. About ten queries
    whatever the number of donations or allocations. Raises :class:`SubjectNotFound`.
    """
    donor = session.execute(
        sa.select(Donor.name, Donor.is_anonymous, Donor.deleted_at).where(Donor.id == donor_id)
    ).one_or_none()
    if donor is None:
        raise SubjectNotFound(f"No donor with id {donor_id}")
    subject = Subject(
        "donor",
        donor_id,
        shown_name(donor.name, donor.is_anonymous, reveal),
        donor.deleted_at is not None,
    )

    fund_rows = _donor_funds(session, donor_id)
    counted = {
        row.id: (row.given, row.total)
        for row in fund_rows
        if row.deleted_at is None and row.given > 0 and row.total > 0
    }
    reached = (
        sa.select(FundAllocation.grant_id)
        .join(Grant, Grant.id == FundAllocation.grant_id)
        .where(
            FundAllocation.fund_id.in_(list(counted)),
            FundAllocation.amount_eur.is_not(None),
            _visible_grant(levels),
        )
    )
    by_fund: dict[int, Decimal] = dict.fromkeys(counted, Decimal("0.00"))
    by_grant: dict[int, Decimal] = {}
    if counted:
        # One row per allocation (fund, grant are unique together), never per donation.
        for row in session.execute(
            reached.add_columns(FundAllocation.fund_id, FundAllocation.amount_eur)
        ):
            given, total = counted[row.fund_id]
            amount = _attributed(row.amount_eur, given, total)
            by_fund[row.fund_id] += amount
            by_grant[row.grant_id] = by_grant.get(row.grant_id, Decimal("0.00")) + amount

    funds = tuple(
        DonorFund(
            fund_id=row.id,
            fund_name=row.name,
            given_eur=row.given,
            fund_donations_eur=row.total,
            share=(row.given / row.total) if row.id in counted else None,
            attributed_eur=by_fund.get(row.id, Decimal("0.00")),
            fund_deleted=row.deleted_at is not None,
        )
        for row in fund_rows
    )
    grant_ids = list(by_grant)
    count, eur, unconverted = (0, Decimal("0.00"), 0)
    grants: tuple[ImpactGrant, ...] = ()
    if grant_ids:
        count, eur, unconverted = _grant_totals(session, reached)
        grants = tuple(
            ImpactGrant(
                row.id,
                row.reference,
                row.title,
                row.award_date.year,
                row.amount_eur,
                by_grant[row.id],
            )
            for row in _grant_page(session, reached)
        )
    outputs = downstream_output_ids(session, grant_ids, levels)
    trials = downstream_trials(session, grant_ids, levels)
    return DonorImpact(
        subject=subject,
        given_eur=sum((row.given for row in fund_rows), Decimal("0.00")),
        attributed_eur=sum(by_grant.values(), Decimal("0.00")),
        funds=funds,
        grants=grants,
        totals=ImpactTotals(count, eur, unconverted, len(outputs), len(trials)),
        outputs_by_type=tuple(_outputs_by_type(session, outputs)),
        trials=trials,
    )
