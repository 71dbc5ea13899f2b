"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import AuditEvent


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
