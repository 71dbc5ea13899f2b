"""Soft delete, restore, optimistic locking and audited create/edit for any versioned record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import AuditAction, AuditEvent, utcnow

from .changes import diff, snapshot


@dataclass(frozen=True)
class Change:
    """One field changed by someone else since the user loaded the record."""

    field: str
    before: Any
    after: Any
    actor: str | None
    at: datetime


class StaleEdit(Exception):
    """The record changed since the user loaded it; nothing was saved."""

    def __init__(self, record_label: str, changes: list[Change]) -> None:
        self.changes = changes
        who = sorted({c.actor or "someone" for c in changes}) or ["someone"]
        super().__init__(
            f"{record_label} was changed by {', '.join(who)} while you were editing it. "
            "Your changes were not saved; review what changed and edit again."
        )


def changes_since(session: so.Session, entity: Any, version: int) -> list[Change]:
    """Field changes audited on a record after the given version."""
    events = session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.entity_type == type(entity).__tablename__,
            AuditEvent.entity_id == entity.id,
            AuditEvent.entity_version > version,
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return [
        Change(field, values[0], values[1], event.actor, event.occurred_at)
        for event in events
        for field, values in (event.changes or {}).items()
        if isinstance(values, list) and len(values) == 2
    ]


def check_version(
    session: so.Session, entity: Any, submitted_version: int | None, label: str
) -> None:
    """Refuse an edit made on an older version of the record."""
    if submitted_version is None or submitted_version != entity.version:
        raise StaleEdit(label, changes_since(session, entity, submitted_version or 0))


def update_fields(
    session: so.Session,
    entity: Any,
    values: dict[str, Any],
    summary: str | Callable[[], str],
) -> dict[str, list[Any]]:
    """Set fields, flush (bumping the version) and audit what changed.

    A callable summary is called once the fields are set, so it can name the
    record as it is now (after a rename, say).
    """
    before = snapshot(entity)
    for key, value in values.items():
        setattr(entity, key, value)
    changes = diff(before, snapshot(entity))
    if changes:
        session.flush()
        text = summary() if callable(summary) else summary
        record(session, AuditAction.UPDATE, entity=entity, summary=text, changes=changes)
    return changes


def audit_create(session: so.Session, entity: Any, summary: str) -> None:
    """Flush a new record and audit it with all its fields."""
    session.flush()
    after = snapshot(entity)
    record(
        session,
        AuditAction.CREATE,
        entity=entity,
        summary=summary,
        changes={key: [None, value] for key, value in after.items() if value is not None},
    )


def soft_delete(session: so.Session, entity: Any, summary: str) -> None:
    """Mark a record deleted (restorable) and audit it."""
    if entity.deleted_at is not None:
        return
    entity.deleted_at = utcnow()
    session.flush()
    record(
        session,
        AuditAction.DELETE,
        entity=entity,
        summary=summary,
        changes={"deleted_at": [None, entity.deleted_at.isoformat()]},
    )


def restore(session: so.Session, entity: Any, summary: str) -> None:
    """Undo a soft delete and audit it."""
    if entity.deleted_at is None:
        return
    was = entity.deleted_at.isoformat()
    entity.deleted_at = None
    session.flush()
    record(
        session,
        AuditAction.RESTORE,
        entity=entity,
        summary=summary,
        changes={"deleted_at": [was, None]},
    )


def hard_delete(session: so.Session, entity: Any, summary: str) -> None:
    """Delete a sub-record (no deleted_at); the audit event keeps all of it for restoring."""
    record(
        session,
        AuditAction.DELETE,
        entity=entity,
        summary=summary,
        changes={key: [value, None] for key, value in snapshot(entity).items()},
    )
    session.delete(entity)
    session.flush()


M = TypeVar("M")
D = TypeVar("D")


@dataclass(frozen=True)
class RecordLifecycle(Generic[M, D]):
    """Create, edit, soft-delete and restore one kind of top-level record, all audited.

    ``values(session, data, record_or_None)`` validates what a user supplied
    (raising FieldErrors) and returns the columns to set; ``label(record)``
    names the record in audit summaries and conflict messages.
    """

    model: Callable[..., M]
    values: Callable[[so.Session, D, M | None], dict[str, Any]]
    label: Callable[[M], str]

    def create(self, session: so.Session, data: D) -> M:
        """Validate and add a record; the audit event holds every field."""
        entity = self.model(**self.values(session, data, None))
        session.add(entity)
        session.flush()  # labels may use the new id
        audit_create(session, entity, f"{self.label(entity)} created")
        return entity

    def update(
        self, session: so.Session, entity: M, data: D, version: int | None
    ) -> dict[str, list[Any]]:
        """Apply an edit made on the given version; refuse it if the record changed since."""
        check_version(session, entity, version, self.label(entity))
        values = self.values(session, data, entity)
        return update_fields(session, entity, values, lambda: f"{self.label(entity)} edited")

    def delete(self, session: so.Session, entity: M) -> None:
        """Soft-delete the record (restorable; what points at it keeps pointing)."""
        soft_delete(session, entity, f"{self.label(entity)} deleted")

    def restore(self, session: so.Session, entity: M) -> None:
        """Undo a soft delete."""
        restore(session, entity, f"{self.label(entity)} restored")
