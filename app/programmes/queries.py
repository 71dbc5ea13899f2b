"""Read queries for programme and research area pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.grants.queries import grant_figures, visible_live_grants
from app.models import (
    AuditEvent,
    Confidentiality,
    Grant,
    GrantStatus,
    Organisation,
    Programme,
    ProgrammeKind,
    ResearchArea,
    grant_areas,
)
from app.records.cache import cached_read
from app.records.listing import (
    ListParams,
    Page,
    count_and_total,
    like_pattern,
    page_number,
    paginate,
    stream,
)

FILTERS = ("kind",)
SORTS = ("name", "kind", "year", "grants", "total_eur")
DEFAULT_SORT = "name"
GRANT_SORTS = ("award_date",)
# Sorts by a figure summed over every programme's grants (see programme_list).
AGGREGATE_SORTS = ("grants", "total_eur")


def _visible(levels: Sequence[Confidentiality]) -> tuple[sa.ColumnElement[bool], ...]:
    return (Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    name: str
    kind: ProgrammeKind
    year: int | None
    grants: int
    total_eur: Decimal | None
    deleted: bool


def _programme_conditions(params: ListParams) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        Programme.deleted_at.is_not(None) if params.show_deleted else Programme.deleted_at.is_(None)
    ]
    if params.q:
        pattern = like_pattern(params.q.lower())
        conditions.append(sa.func.lower(Programme.name).like(pattern, escape="\\"))
    if params.filters.get("kind") in ProgrammeKind.__members__.values():
        conditions.append(Programme.kind == params.filters["kind"])
    return conditions


def _programme_stats(levels: Sequence[Confidentiality]) -> Any:
    """Grant count and euro total per programme, over the grants the user may see."""
    return (
        sa.select(
            Grant.programme_id,
            sa.func.count().label("grants"),
            sa.func.sum(Grant.amount_eur).label("total_eur"),
        )
        .where(*visible_live_grants(levels))
        .group_by(Grant.programme_id)
        .subquery("stats")
    )


def _programme_order(query: Any, params: ListParams, stats: Any) -> Any:
    """The programme list's order: the column asked (NULLS LAST), ties by id."""
    column: Any = {
        "name": Programme.name,
        "kind": Programme.kind,
        "year": Programme.year,
        "grants": sa.func.coalesce(stats.c.grants, 0) if stats is not None else None,
        "total_eur": stats.c.total_eur if stats is not None else None,
    }[params.sort]
    order = column.desc() if params.descending else column.asc()
    return query.order_by(
        order.nulls_last(), Programme.id.desc() if params.descending else Programme.id
    )


def _programme_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """The programme list's select: searched, filtered and sorted as asked (exports)."""
    stats = _programme_stats(levels)
    query = (
        sa.select(
            Programme.id,
            Programme.name,
            Programme.kind,
            Programme.year,
            sa.func.coalesce(stats.c.grants, 0).label("grants"),
            stats.c.total_eur,
            Programme.deleted_at,
        )
        .outerjoin(stats, stats.c.programme_id == Programme.id)
        .where(*_programme_conditions(params))
    )
    return _programme_order(query, params, stats)


def _programme_row(r: Any) -> ProgrammeRow:
    return ProgrammeRow(
        r.id, r.name, r.kind, r.year, r.grants, r.total_eur, r.deleted_at is not None
    )


def _programme_ids(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> tuple[int, ...]:
    """The ids of one page's programmes, in the list's order (``params.page`` exists)."""
    query = sa.select(Programme.id).where(*_programme_conditions(params))
    stats = None
    if params.sort in AGGREGATE_SORTS:
        stats = _programme_stats(levels)
        query = query.outerjoin(stats, stats.c.programme_id == Programme.id)
    query = _programme_order(query, params, stats)
    return tuple(
        session.scalars(query.limit(params.per_page).offset((params.page - 1) * params.per_page))
    )


def programme_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[ProgrammeRow]:
    """One page of programmes with their grant count and euro total.

    The page's programmes are picked on their own (a few hundred rows) and their figures
    summed for them alone. Sorted by a figure, every programme's is needed: that page's ids
    are then kept until grants or programmes change.
    """
    count = sa.select(sa.func.count()).select_from(Programme)
    total = session.scalar(count.where(*_programme_conditions(params))) or 0
    params = replace(params, page=page_number(params, total))
    if params.sort in AGGREGATE_SORTS:
        ids = cached_read(
            session,
            ("grants", "programmes"),
            params.cache_key("programme page", levels),
            lambda: _programme_ids(session, params, levels),
        )
    else:
        ids = _programme_ids(session, params, levels)
    rows = session.execute(
        sa.select(
            Programme.id, Programme.name, Programme.kind, Programme.year, Programme.deleted_at
        ).where(Programme.id.in_(ids))
    )
    found = {r.id: r for r in rows}
    stats = grant_figures(session, Grant.programme_id, ids, levels)
    items = [
        ProgrammeRow(
            r.id,
            r.name,
            r.kind,
            r.year,
            *count_and_total(stats, r.id),
            r.deleted_at is not None,
        )
        for r in map(found.__getitem__, ids)
    ]
    return Page(items, params.page, params.per_page, total)


def programme_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[ProgrammeRow]:
    """Every programme the list's filters match, in its order, in batches (exports)."""
    for batch in stream(session, _programme_query(params, levels)):
        yield from map(_programme_row, batch)


def get_programme(session: so.Session, programme_id: int) -> Programme | None:
    """A programme (deleted ones included, so they can be restored)."""
    return session.get(Programme, programme_id)


@dataclass(frozen=True)
class ProgrammeFigures:
    grants: int
    total_eur: Decimal | None
    without_eur: int
    first_award: date | None
    last_award: date | None
    institutions: int


@dataclass(frozen=True)
class ProgrammeGrant:
    id: int
    reference: str
    title: str
    institution: str
    award_date: date
    amount_eur: Decimal | None
    status: GrantStatus


def programme_figures(
    session: so.Session, programme_id: int, levels: Sequence[Confidentiality]
) -> ProgrammeFigures:
    """Aggregates over a programme's grants (those the user may see)."""
    row = session.execute(
        sa.select(
            sa.func.count(Grant.id).label("grants"),
            sa.func.sum(Grant.amount_eur).label("total_eur"),
            sa.func.count(Grant.id).filter(Grant.amount_eur.is_(None)).label("without_eur"),
            sa.func.min(Grant.award_date).label("first_award"),
            sa.func.max(Grant.award_date).label("last_award"),
            sa.func.count(sa.distinct(Grant.host_organisation_id)).label("institutions"),
        ).where(Grant.programme_id == programme_id, *_visible(levels))
    ).one()
    return ProgrammeFigures(
        row.grants,
        row.total_eur,
        row.without_eur,
        row.first_award,
        row.last_award,
        row.institutions,
    )


def programme_grants(
    session: so.Session, programme_id: int, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[ProgrammeGrant]:
    """One page of a programme's grants, newest award first."""
    query = (
        sa.select(
            Grant.id,
            Grant.reference,
            Grant.title,
            Organisation.name,
            Grant.award_date,
            Grant.amount_eur,
            Grant.status,
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .where(Grant.programme_id == programme_id, *_visible(levels))
        .order_by(Grant.award_date.desc(), Grant.id.desc())
    )
    page = paginate(session, query, params, scalars=False)
    return Page(
        items=[ProgrammeGrant(*row) for row in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


@dataclass(frozen=True)
class AreaRow:
    id: int
    name: str
    description: str | None
    grants: int


def area_list(session: so.Session, levels: Sequence[Confidentiality]) -> list[AreaRow]:
    """Every research area with the number of (visible, live) grants it tags."""
    counts = (
        sa.select(
            grant_areas.c.research_area_id.label("area_id"),
            sa.func.count(Grant.id).label("grants"),
        )
        .join(Grant, Grant.id == grant_areas.c.grant_id)
        .where(*_visible(levels))
        .group_by(grant_areas.c.research_area_id)
        .subquery("counts")
    )
    rows = session.execute(
        sa.select(
            ResearchArea.id,
            ResearchArea.name,
            ResearchArea.description,
            sa.func.coalesce(counts.c.grants, 0).label("grants"),
        )
        .outerjoin(counts, counts.c.area_id == ResearchArea.id)
        .order_by(ResearchArea.name)
    )
    return [AreaRow(*row) for row in rows]


def get_area(session: so.Session, area_id: int) -> ResearchArea | None:
    """A research area."""
    return session.get(ResearchArea, area_id)


@dataclass(frozen=True)
class AreaHistory:
    name: str
    events: list[AuditEvent]
    exists: bool


def area_history(session: so.Session, area_id: int, limit: int = 500) -> AreaHistory | None:
    """A research area's audit trail, newest first, still readable after the area is deleted."""
    area = session.get(ResearchArea, area_id)
    query = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == ResearchArea.__tablename__, AuditEvent.entity_id == area_id
        )
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if area is not None:
        # SQLite may give a new row the id of a deleted one: leave out the old area's events.
        query = query.where(AuditEvent.occurred_at >= area.created_at)
    events = list(session.scalars(query))
    if area is not None:
        return AreaHistory(area.name, events, True)
    if not events:
        return None
    # The delete event holds the whole record as it was: {"name": [name, None], ...}.
    name = (events[0].changes or {}).get("name")
    label = str(name[0]) if isinstance(name, list) and name and name[0] else f"#{area_id}"
    return AreaHistory(label, events, False)
