"""Plain snapshots of records and the field-by-field differences between them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

# Never copied into the audit trail.
SECRET_FIELDS = {"password_hash", "session_token"}
BOOKKEEPING_FIELDS = {"created_at", "updated_at", "version"}


def plain(value: Any) -> Any:
    """A JSON-safe rendering of a column value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(record: Any) -> dict[str, Any]:
    """Every column of a record as plain values (secrets and bookkeeping left out)."""
    mapper = sa.inspect(type(record))
    return {
        column.key: plain(getattr(record, column.key))
        for column in mapper.column_attrs
        if column.key not in SECRET_FIELDS | BOOKKEEPING_FIELDS
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
