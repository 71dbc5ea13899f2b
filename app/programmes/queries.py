"""Read queries for programme and research area pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

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
from app.records.listing import ListParams, Page, like_pattern, paginate, stream

FILTERS = ("kind",)
SORTS = ("name", "kind", "year", "grants", "total_eur")
DEFAULT_SORT = "name"
GRANT_SORTS = ("award_date",)


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


def _programme_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """The programme list's select: searched, filtered and sorted as asked."""
    stats = (
        sa.select(
            Grant.programme_id,
            sa.func.count(Grant.id).label("grants"),
            sa.func.sum(Grant.amount_eur).label("total_eur"),
        )
        .where(*_visible(levels))
        .group_by(Grant.programme_id)
        .subquery("stats")
    )
    grants = sa.func.coalesce(stats.c.grants, 0)
    query = (
        sa.select(
            Programme.id,
            Programme.name,
            Programme.kind,
            Programme.year,
            grants.label("grants"),
            stats.c.total_eur,
            Programme.deleted_at,
        )
        .outerjoin(stats, stats.c.programme_id == Programme.id)
        .where(
            Programme.deleted_at.is_not(None)
            if params.show_deleted
            else Programme.deleted_at.is_(None)
        )
    )
    if params.q:
        pattern = like_pattern(params.q.lower())
        query = query.where(sa.func.lower(Programme.name).like(pattern, escape="\\"))
    if params.filters.get("kind") in ProgrammeKind.__members__.values():
        query = query.where(Programme.kind == params.filters["kind"])
    column: Any = {
        "name": Programme.name,
        "kind": Programme.kind,
        "year": Programme.year,
        "grants": grants,
        "total_eur": stats.c.total_eur,
    }[params.sort]
    order = column.desc() if params.descending else column.asc()
    return query.order_by(
        order.nulls_last(), Programme.id.desc() if params.descending else Programme.id
    )


def _programme_row(r: Any) -> ProgrammeRow:
    return ProgrammeRow(
        r.id, r.name, r.kind, r.year, r.grants, r.total_eur, r.deleted_at is not None
    )


def programme_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[ProgrammeRow]:
    """One page of programmes with their grant count and euro total."""
    page = paginate(session, _programme_query(params, levels), params, scalars=False)
    return Page(
        items=[_programme_row(r) for r in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


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
