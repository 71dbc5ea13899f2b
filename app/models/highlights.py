"""Highlights: short stories staff write for the annual impact report of a year."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, SoftDeleteMixin, TimestampMixin, VersionedMixin

if TYPE_CHECKING:
    from .grants import Grant
    from .outputs import Output
    from .users import User


class Highlight(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """A titled story of a year, in plain-text paragraphs, optionally about an output or grant."""

    __tablename__ = "highlights"
    __table_args__ = (
        # About one record at most: a trial (or other output), or a grant.
        sa.CheckConstraint("output_id IS NULL OR grant_id IS NULL", name="one_subject"),
        sa.CheckConstraint("year BETWEEN 1900 AND 2100", name="year_plausible"),
        sa.CheckConstraint("position >= 1", name="position_positive"),
        # The report and the list read a year's highlights in order.
        sa.Index("ix_highlights_year_position", "year", "position"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    year: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    output_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("outputs.id"), index=True)
    grant_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("grants.id"), index=True)
    # Order within the year: 1 first; ties fall back to the id.
    position: so.Mapped[int] = so.mapped_column(default=1)
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    output: so.Mapped[Output | None] = so.relationship()
    grant: so.Mapped[Grant | None] = so.relationship()
    author: so.Mapped[User | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<Highlight {self.year} {self.title[:30]!r}>"
