"""Issued reports: the exact PDF bytes trustees download, never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, utcnow


class IssuedReport(Base):
    """An issued PDF with its fingerprint; re-issuing adds a new version."""

    __tablename__ = "issued_reports"
    __table_args__ = (
        sa.UniqueConstraint("kind", "parameters_key", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    year: so.Mapped[int | None] = so.mapped_column(index=True)
    parameters: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    parameters_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    version: so.Mapped[int]
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    pdf: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    size_bytes: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    data_fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The archive copy (PDF/A-3u with the figures attached as CSV), rendered from the
    # same data when issued; None for reports issued before archive copies existed.
    archive_pdf: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    archive_size_bytes: so.Mapped[int | None]
    archive_sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    issued_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    issued_by: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    issued_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
