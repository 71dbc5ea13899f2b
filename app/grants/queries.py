"""Read queries for grant pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import (
    Attribution,
    ClinicalTrial,
    CoFunding,
    Confidentiality,
    FundAllocation,
    Grant,
    GrantInvestigator,
    GrantStatus,
    Organisation,
    Output,
    Programme,
    ResearchArea,
    grant_areas,
)
from app.records.cache import cached_read
from app.records.listing import (
    ListParams,
    OrderedJoin,
    Page,
    distinct_years,
    like_pattern,
    page_number,
    stream,
    totals_for,
    unindexed,
)
from app.visibility import ALL_LEVELS

FILTERS = ("year", "programme", "area", "status", "institution")
SORTS = {
    "award_date": Grant.award_date,
    "reference": Grant.reference,
    "title": Grant.title,
    "institution": Organisation.name,
    "amount_eur": Grant.amount_eur,
    "status": Grant.status,
}
DEFAULT_SORT = "award_date"
# Each sort with its tie-breakers (ending in a unique column, so pages never overlap), in the
# order of an index: ix_grants_award_date_id, uq_grants_reference, ix_grants_live_title,
# ix_organisations_name then ix_grants_host_organisation_id, ix_grants_live_amount and
# ix_grants_live_status (migration 97ea8edde88f).
ORDERS: dict[str, tuple[Any, ...]] = {
    "award_date": (Grant.award_date, Grant.id),
    "reference": (Grant.reference,),
    "title": (Grant.title, Grant.id),
    "institution": (Organisation.name, Organisation.id, Grant.id),
    "amount_eur": (Grant.amount_eur, Grant.id),
    "status": (Grant.status, Grant.award_date, Grant.id),
}


@dataclass(frozen=True)
class GrantRow:
    id: int
    reference: str
    title: str
    institution: str
    programme: str | None
    award_date: date
    amount_awarded: Decimal
    currency: str
    amount_eur: Decimal | None
    status: GrantStatus
    confidentiality: Confidentiality
    deleted: bool


@dataclass(frozen=True)
class FilterChoices:
    """Shared between requests (cached): never changed in place."""

    years: list[int]
    programmes: list[tuple[int, str]]
    areas: list[tuple[int, str]]


# What the cached answers read (app/records/cache.py): the count's filters touch only grants
# and grant_areas; the options also list programmes and research areas.
COUNT_TABLES = ("grants", "grant_areas")
CHOICE_TABLES = ("grants", "programmes", "research_areas")

# How a page is read depends on how many grants match (the COUNT comes first). Up to LARGE,
# the matching grants are picked by the filters' indexes and sorted: reading a sort's index
# in order instead, the planner would expect to meet them early, but filters correlate with
# dates (a programme's grants are all of one year), and PostgreSQL then read 90,000 rows for
# a page. Above LARGE, the sort's index is read in order, testing the filters on the way.
LARGE = 10_000
# Filters whose index also gives a sort's order (ix_grants_award_date_id, ix_grants_live_status).
SERVED_BY_SORT_INDEX = {"award_date": {"year", "status"}, "status": {"status"}}


def _grant_conditions(
    params: ListParams, levels: Sequence[Confidentiality], for_sorted_scan: bool = False
) -> list[sa.ColumnElement[bool]]:
    """The list's filters, on the grants table alone (so a COUNT needs no join).

    ``for_sorted_scan`` (many rows match, sorted on another column) keeps SQLite from looking
    the filtered columns up by index, which would make it sort every matching row.
    """

    def col(column: Any) -> Any:
        return unindexed(column) if for_sorted_scan else column

    conditions: list[sa.ColumnElement[bool]] = [
        Grant.deleted_at.is_not(None) if params.show_deleted else Grant.deleted_at.is_(None)
    ]
    if set(levels) != set(ALL_LEVELS):
        # For staff the test holds for every row: leaving it out lets counts use an index alone.
        conditions.append(Grant.confidentiality.in_(levels))
    if params.q:
        pattern = like_pattern(params.q.lower())
        conditions.append(
            sa.or_(
                sa.func.lower(Grant.title).like(pattern, escape="\\"),
                sa.func.lower(Grant.reference).like(pattern, escape="\\"),
            )
        )
    if (year := params.filter_int("year")) is not None and 1 <= year <= 9998:
        conditions.append(col(Grant.award_date) >= date(year, 1, 1))
        conditions.append(col(Grant.award_date) < date(year + 1, 1, 1))
    if (programme := params.filter_int("programme")) is not None:
        conditions.append(col(Grant.programme_id) == programme)
    if (institution := params.filter_int("institution")) is not None:
        conditions.append(col(Grant.host_organisation_id) == institution)
    if (area := params.filter_int("area")) is not None:
        conditions.append(
            col(Grant.id).in_(
                sa.select(grant_areas.c.grant_id).where(grant_areas.c.research_area_id == area)
            )
        )
    if params.filters.get("status") in GrantStatus.__members__.values():
        conditions.append(col(Grant.status) == params.filters["status"])
    return conditions


def _columns() -> tuple[Any, ...]:
    return (
        Grant.id,
        Grant.reference,
        Grant.title,
        Organisation.name.label("institution"),
        Programme.name.label("programme"),
        Grant.award_date,
        Grant.amount_awarded,
        Grant.currency,
        Grant.amount_eur,
        Grant.status,
        Grant.confidentiality,
        Grant.deleted_at,
    )


def _order(params: ListParams, keys: Sequence[Any]) -> list[Any]:
    direction = sa.desc if params.descending else sa.asc
    order = [direction(key) for key in keys]
    if params.sort == "amount_eur":  # the only sort column that may be empty
        # NULLS LAST only where needed: on NOT NULL columns it would keep PostgreSQL
        # from reading the rows in index order (a sort of every row instead).
        order[0] = order[0].nulls_last()
    return order


def _grant_select(
    params: ListParams, conditions: Sequence[sa.ColumnElement[bool]], large: bool = False
) -> sa.Select[Any]:
    """The list's rows in the order asked, with tie-breakers so that pages never overlap."""
    if large and params.sort == "institution":
        # Institutions in name order, each one's grants by index: no sort of every grant.
        source: Any = OrderedJoin(
            Organisation.__table__,
            Grant.__table__,
            Organisation.id == Grant.host_organisation_id,
        )
    else:
        source = sa.join(
            Grant.__table__, Organisation.__table__, Organisation.id == Grant.host_organisation_id
        )
    return (
        sa.select(*_columns())
        .select_from(source)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .where(*conditions)
        .order_by(*_order(params, ORDERS[params.sort]))
    )


def _sorted_apart(
    params: ListParams, conditions: Sequence[sa.ColumnElement[bool]], limit: int, offset: int
) -> Any:
    """One page of the list when few grants match: those grants with their sort keys, picked
    on their own (MATERIALIZED: by the filters' indexes), sorted, cut to the page, and only
    then joined to what the page shows."""
    keys = ORDERS[params.sort]
    matching = sa.select(
        Grant.id.label("grant_id"), *(key.label(f"key{i}") for i, key in enumerate(keys))
    )
    if params.sort == "institution":
        matching = matching.join(Organisation, Organisation.id == Grant.host_organisation_id)
    picked = matching.where(*conditions).cte("matching").prefix_with("MATERIALIZED")
    key_columns = [picked.c[f"key{i}"] for i in range(len(keys))]
    page = (
        sa.select(picked)
        .order_by(*_order(params, key_columns))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return (
        sa.select(*_columns())
        .select_from(page)
        .join(Grant, Grant.id == page.c.grant_id)
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .order_by(*_order(params, [page.c[f"key{i}"] for i in range(len(keys))]))
    )


def _grant_row(r: Any) -> GrantRow:
    return GrantRow(
        r.id,
        r.reference,
        r.title,
        r.institution,
        r.programme,
        r.award_date,
        r.amount_awarded,
        r.currency,
        r.amount_eur,
        r.status,
        r.confidentiality,
        r.deleted_at is not None,
    )


def _served_by_sort_index(params: ListParams) -> bool:
    """Whether the sort's own index finds the filtered rows (none, or a year or status)."""
    asked = set(params.filters) | ({"q"} if params.q else set())
    return asked <= SERVED_BY_SORT_INDEX.get(params.sort, set())


def grant_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[GrantRow]:
    """One page of the grant register, filtered and sorted as asked."""
    # Every grant has one host and at most one programme: the joins never change the count.
    count = sa.select(sa.func.count()).select_from(Grant).where(*_grant_conditions(params, levels))
    # One answer for every page and order of the same filters.
    question = replace(params, sort="", descending=False, page=1).cache_key("grant count", levels)
    total = cached_read(session, COUNT_TABLES, question, lambda: session.scalar(count) or 0)
    number = page_number(params, total)
    offset = (number - 1) * params.per_page
    if total > LARGE:
        hinted = _grant_conditions(params, levels, params.sort != "award_date")
        query = _grant_select(params, hinted, large=True).limit(params.per_page).offset(offset)
    elif _served_by_sort_index(params):
        query = _grant_select(params, _grant_conditions(params, levels))
        query = query.limit(params.per_page).offset(offset)
    else:
        query = _sorted_apart(params, _grant_conditions(params, levels), params.per_page, offset)
    rows = session.execute(query)
    return Page([_grant_row(r) for r in rows], number, params.per_page, total)


def visible_live_grants(levels: Sequence[Confidentiality]) -> list[sa.ColumnElement[bool]]:
    """Live grants at the viewer's levels: what other registers count and sum per row."""
    conditions: list[sa.ColumnElement[bool]] = [Grant.deleted_at.is_(None)]
    if set(levels) != set(ALL_LEVELS):
        # For staff the test holds for every row: leaving it out lets an index alone answer.
        conditions.append(Grant.confidentiality.in_(levels))
    return conditions


def grant_figures(
    session: so.Session, key: Any, ids: Sequence[int], levels: Sequence[Confidentiality]
) -> dict[Any, tuple[Any, ...]]:
    """Grant count and euro total per value of ``key`` (host, programme, investigator) for
    one page's ids, over the grants the viewer may see; kept until grants change.

    Summed from the grants through ``key``'s foreign-key index: indexes carrying the summed
    columns as well cost the grant import a tenth of its speed.
    """
    return cached_read(
        session,
        ("grants",),
        ("grant figures", key.key, tuple(ids), tuple(levels)),
        lambda: totals_for(
            session,
            key,
            ids,
            (sa.func.count(), sa.func.sum(Grant.amount_eur)),
            visible_live_grants(levels),
        ),
    )


def grant_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[GrantRow]:
    """Every grant the list's filters match, in the list's order, read in batches (exports)."""
    # Every row is read: sorting them all is the cheapest plan, no hints wanted.
    query = _grant_select(params, _grant_conditions(params, levels))
    for batch in stream(session, query):
        yield from map(_grant_row, batch)


def filter_choices(session: so.Session) -> FilterChoices:
    """Options for the list filters (kept until grants, programmes or areas change)."""
    return cached_read(session, CHOICE_TABLES, "grant filter choices", lambda: _choices(session))


def _choices(session: so.Session) -> FilterChoices:
    years = distinct_years(session, Grant.award_date, Grant.deleted_at.is_(None))
    programmes = [
        (p.id, p.name)
        for p in session.execute(
            sa.select(Programme.id, Programme.name)
            .where(Programme.deleted_at.is_(None))
            .order_by(Programme.year.desc().nulls_last(), Programme.name)
        )
    ]
    areas = [
        (a.id, a.name)
        for a in session.execute(
            sa.select(ResearchArea.id, ResearchArea.name).order_by(ResearchArea.name)
        )
    ]
    return FilterChoices(years, programmes, areas)


def related_grants(
    grant: Grant, levels: Sequence[Confidentiality]
) -> tuple[Grant | None, list[Grant]]:
    """The grant it continues and the grants continuing it, as far as the viewer may see them."""

    def visible(other: Grant | None) -> bool:
        return other is not None and other.deleted_at is None and other.confidentiality in levels

    previous = grant.previous_grant if visible(grant.previous_grant) else None
    return previous, [c for c in grant.continuations if visible(c)]


def get_grant(
    session: so.Session, grant_id: int, levels: Sequence[Confidentiality]
) -> Grant | None:
    """A grant with what its page shows, loaded up front (no lazy loads in templates)."""
    return session.scalar(
        sa.select(Grant)
        .where(Grant.id == grant_id, Grant.confidentiality.in_(levels))
        .options(
            so.joinedload(Grant.host),
            so.joinedload(Grant.programme),
            so.joinedload(Grant.principal_investigator),
            so.joinedload(Grant.previous_grant),
            so.selectinload(Grant.areas),
            so.selectinload(Grant.payments),
            so.selectinload(Grant.investigators).joinedload(GrantInvestigator.person),
            so.selectinload(Grant.co_fundings).joinedload(CoFunding.funder),
            so.selectinload(Grant.fund_allocations).joinedload(FundAllocation.fund),
            so.selectinload(Grant.continuations),
        )
    )


@dataclass(frozen=True)
class AttributedOutput:
    output_id: int
    title: str
    type_label: str
    year: int | None
    share: Decimal | None
    evidence_label: str
    confirmed: bool
    is_trial: bool


def attributed_outputs(
    session: so.Session, grant_id: int, levels: Sequence[Confidentiality]
) -> list[AttributedOutput]:
    """Outputs this grant is credited with, newest first."""
    rows = session.execute(
        sa.select(
            Output.id,
            Output.title,
            Output.type,
            Output.output_date,
            Attribution.share,
            Attribution.evidence,
            Attribution.confirmed_by_id,
            ClinicalTrial.output_id.label("trial_id"),
        )
        .join(Attribution, Attribution.output_id == Output.id)
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(
            Attribution.grant_id == grant_id,
            Output.deleted_at.is_(None),
            Output.confidentiality.in_(levels),
        )
        .order_by(Output.output_date.desc().nulls_last(), Output.id)
    )
    return [
        AttributedOutput(
            r.id,
            r.title,
            r.type.label,
            r.output_date.year if r.output_date else None,
            r.share,
            r.evidence.label,
            r.confirmed_by_id is not None,
            r.trial_id is not None,
        )
        for r in rows
    ]
