"""Read queries for organisation and people pages."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.grants.queries import grant_figures, visible_live_grants
from app.identifiers import InvalidIdentifier, normalise_orcid
from app.models import (
    Confidentiality,
    Grant,
    GrantInvestigator,
    GrantStatus,
    InvestigatorRole,
    Organisation,
    OrganisationKind,
    Person,
)
from app.records.cache import cached_read
from app.records.listing import (
    ListParams,
    Page,
    count_and_total,
    like_pattern,
    nulls_last_page,
    page_number,
    stream,
    totals_for,
)

# How much of an organisation's grants and people its page lists before linking on.
LATEST_GRANTS = 5
PEOPLE_SHOWN = 20


def _hosted_stats(levels: Sequence[Confidentiality]) -> Any:
    """Grant count and EUR total per host organisation, over the grants the user may see."""
    return (
        sa.select(
            Grant.host_organisation_id.label("organisation_id"),
            sa.func.count().label("grants"),
            sa.func.sum(Grant.amount_eur).label("total_eur"),
        )
        .where(*visible_live_grants(levels))
        .group_by(Grant.host_organisation_id)
        .subquery("hosted")
    )


def _like(column: Any, text: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(column).like(like_pattern(text.lower()), escape="\\")


def _deleted_filter(model: Any, params: ListParams) -> sa.ColumnElement[bool]:
    return model.deleted_at.is_not(None) if params.show_deleted else model.deleted_at.is_(None)


def _ordered(query: Any, column: Any, params: ListParams, id_column: Any) -> Any:
    order = column.desc() if params.descending else column.asc()
    tie = id_column.desc() if params.descending else id_column.asc()
    return query.order_by(order.nulls_last(), tie)


# --------------------------------------------------------------------------- organisations

ORGANISATION_FILTERS = ("kind", "country")
ORGANISATION_SORTS = ("name", "country", "kind", "grants")
ORGANISATION_DEFAULT_SORT = "name"


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    kind: OrganisationKind
    country: str
    city: str | None
    grants: int
    total_eur: Decimal | None
    deleted: bool


def _organisation_conditions(params: ListParams) -> list[sa.ColumnElement[bool]]:
    conditions = [_deleted_filter(Organisation, params)]
    if params.q:
        conditions.append(_like(Organisation.name, params.q))
    if params.filters.get("kind") in OrganisationKind.__members__.values():
        conditions.append(Organisation.kind == params.filters["kind"])
    if country := params.filters.get("country"):
        conditions.append(Organisation.country == country.upper())
    return conditions


def _organisation_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """The organisation list's select: searched, filtered and sorted as asked (exports)."""
    hosted = _hosted_stats(levels)
    grants = sa.func.coalesce(hosted.c.grants, 0)
    query = (
        sa.select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.city,
            grants.label("grants"),
            hosted.c.total_eur,
            Organisation.deleted_at,
        )
        .outerjoin(hosted, hosted.c.organisation_id == Organisation.id)
        .where(*_organisation_conditions(params))
    )
    return _ordered(query, _organisation_sort_key(params, grants), params, Organisation.id)


def _organisation_sort_key(params: ListParams, grants: Any) -> Any:
    return {
        "name": Organisation.name,
        "country": Organisation.country,
        "kind": Organisation.kind,
        "grants": grants,
    }[params.sort]


def _organisation_ids(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> tuple[int, ...]:
    """The ids of one page's organisations, in the list's order (``params.page`` exists)."""
    query = sa.select(Organisation.id).where(*_organisation_conditions(params))
    grants = None
    if params.sort == "grants":
        hosted = _hosted_stats(levels)
        query = query.outerjoin(hosted, hosted.c.organisation_id == Organisation.id)
        grants = sa.func.coalesce(hosted.c.grants, 0)
    query = _ordered(query, _organisation_sort_key(params, grants), params, Organisation.id)
    query = query.limit(params.per_page).offset((params.page - 1) * params.per_page)
    return tuple(session.scalars(query))


def _organisation_row(r: Any) -> OrganisationRow:
    return OrganisationRow(
        r.id, r.name, r.kind, r.country, r.city, r.grants, r.total_eur, r.deleted_at is not None
    )


def organisation_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[OrganisationRow]:
    """One page of organisations, searched, filtered and sorted as asked.

    The page's organisations are picked on their own (a few hundred rows) and their grant
    figures summed for them alone. Sorted by grants, every organisation's count is needed:
    that page's ids are then kept until grants or organisations change.
    """
    count = sa.select(sa.func.count()).select_from(Organisation)
    total = session.scalar(count.where(*_organisation_conditions(params))) or 0
    params = replace(params, page=page_number(params, total))
    if params.sort == "grants":
        ids = cached_read(
            session,
            ("grants", "organisations"),
            params.cache_key("organisations by grants", levels),
            lambda: _organisation_ids(session, params, levels),
        )
    else:
        ids = _organisation_ids(session, params, levels)
    rows = session.execute(
        sa.select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.city,
            Organisation.deleted_at,
        ).where(Organisation.id.in_(ids))
    )
    found = {r.id: r for r in rows}
    stats = grant_figures(session, Grant.host_organisation_id, ids, levels)
    items = [
        OrganisationRow(
            r.id,
            r.name,
            r.kind,
            r.country,
            r.city,
            *count_and_total(stats, r.id),
            r.deleted_at is not None,
        )
        for r in map(found.__getitem__, ids)
    ]
    return Page(items, params.page, params.per_page, total)


def organisation_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[OrganisationRow]:
    """Every organisation the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _organisation_query(params, levels)):
        yield from map(_organisation_row, batch)


def countries_in_use(session: so.Session) -> list[str]:
    """Country codes of live organisations, for the list filter."""
    return list(
        session.scalars(
            sa.select(Organisation.country)
            .where(Organisation.deleted_at.is_(None))
            .group_by(Organisation.country)
            .order_by(Organisation.country)
        )
    )


def get_organisation(session: so.Session, organisation_id: int) -> Organisation | None:
    """An organisation (deleted ones included, so they can be restored)."""
    return session.get(Organisation, organisation_id)


def organisation_name(session: so.Session, organisation_id: int | None) -> str | None:
    """The name of an organisation, for a filter's caption."""
    if organisation_id is None:
        return None
    return session.scalar(sa.select(Organisation.name).where(Organisation.id == organisation_id))


@dataclass(frozen=True)
class GrantLink:
    id: int
    reference: str
    title: str
    award_date: date
    amount_eur: Decimal | None
    status: GrantStatus
    role: InvestigatorRole | None = None


@dataclass(frozen=True)
class PersonLink:
    id: int
    name: str
    orcid: str | None


@dataclass(frozen=True)
class OrganisationFigures:
    grants: int
    total_eur: Decimal | None
    without_eur: int
    first_award: date | None
    last_award: date | None
    latest_grants: list[GrantLink]
    people_count: int
    people: list[PersonLink]


def _grant_link_columns() -> tuple[Any, ...]:
    return (
        Grant.id,
        Grant.reference,
        Grant.title,
        Grant.award_date,
        Grant.amount_eur,
        Grant.status,
    )


def organisation_figures(
    session: so.Session, organisation_id: int, levels: Sequence[Confidentiality]
) -> OrganisationFigures:
    """Hosted-grant aggregates, the latest grants and the people affiliated (capped)."""
    visible = (
        Grant.host_organisation_id == organisation_id,
        Grant.deleted_at.is_(None),
        Grant.confidentiality.in_(levels),
    )
    totals = session.execute(
        sa.select(
            sa.func.count(Grant.id).label("grants"),
            sa.func.sum(Grant.amount_eur).label("total_eur"),
            sa.func.count(Grant.id).filter(Grant.amount_eur.is_(None)).label("without_eur"),
            sa.func.min(Grant.award_date).label("first_award"),
            sa.func.max(Grant.award_date).label("last_award"),
        ).where(*visible)
    ).one()
    latest = session.execute(
        sa.select(*_grant_link_columns())
        .where(*visible)
        .order_by(Grant.award_date.desc(), Grant.id.desc())
        .limit(LATEST_GRANTS)
    )
    people_filter = (Person.organisation_id == organisation_id, Person.deleted_at.is_(None))
    people_count = session.scalar(sa.select(sa.func.count(Person.id)).where(*people_filter))
    people = session.execute(
        sa.select(Person.id, Person.given_names, Person.family_name, Person.orcid)
        .where(*people_filter)
        .order_by(Person.family_name, Person.given_names, Person.id)
        .limit(PEOPLE_SHOWN)
    )
    return OrganisationFigures(
        grants=totals.grants,
        total_eur=totals.total_eur,
        without_eur=totals.without_eur,
        first_award=totals.first_award,
        last_award=totals.last_award,
        latest_grants=[GrantLink(*row) for row in latest],
        people_count=people_count or 0,
        people=[
            PersonLink(p.id, f"{p.given_names} {p.family_name}".strip(), p.orcid) for p in people
        ],
    )


# --------------------------------------------------------------------------- people

PEOPLE_FILTERS = ("organisation",)
PEOPLE_SORTS = ("name", "organisation", "orcid", "grants")
PEOPLE_DEFAULT_SORT = "name"


@dataclass(frozen=True)
class PersonRow:
    id: int
    family_name: str
    given_names: str
    orcid: str | None
    organisation_id: int | None
    organisation: str | None
    grants_led: int
    deleted: bool


def _person_search(text: str) -> sa.ColumnElement[bool]:
    """Match a name (either order) or an ORCID typed in any of its usual forms."""
    try:
        return Person.orcid == normalise_orcid(text)
    except InvalidIdentifier:
        pass
    full_name = Person.given_names + " " + Person.family_name
    reversed_name = Person.family_name + " " + Person.given_names
    return sa.or_(_like(full_name, text), _like(reversed_name, text), _like(Person.orcid, text))


def _people_conditions(params: ListParams) -> list[sa.ColumnElement[bool]]:
    conditions = [_deleted_filter(Person, params)]
    if params.q:
        conditions.append(_person_search(params.q))
    if (organisation := params.filter_int("organisation")) is not None:
        conditions.append(Person.organisation_id == organisation)
    return conditions


def _grants_led(levels: Sequence[Confidentiality]) -> Any:
    """Grants led per principal investigator, over the grants the user may see."""
    return (
        sa.select(
            Grant.principal_investigator_id.label("person_id"),
            sa.func.count().label("grants"),
        )
        .where(*visible_live_grants(levels))
        .group_by(Grant.principal_investigator_id)
        .subquery("led")
    )


def _people_order(query: Any, params: ListParams, grants_led: Any) -> Any:
    """The people list's order: by name (family, given) or a column, ties by id."""
    if params.sort == "name":
        order = (Person.family_name, Person.given_names)
        return query.order_by(
            *(c.desc() if params.descending else c.asc() for c in order),
            Person.id.desc() if params.descending else Person.id,
        )
    column = {"organisation": Organisation.name, "orcid": Person.orcid, "grants": grants_led}
    return _ordered(query, column[params.sort], params, Person.id)


def _people_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """The people list's select: searched, filtered and sorted as asked (exports)."""
    led = _grants_led(levels)
    grants_led = sa.func.coalesce(led.c.grants, 0)
    query = (
        _person_select()
        .add_columns(grants_led.label("grants_led"))
        .outerjoin(led, led.c.person_id == Person.id)
        .where(*_people_conditions(params))
    )
    return _people_order(query, params, grants_led)


def _person_select() -> Any:
    """A list row's columns, but for the grants led."""
    return sa.select(
        Person.id,
        Person.family_name,
        Person.given_names,
        Person.orcid,
        Person.organisation_id,
        Organisation.name.label("organisation"),
        Person.deleted_at,
    ).outerjoin(Organisation, Organisation.id == Person.organisation_id)


def _person_row(r: Any) -> PersonRow:
    return PersonRow(
        r.id,
        r.family_name,
        r.given_names,
        r.orcid,
        r.organisation_id,
        r.organisation,
        r.grants_led,
        r.deleted_at is not None,
    )


# Sorts that order every matching person by another table's column or an aggregate: their
# pages are kept until one of these tables changes.
PEOPLE_SORTED_ELSEWHERE = {
    "organisation": ("people", "organisations"),
    "grants": ("people", "grants"),
}


def _people_ids(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality], total: int
) -> tuple[int, ...]:
    """The ids of one page of people, in the list's order (``params.page`` exists)."""
    offset = (params.page - 1) * params.per_page
    query = sa.select(Person.id).where(*_people_conditions(params))
    if params.sort == "orcid":
        # ORCIDs are unique (ties only among people without one): the ORCID index, then ids.
        first = replace(params, page=1, descending=False)
        ids = nulls_last_page(
            session,
            query,
            Person.orcid,
            Person.id,
            params.descending,
            (offset, params.per_page),
            total,
            count=lambda blank: _cached_count(
                session, ("people",), first.cache_key("no ORCID"), blank
            ),
        )
        return tuple(ids)
    grants_led = None
    if params.sort == "organisation":
        query = query.outerjoin(Organisation, Organisation.id == Person.organisation_id)
    elif params.sort == "grants":
        led = _grants_led(levels)
        query = query.outerjoin(led, led.c.person_id == Person.id)
        grants_led = sa.func.coalesce(led.c.grants, 0)
    query = _people_order(query, params, grants_led).limit(params.per_page).offset(offset)
    return tuple(session.scalars(query))


def _cached_count(
    session: so.Session, tables: Sequence[str], question: Hashable, query: Any
) -> int:
    """How many rows a select of ``tables`` gives, kept until they change."""
    count = sa.select(sa.func.count()).select_from(query.subquery())
    return cached_read(session, tables, question, lambda: session.scalar(count) or 0)


def people_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[PersonRow]:
    """One page of people, searched, filtered and sorted as asked.

    The page's people are picked in the order of an index (name, ORCID) and their grants led
    counted for them alone; sorted by organisation or grants led, every person is sorted, so
    that page's ids are kept until the tables the order rests on change.
    """
    matching = sa.select(Person.id).where(*_people_conditions(params))
    question = replace(params, page=1, descending=False).cache_key("people count")
    total = _cached_count(session, ("people",), question, matching)
    params = replace(params, page=page_number(params, total))
    if (tables := PEOPLE_SORTED_ELSEWHERE.get(params.sort)) is not None:
        ids = cached_read(
            session,
            tables,
            params.cache_key("people page", levels),
            lambda: _people_ids(session, params, levels, total),
        )
    else:
        ids = _people_ids(session, params, levels, total)
    rows = session.execute(_person_select().where(Person.id.in_(ids)))
    found = {r.id: r for r in rows}
    visible = visible_live_grants(levels)
    led = totals_for(session, Grant.principal_investigator_id, ids, (sa.func.count(),), visible)
    items = [
        PersonRow(
            r.id,
            r.family_name,
            r.given_names,
            r.orcid,
            r.organisation_id,
            r.organisation,
            led.get(r.id, (0,))[0],
            r.deleted_at is not None,
        )
        for r in map(found.__getitem__, ids)
    ]
    return Page(items, params.page, params.per_page, total)


def people_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[PersonRow]:
    """Every person the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _people_query(params, levels)):
        yield from map(_person_row, batch)


def get_person(session: so.Session, person_id: int) -> Person | None:
    """A person with their affiliation loaded (deleted ones included)."""
    return session.scalar(
        sa.select(Person).where(Person.id == person_id).options(so.joinedload(Person.organisation))
    )


@dataclass(frozen=True)
class PersonGrants:
    led: list[GrantLink]
    co_investigated: list[GrantLink]


def person_grants(
    session: so.Session, person_id: int, levels: Sequence[Confidentiality]
) -> PersonGrants:
    """Grants a person led as PI and those they were co-investigator, fellow or supervisor on."""
    visible = (Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))
    newest_first = (Grant.award_date.desc(), Grant.id.desc())
    led = session.execute(
        sa.select(*_grant_link_columns())
        .where(Grant.principal_investigator_id == person_id, *visible)
        .order_by(*newest_first)
    )
    co = session.execute(
        sa.select(*_grant_link_columns(), GrantInvestigator.role)
        .join(GrantInvestigator, GrantInvestigator.grant_id == Grant.id)
        .where(GrantInvestigator.person_id == person_id, *visible)
        .order_by(*newest_first)
    )
    return PersonGrants(
        [GrantLink(*row) for row in led],
        [GrantLink(*row[:6], role=row.role) for row in co],
    )
