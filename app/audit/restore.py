"""Undoing a deletion from its audit event: un-delete a record, or re-insert a removed one."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import AuditAction, AuditEvent, Base
from app.records.changes import BOOKKEEPING_FIELDS, snapshot
from app.records.services import restore

# Sub-records removed for good (no deleted_at); their DELETE event holds the whole row.
SNAPSHOT_TABLES = frozenset(
    {
        "payments",
        "co_fundings",
        "attributions",
        "output_links",
        "fund_allocations",
        "donations",
        "research_areas",
    }
)

# The key, in a RESTORE event's changes, naming the DELETE event it undid.
RESTORED_FROM = "restored_from_event"

LABELS = {
    "grants": "grant",
    "outputs": "output",
    "organisations": "organisation",
    "people": "person",
    "programmes": "programme",
    "funds": "fund",
    "donors": "donor",
    "users": "user",
    "payments": "payment",
    "co_fundings": "co-funding",
    "attributions": "attribution",
    "output_links": "output link",
    "fund_allocations": "fund allocation",
    "donations": "donation",
    "research_areas": "research area",
}


class RestoreRefused(Exception):
    """The deletion cannot be undone; the message says why, for the user."""


def label(table: str) -> str:
    """A reader's name for a kind of record, from its table name."""
    return LABELS.get(table, table.replace("_", " "))


def model_for(table: str) -> type[Any] | None:
    """The mapped class stored in a table, if any."""
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def is_soft_deletable(model: type[Any]) -> bool:
    """True for records that keep their row when deleted (SoftDeleteMixin)."""
    return "deleted_at" in sa.inspect(model).column_attrs


def restore_deleted(session: so.Session, event: AuditEvent) -> Any:
    """Undo the deletion an audit event recorded, audit it, and return the record."""
    if event.action != AuditAction.DELETE:
        raise RestoreRefused("Only deletions can be restored.")
    if not event.entity_type or event.entity_id is None:
        raise RestoreRefused("This event does not name a record to restore.")
    model = model_for(event.entity_type)
    if model is None:
        raise RestoreRefused(f"Records of type {label(event.entity_type)} cannot be restored.")
    what = f"{label(event.entity_type).capitalize()} #{event.entity_id}"
    summary = f"{what} restored from audit event #{event.id}"
    if is_soft_deletable(model):
        entity = session.get(model, event.entity_id)
        if entity is None:
            raise RestoreRefused(f"{what} no longer exists.")
        if entity.deleted_at is None:
            raise RestoreRefused(f"{what} is not deleted: there is nothing to restore.")
        restore(session, entity, summary)
        return entity
    if event.entity_type not in SNAPSHOT_TABLES:
        raise RestoreRefused(f"Records of type {label(event.entity_type)} cannot be restored.")
    return _reinsert(session, model, event, what, summary)


def restored_by(session: so.Session, event_ids: list[int]) -> dict[int, int]:
    """{DELETE event id: id of the RESTORE event that undid it} for the given events."""
    if not event_ids:
        return {}
    source = AuditEvent.changes[(RESTORED_FROM, 1)].as_integer()
    rows = session.execute(
        sa.select(source, AuditEvent.id).where(
            AuditEvent.action == AuditAction.RESTORE, source.in_(event_ids)
        )
    )
    return {int(source_id): restore_id for source_id, restore_id in rows}


def _reinsert(
    session: so.Session, model: type[Any], event: AuditEvent, what: str, summary: str
) -> Any:
    if done := restored_by(session, [event.id]).get(event.id):
        raise RestoreRefused(f"{what} was already restored (audit event #{done}).")
    values = _values_from_snapshot(model, event.changes, what)
    table = model.__table__
    _check_parents(session, table, values, what)
    _check_unique(session, table, values, what)
    if session.get(model, event.entity_id) is not None:
        # The id was given to another row meanwhile (SQLite reuses the highest id).
        values.pop("id", None)
    entity = model(**values)
    try:
        with session.begin_nested():
            session.add(entity)
            session.flush()
    except sa_exc.IntegrityError as error:
        raise RestoreRefused(
            f"{what} cannot be restored: the database refused it ({error.orig})."
        ) from error
    changes: dict[str, Any] = {
        key: [None, value] for key, value in snapshot(entity).items() if value is not None
    }
    changes[RESTORED_FROM] = [None, event.id]
    record(session, AuditAction.RESTORE, entity=entity, summary=summary, changes=changes)
    return entity


def _values_from_snapshot(
    model: type[Any], changes: dict[str, Any] | None, what: str
) -> dict[str, Any]:
    """Column values from a DELETE event's {field: [value, None]}, as Python types."""
    if not isinstance(changes, dict):
        raise RestoreRefused(f"The audit event does not hold {what} as it was.")
    values: dict[str, Any] = {}
    for prop in sa.inspect(model).column_attrs:
        if prop.key in BOOKKEEPING_FIELDS:
            continue
        column = prop.columns[0]
        entry = changes.get(prop.key)
        if isinstance(entry, list) and len(entry) == 2:
            values[prop.key] = _python_value(column, entry[0])
        elif not column.nullable and column.default is None and not column.primary_key:
            raise RestoreRefused(
                f"The audit event does not hold {what} whole ({prop.key} is missing)."
            )
    return values


def _python_type(type_: sa.types.TypeEngine[Any]) -> Any:
    try:
        kind = type_.python_type
    except NotImplementedError:
        return object
    if kind is object and isinstance(type_, sa.TypeDecorator):
        return _python_type(type_.impl_instance)
    return kind


def _python_value(column: sa.Column[Any], value: Any) -> Any:
    """Turn a snapshot's JSON-safe value back into what the column holds."""
    if value is None:
        return None
    kind = _python_type(column.type)
    try:
        if kind is datetime:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if kind is date:
            return date.fromisoformat(value)
        if kind is Decimal:
            return Decimal(str(value))
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind(value)
    except (TypeError, ValueError) as error:
        raise RestoreRefused(
            f"The audit event holds an unreadable {column.key}: {value!r}."
        ) from error
    return value


def _check_parents(session: so.Session, table: sa.Table, values: dict[str, Any], what: str) -> None:
    """Refuse if a record this one belongs to is gone (or drop a link that may be empty)."""
    for fk in table.foreign_keys:
        column = fk.parent
        value = values.get(column.key)
        if value is None:
            continue
        target = fk.column
        found = session.scalar(sa.select(target).where(target == value).limit(1))
        if found is not None:
            continue
        if fk.ondelete and fk.ondelete.upper() == "SET NULL" and column.nullable:
            # The database would have cleared this link anyway when the parent went.
            values[column.key] = None
            continue
        raise RestoreRefused(
            f"{what} cannot be restored: the {label(target.table.name)} it belongs to "
            f"(#{value}) no longer exists."
        )


def _check_unique(session: so.Session, table: sa.Table, values: dict[str, Any], what: str) -> None:
    """Refuse if another row now holds a value this record must have alone."""
    groups = [
        list(c.columns)
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint) and not isinstance(c, sa.PrimaryKeyConstraint)
    ]
    groups += [list(i.columns) for i in table.indexes if i.unique]
    for columns in groups:
        if any(values.get(c.key) is None for c in columns):
            continue  # NULLs never clash
        clash = session.scalar(
            sa.select(table.c.id).where(*(c == values[c.key] for c in columns)).limit(1)
        )
        if clash is not None:
            fields = ", ".join(f"{c.key} {values[c.key]}" for c in columns)
            raise RestoreRefused(
                f"{what} cannot be restored: another {label(table.name)} (#{clash}) "
                f"already has {fields}."
            )
