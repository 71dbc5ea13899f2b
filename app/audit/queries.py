"""Reading the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import AuditAction, AuditEvent, User
from app.records.listing import ListParams, Page, like_pattern, paginate

from .restore import SNAPSHOT_TABLES, is_soft_deletable, model_for, restored_by


def history_for(
    session: so.Session, entity_type: str, entity_id: int, limit: int = 500
) -> list[AuditEvent]:
    """Audit events of one record, newest first."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def history_of(session: so.Session, entity: Any) -> list[AuditEvent]:
    """Audit events of a record object, newest first."""
    return history_for(session, type(entity).__tablename__, entity.id)


# --- The audit log page -------------------------------------------------------

LOG_FILTERS = ("action", "entity", "entity_id", "actor", "user", "from", "to")

# Sub-records have no page of their own: link to the record they hang off.
PARENTS = {
    "payments": ("grant_id", "grants"),
    "co_fundings": ("grant_id", "grants"),
    "fund_allocations": ("grant_id", "grants"),
    "attributions": ("grant_id", "grants"),
    "output_links": ("output_id", "outputs"),
    "donations": ("donor_id", "donors"),
}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def log_dates(params: ListParams) -> tuple[date | None, date | None]:
    """The date range asked for (inclusive), ignoring malformed dates."""
    return _day(params.filters.get("from")), _day(params.filters.get("to"))


def _log_query(params: ListParams) -> sa.Select[AuditEvent]:
    """The audit log's select: newest first, filtered as asked."""
    query = sa.select(AuditEvent)
    action = params.filters.get("action")
    if action in AuditAction.__members__.values():
        query = query.where(AuditEvent.action == action)
    if entity := params.filters.get("entity"):
        query = query.where(AuditEvent.entity_type == entity)
    if (entity_id := params.filter_int("entity_id")) is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if (user_id := params.filter_int("user")) is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if actor := params.filters.get("actor"):
        pattern = like_pattern(actor.lower())
        query = query.where(sa.func.lower(AuditEvent.actor).like(pattern, escape="\\"))
    start, end = log_dates(params)
    if start is not None:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        after = datetime.combine(end + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.occurred_at < after)
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def audit_log(session: so.Session, params: ListParams) -> Page[AuditEvent]:
    """One page of the whole audit trail, newest first, filtered as asked."""
    return paginate(session, _log_query(params), params)


def audit_events(session: so.Session, params: ListParams) -> Iterator[AuditEvent]:
    """Every audit event the log's filters match, newest first, in batches (exports)."""
    result = session.scalars(_log_query(params).execution_options(yield_per=1000))
    for batch in result.partitions():
        yield from batch


def entity_types(session: so.Session) -> list[str]:
    """Kinds of record that appear in the audit trail."""
    return list(
        session.scalars(
            sa.select(AuditEvent.entity_type)
            .where(AuditEvent.entity_type.is_not(None))
            .group_by(AuditEvent.entity_type)
            .order_by(AuditEvent.entity_type)
        )
    )


def user_label(session: so.Session, user_id: int | None) -> str | None:
    """The email of a user, for showing a filter by user."""
    if user_id is None:
        return None
    return session.scalar(sa.select(User.email).where(User.id == user_id))


def _ids_by_type(events: list[AuditEvent]) -> dict[str, set[int]]:
    by_type: dict[str, set[int]] = {}
    for event in events:
        if event.entity_type and event.entity_id is not None:
            by_type.setdefault(event.entity_type, set()).add(event.entity_id)
    return by_type


def restorable_events(session: so.Session, events: list[AuditEvent]) -> set[int]:
    """Ids of the DELETE events among these whose record can still be brought back."""
    deletes = [e for e in events if e.action == AuditAction.DELETE]
    restorable: set[int] = set()
    snapshots = [e.id for e in deletes if e.entity_type in SNAPSHOT_TABLES]
    done = restored_by(session, snapshots)
    restorable.update(event_id for event_id in snapshots if event_id not in done)
    for table, ids in _ids_by_type(deletes).items():
        model = model_for(table)
        if model is None or not is_soft_deletable(model):
            continue
        still_deleted = set(
            session.scalars(
                sa.select(model.id).where(model.id.in_(ids), model.deleted_at.is_not(None))
            )
        )
        restorable.update(
            e.id for e in deletes if e.entity_type == table and e.entity_id in still_deleted
        )
    return restorable


def parents_of(session: so.Session, events: list[AuditEvent]) -> dict[int, tuple[str, int]]:
    """{event id: (parent table, parent id)} for events on sub-records, for linking."""
    parents: dict[int, tuple[str, int]] = {}
    missing: dict[str, set[int]] = {}
    for event in events:
        if event.entity_type not in PARENTS or event.entity_id is None:
            continue
        key, parent_table = PARENTS[event.entity_type]
        values = (event.changes or {}).get(key)
        if isinstance(values, list) and len(values) == 2 and (values[1] or values[0]):
            parents[event.id] = (parent_table, int(values[1] or values[0]))
        else:
            missing.setdefault(event.entity_type, set()).add(event.entity_id)
    for table, ids in missing.items():
        model = model_for(table)
        key, parent_table = PARENTS[table]
        if model is None:
            continue
        found: dict[int, int] = dict(
            session.execute(sa.select(model.id, getattr(model, key)).where(model.id.in_(ids)))
        )
        for event in events:
            if event.entity_type == table and event.entity_id in found:
                parents[event.id] = (parent_table, found[event.entity_id])
    return parents
