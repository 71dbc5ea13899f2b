"""The audit trail and the record of every import run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, str_enum, utcnow
from .enums import AuditAction, ImportStatus


class AuditEvent(Base):
    """Who did what to which record, with each changed field before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Kept as text so the trail still reads right after a user is removed.
    actor: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    action: so.Mapped[AuditAction] = so.mapped_column(str_enum(AuditAction, "audit_action"))
    entity_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    entity_id: so.Mapped[int | None]
    # The record's version after this change: "what changed since version N".
    entity_version: so.Mapped[int | None]
    summary: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # {"field": [before, after], ...}; for a delete, the whole record as it was.
    changes: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    remote_addr: so.Mapped[str | None] = so.mapped_column(sa.String(45))


class ImportRun(Base):
    """One import of a file, dry run or applied, with its counts and errors."""

    __tablename__ = "import_runs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    actor: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    status: so.Mapped[ImportStatus] = so.mapped_column(str_enum(ImportStatus, "import_status"))
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[datetime | None]
    counts: so.Mapped[dict[str, int] | None] = so.mapped_column(sa.JSON)
    errors: so.Mapped[list[dict[str, Any]] | None] = so.mapped_column(sa.JSON)
