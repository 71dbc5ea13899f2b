"""Read queries for fund, donor and donation pages.

Anonymous donors: every query that returns a donor's name takes ``reveal`` (True
only for staff) and, when it is False, returns "Anonymous donor" instead and never
matches or sorts on the hidden name, so trustees cannot learn it even indirectly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.queries import history_of
from app.models import (
    AuditAction,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    Fund,
    FundAllocation,
    Grant,
)
from app.models.base import Money
from app.records.listing import ListParams, Page, like_pattern, paginate, stream

ANONYMOUS = "Anonymous donor"
# Donations shown on a fund's or a donor's page; the rest are one click away.
RECENT_DONATIONS = 20


def _ilike(column: Any, text: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(column).like(like_pattern(text.lower()), escape="\\")


def _shown_name(reveal: bool) -> sa.ColumnElement[str] | so.InstrumentedAttribute[str]:
    """The donor name a viewer may see, as SQL (so sorting never uses a hidden name)."""
    if reveal:
        return Donor.name
    return sa.case((Donor.is_anonymous, sa.literal(ANONYMOUS)), else_=Donor.name)


def shown_name(name: str, is_anonymous: bool, reveal: bool) -> str:
    """The donor name a viewer may see."""
    return ANONYMOUS if is_anonymous and not reveal else name


def _deleted_filter(column: Any, params: ListParams) -> sa.ColumnElement[bool]:
    return column.is_not(None) if params.show_deleted else column.is_(None)


def _year_range(column: Any, year: int) -> sa.ColumnElement[bool]:
    return sa.and_(column >= date(year, 1, 1), column < date(year + 1, 1, 1))


# Funds -------------------------------------------------------------------------------

FUND_FILTERS = ("restricted",)
FUND_SORTS = ("name", "received", "allocated", "balance")


@dataclass(frozen=True)
class FundRow:
    id: int
    name: str
    is_restricted: bool
    received_eur: Decimal
    allocated_eur: Decimal
    balance_eur: Decimal
    deleted: bool


def _received_by_fund() -> sa.Subquery:
    return (
        sa.select(
            Donation.fund_id,
            sa.func.sum(Donation.amount_eur).label("total"),
            sa.func.count(Donation.id).label("n"),
        )
        .group_by(Donation.fund_id)
        .subquery("received")
    )


def _allocated_by_fund(levels: Sequence[Confidentiality]) -> sa.Subquery:
    # Allocations to deleted grants, or grants the viewer may not see, are not counted.
    return (
        sa.select(
            FundAllocation.fund_id,
            sa.func.sum(FundAllocation.amount_eur).label("total"),
            sa.func.count(FundAllocation.id).label("n"),
        )
        .join(Grant, Grant.id == FundAllocation.grant_id)
        .where(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))
        .group_by(FundAllocation.fund_id)
        .subquery("allocated")
    )


def _fund_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """The fund list's select: searched, filtered and sorted as asked."""
    received = _received_by_fund()
    allocated = _allocated_by_fund(levels)
    received_eur = sa.func.coalesce(received.c.total, 0)
    allocated_eur = sa.func.coalesce(allocated.c.total, 0)
    balance = sa.type_coerce(received_eur - allocated_eur, Money)
    query: Any = (
        sa.select(
            Fund.id,
            Fund.name,
            Fund.is_restricted,
            Fund.deleted_at,
            sa.type_coerce(received_eur, Money).label("received"),
            sa.type_coerce(allocated_eur, Money).label("allocated"),
            balance.label("balance"),
        )
        .outerjoin(received, received.c.fund_id == Fund.id)
        .outerjoin(allocated, allocated.c.fund_id == Fund.id)
        .where(_deleted_filter(Fund.deleted_at, params))
    )
    if params.q:
        query = query.where(sa.or_(_ilike(Fund.name, params.q), _ilike(Fund.purpose, params.q)))
    if params.filters.get("restricted") in ("restricted", "general"):
        query = query.where(Fund.is_restricted == (params.filters["restricted"] == "restricted"))
    column: Any = {
        "name": sa.func.lower(Fund.name),
        "received": received_eur,
        "allocated": allocated_eur,
        "balance": received_eur - allocated_eur,
    }[params.sort]
    order = column.desc() if params.descending else column.asc()
    return query.order_by(order, Fund.id.desc() if params.descending else Fund.id)


def _fund_row(r: Any) -> FundRow:
    return FundRow(
        r.id,
        r.name,
        r.is_restricted,
        r.received,
        r.allocated,
        r.balance,
        r.deleted_at is not None,
    )


def fund_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[FundRow]:
    """One page of funds with donations received, allocated and balance in EUR."""
    page = paginate(session, _fund_query(params, levels), params, scalars=False)
    return Page(
        items=[_fund_row(r) for r in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def fund_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[FundRow]:
    """Every fund the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _fund_query(params, levels)):
        yield from map(_fund_row, batch)


@dataclass(frozen=True)
class FundTotals:
    received_eur: Decimal
    donation_count: int
    allocated_eur: Decimal
    allocation_count: int

    @property
    def balance_eur(self) -> Decimal:
        return self.received_eur - self.allocated_eur


def fund_totals(session: so.Session, fund_id: int, levels: Sequence[Confidentiality]) -> FundTotals:
    """Donations received into a fund and what it pays towards grants, in EUR."""
    received = _received_by_fund()
    allocated = _allocated_by_fund(levels)
    row = session.execute(
        sa.select(
            sa.type_coerce(sa.func.coalesce(received.c.total, 0), Money).label("received"),
            sa.func.coalesce(received.c.n, 0).label("donations"),
            sa.type_coerce(sa.func.coalesce(allocated.c.total, 0), Money).label("allocated"),
            sa.func.coalesce(allocated.c.n, 0).label("allocations"),
        )
        .select_from(Fund)
        .outerjoin(received, received.c.fund_id == Fund.id)
        .outerjoin(allocated, allocated.c.fund_id == Fund.id)
        .where(Fund.id == fund_id)
    ).one()
    return FundTotals(row.received, int(row.donations), row.allocated, int(row.allocations))


def get_fund(session: so.Session, fund_id: int) -> Fund | None:
    """A fund by id, deleted or not."""
    return session.get(Fund, fund_id)


@dataclass(frozen=True)
class AllocationRow:
    id: int
    grant_id: int
    reference: str
    title: str
    award_date: date
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    grant_deleted: bool


def fund_allocations(
    session: so.Session, fund_id: int, levels: Sequence[Confidentiality]
) -> list[AllocationRow]:
    """What a fund pays towards each grant the viewer may see, oldest grant first."""
    rows = session.execute(
        sa.select(
            FundAllocation.id,
            FundAllocation.grant_id,
            Grant.reference,
            Grant.title,
            Grant.award_date,
            FundAllocation.amount,
            FundAllocation.currency,
            FundAllocation.amount_eur,
            Grant.deleted_at,
        )
        .join(Grant, Grant.id == FundAllocation.grant_id)
        .where(FundAllocation.fund_id == fund_id, Grant.confidentiality.in_(levels))
        .order_by(Grant.award_date, Grant.reference)
    )
    return [
        AllocationRow(
            r.id,
            r.grant_id,
            r.reference,
            r.title,
            r.award_date,
            r.amount,
            r.currency,
            r.amount_eur,
            r.deleted_at is not None,
        )
        for r in rows
    ]


def active_funds(session: so.Session, keep_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of funds open to new donations, plus the one already chosen."""
    condition: sa.ColumnElement[bool] = Fund.deleted_at.is_(None)
    if keep_id is not None:
        condition = sa.or_(condition, Fund.id == keep_id)
    return [
        (r.id, r.name)
        for r in session.execute(sa.select(Fund.id, Fund.name).where(condition).order_by(Fund.name))
    ]


# Donations ---------------------------------------------------------------------------

DONATION_FILTERS = ("year", "fund", "kind", "donor")
DONATION_SORTS = {"received_on": Donation.received_on, "amount": Donation.amount_eur}
DEFAULT_DONATION_SORT = "received_on"


@dataclass(frozen=True)
class DonationRow:
    id: int
    received_on: date
    donor_id: int
    donor_name: str
    donor_kind: DonorKind
    # True only when the viewer may see the name: staff get an "anonymous" badge.
    donor_anonymous: bool
    fund_id: int
    fund_name: str
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    reference: str | None


def _donation_select(reveal: bool) -> sa.Select[Any]:
    query: Any = (
        sa.select(
            Donation.id,
            Donation.received_on,
            Donation.donor_id,
            _shown_name(reveal).label("donor_name"),
            Donor.kind,
            Donor.is_anonymous,
            Donation.fund_id,
            Fund.name.label("fund_name"),
            Donation.amount,
            Donation.currency,
            Donation.amount_eur,
            Donation.reference,
        )
        .join(Donor, Donor.id == Donation.donor_id)
        .join(Fund, Fund.id == Donation.fund_id)
    )
    return query


def _donation_row(r: Any, reveal: bool) -> DonationRow:
    return DonationRow(
        r.id,
        r.received_on,
        r.donor_id,
        r.donor_name,
        r.kind,
        r.is_anonymous and reveal,
        r.fund_id,
        r.fund_name,
        r.amount,
        r.currency,
        r.amount_eur,
        r.reference,
    )


def _donation_conditions(params: ListParams) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if params.q:
        conditions.append(_ilike(Donation.reference, params.q))
    if (year := params.filter_int("year")) is not None:
        conditions.append(_year_range(Donation.received_on, year))
    if (fund := params.filter_int("fund")) is not None:
        conditions.append(Donation.fund_id == fund)
    if (donor := params.filter_int("donor")) is not None:
        conditions.append(Donation.donor_id == donor)
    if params.filters.get("kind") in DonorKind.__members__.values():
        conditions.append(Donor.kind == params.filters["kind"])
    return conditions


def _donation_query(params: ListParams, reveal: bool) -> sa.Select[Any]:
    """The donation list's select: filtered and sorted as asked."""
    query = _donation_select(reveal).where(*_donation_conditions(params))
    column = DONATION_SORTS[params.sort]
    order = column.desc() if params.descending else column.asc()
    return query.order_by(
        order.nulls_last(), Donation.id.desc() if params.descending else Donation.id
    )


def donation_list(session: so.Session, params: ListParams, reveal: bool) -> Page[DonationRow]:
    """One page of donations, filtered and sorted as asked."""
    page = paginate(session, _donation_query(params, reveal), params, scalars=False)
    return Page(
        items=[_donation_row(r, reveal) for r in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def donation_rows(session: so.Session, params: ListParams, reveal: bool) -> Iterator[DonationRow]:
    """Every donation the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _donation_query(params, reveal)):
        yield from (_donation_row(r, reveal) for r in batch)


def donation_list_total(session: so.Session, params: ListParams) -> Decimal:
    """The EUR total of every donation the list's filters match (all pages)."""
    total = session.scalar(
        sa.select(sa.func.sum(Donation.amount_eur))
        .join(Donor, Donor.id == Donation.donor_id)
        .where(*_donation_conditions(params))
    )
    return total or Decimal(0)


def recent_donations(
    session: so.Session,
    reveal: bool,
    *,
    fund_id: int | None = None,
    donor_id: int | None = None,
    limit: int = RECENT_DONATIONS,
) -> list[DonationRow]:
    """The latest donations into a fund or from a donor."""
    query = _donation_select(reveal)
    if fund_id is not None:
        query = query.where(Donation.fund_id == fund_id)
    if donor_id is not None:
        query = query.where(Donation.donor_id == donor_id)
    query = query.order_by(Donation.received_on.desc(), Donation.id.desc()).limit(limit)
    return [_donation_row(r, reveal) for r in session.execute(query)]


@dataclass(frozen=True)
class DonationFilterChoices:
    years: list[int]
    funds: list[tuple[int, str]]
    kinds: list[tuple[str, str]]


def donation_filter_choices(session: so.Session) -> DonationFilterChoices:
    """Options for the donation list filters."""
    year = sa.extract("year", Donation.received_on)
    years = [int(y) for y in session.scalars(sa.select(year).group_by(year).order_by(year.desc()))]
    funds = [
        (r.id, r.name) for r in session.execute(sa.select(Fund.id, Fund.name).order_by(Fund.name))
    ]
    return DonationFilterChoices(years, funds, DonorKind.choices())


def get_donation(session: so.Session, donation_id: int) -> Donation | None:
    """A donation with its donor and fund."""
    return session.scalar(
        sa.select(Donation)
        .where(Donation.id == donation_id)
        .options(so.joinedload(Donation.donor), so.joinedload(Donation.fund))
    )


# Donors ------------------------------------------------------------------------------

DONOR_FILTERS = ("kind", "anonymous")
DONOR_SORTS = ("name", "kind", "total", "last")


@dataclass(frozen=True)
class DonorRow:
    id: int
    name: str
    kind: DonorKind
    # True only when the viewer may see the name: staff get an "anonymous" badge.
    anonymous_badge: bool
    is_fictional: bool
    donation_count: int
    total_eur: Decimal
    last_donation: date | None
    deleted: bool


def _given_by_donor() -> sa.Subquery:
    return (
        sa.select(
            Donation.donor_id,
            sa.func.sum(Donation.amount_eur).label("total"),
            sa.func.count(Donation.id).label("n"),
            sa.func.max(Donation.received_on).label("last_on"),
        )
        .group_by(Donation.donor_id)
        .subquery("given")
    )


def _donor_query(params: ListParams, reveal: bool) -> Any:
    """The donor list's select: filtered and sorted as asked, never on a hidden name."""
    given = _given_by_donor()
    name = _shown_name(reveal)
    total = sa.func.coalesce(given.c.total, 0)
    query: Any = (
        sa.select(
            Donor.id,
            name.label("shown_name"),
            Donor.kind,
            Donor.is_anonymous,
            Donor.is_fictional,
            Donor.deleted_at,
            sa.func.coalesce(given.c.n, 0).label("n"),
            sa.type_coerce(total, Money).label("total"),
            given.c.last_on,
        )
        .outerjoin(given, given.c.donor_id == Donor.id)
        .where(_deleted_filter(Donor.deleted_at, params))
    )
    if params.q:
        # Match only names the viewer may see: a search must not reveal an anonymous donor.
        query = query.where(_ilike(name, params.q))
    if params.filters.get("kind") in DonorKind.__members__.values():
        query = query.where(Donor.kind == params.filters["kind"])
    if params.filters.get("anonymous") in ("yes", "no"):
        query = query.where(Donor.is_anonymous == (params.filters["anonymous"] == "yes"))
    column: Any = {
        "name": sa.func.lower(name),
        "kind": Donor.kind,
        "total": total,
        "last": given.c.last_on,
    }[params.sort]
    order = column.desc() if params.descending else column.asc()
    return query.order_by(order.nulls_last(), Donor.id.desc() if params.descending else Donor.id)


def _donor_row(r: Any, reveal: bool) -> DonorRow:
    return DonorRow(
        r.id,
        r.shown_name,
        r.kind,
        r.is_anonymous and reveal,
        r.is_fictional,
        int(r.n),
        r.total,
        r.last_on,
        r.deleted_at is not None,
    )


def donor_list(session: so.Session, params: ListParams, reveal: bool) -> Page[DonorRow]:
    """One page of donors with what each gave, filtered and sorted as asked."""
    page = paginate(session, _donor_query(params, reveal), params, scalars=False)
    return Page(
        items=[_donor_row(r, reveal) for r in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def donor_rows(session: so.Session, params: ListParams, reveal: bool) -> Iterator[DonorRow]:
    """Every donor the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _donor_query(params, reveal)):
        yield from (_donor_row(r, reveal) for r in batch)


@dataclass(frozen=True)
class DonorView:
    """A donor as the viewer may see it (the name already hidden if need be)."""

    id: int
    name: str
    kind: DonorKind
    anonymous_badge: bool
    is_anonymous: bool
    is_fictional: bool
    deleted_at: datetime | None


def donor_view(donor: Donor, reveal: bool) -> DonorView:
    """What a page may show of a donor."""
    return DonorView(
        donor.id,
        shown_name(donor.name, donor.is_anonymous, reveal),
        donor.kind,
        donor.is_anonymous and reveal,
        donor.is_anonymous,
        donor.is_fictional,
        donor.deleted_at,
    )


@dataclass(frozen=True)
class FundShare:
    fund_id: int
    fund_name: str
    donation_count: int
    total_eur: Decimal


@dataclass(frozen=True)
class DonorTotals:
    donation_count: int
    total_eur: Decimal
    first: date | None
    last: date | None
    by_fund: list[FundShare]


def donor_totals(session: so.Session, donor_id: int) -> DonorTotals:
    """What a donor gave, in all and fund by fund, in EUR."""
    rows = session.execute(
        sa.select(
            Fund.id,
            Fund.name,
            sa.func.count(Donation.id).label("n"),
            sa.type_coerce(sa.func.coalesce(sa.func.sum(Donation.amount_eur), 0), Money).label(
                "total"
            ),
            sa.func.min(Donation.received_on).label("first_on"),
            sa.func.max(Donation.received_on).label("last_on"),
        )
        .join(Donation, Donation.fund_id == Fund.id)
        .where(Donation.donor_id == donor_id)
        .group_by(Fund.id, Fund.name)
        .order_by(Fund.name)
    ).all()
    return DonorTotals(
        donation_count=sum(int(r.n) for r in rows),
        total_eur=sum((r.total for r in rows), Decimal(0)),
        first=min((r.first_on for r in rows), default=None),
        last=max((r.last_on for r in rows), default=None),
        by_fund=[FundShare(r.id, r.name, int(r.n), r.total) for r in rows],
    )


def get_donor(session: so.Session, donor_id: int) -> Donor | None:
    """A donor by id, deleted or not."""
    return session.get(Donor, donor_id)


@dataclass(frozen=True)
class DonorOption:
    id: int
    label: str


def donor_label(donor: Donor) -> str:
    """How a donor reads in the staff picker."""
    return f"{donor.name} ({donor.kind.label}{', anonymous' if donor.is_anonymous else ''})"


def donor_options(session: so.Session, text: str, limit: int = 15) -> list[DonorOption]:
    """Donors (not deleted) whose name matches, for the staff-only donor picker."""
    donors = session.scalars(
        sa.select(Donor)
        .where(Donor.deleted_at.is_(None), _ilike(Donor.name, text))
        .order_by(Donor.name, Donor.id)
        .limit(limit)
    )
    return [DonorOption(d.id, donor_label(d)) for d in donors]


# History -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    """An audit event as the history page shows it."""

    occurred_at: datetime
    actor: str | None
    action: AuditAction
    summary: str | None
    changes: dict[str, Any] | None


def _hidden(value: Any) -> Any:
    if isinstance(value, list):
        return [None if v is None else "(hidden)" for v in value]
    return "(hidden)"


def donor_history(session: so.Session, donor: Donor, reveal: bool) -> list[HistoryEntry]:
    """A donor's audit events, with every name hidden if the donor is anonymous to the viewer."""
    events = history_of(session, donor)
    hide = donor.is_anonymous and not reveal
    names = {donor.name}
    if hide:
        for event in events:
            names.update(v for v in (event.changes or {}).get("name") or [] if isinstance(v, str))
    entries = []
    for event in events:
        summary, changes = event.summary, event.changes
        if hide:
            for name in sorted(names, key=len, reverse=True):
                summary = summary.replace(name, ANONYMOUS) if summary else summary
            changes = {
                key: _hidden(value) if key == "name" else value
                for key, value in (changes or {}).items()
            }
        entries.append(HistoryEntry(event.occurred_at, event.actor, event.action, summary, changes))
    return entries
