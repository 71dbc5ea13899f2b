"""Funds, donors, donations and the allocation of funds to grants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, SoftDeleteMixin, TimestampMixin, VersionedMixin, str_enum
from .enums import DonorKind
from .grants import currency_check

if TYPE_CHECKING:
    from .grants import Grant


class Fund(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """A pot of money: restricted to a purpose, or general."""

    __tablename__ = "funds"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    is_restricted: so.Mapped[bool] = so.mapped_column(default=False)
    purpose: so.Mapped[str | None] = so.mapped_column(sa.Text)

    donations: so.WriteOnlyMapped[Donation] = so.relationship(back_populates="fund")
    allocations: so.WriteOnlyMapped[FundAllocation] = so.relationship(back_populates="fund")


class Donor(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """Someone who gives money; anonymous donors are never named in reports."""

    __tablename__ = "donors"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(300), index=True)
    kind: so.Mapped[DonorKind] = so.mapped_column(str_enum(DonorKind, "donor_kind"))
    is_anonymous: so.Mapped[bool] = so.mapped_column(default=False)
    is_fictional: so.Mapped[bool] = so.mapped_column(default=False)

    donations: so.WriteOnlyMapped[Donation] = so.relationship(back_populates="donor")

    @property
    def public_name(self) -> str:
        return "Anonymous donor" if self.is_anonymous else self.name


class Donation(TimestampMixin, VersionedMixin, Base):
    """A gift received into a fund."""

    __tablename__ = "donations"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        currency_check("currency", "currency_iso"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    donor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("donors.id"), index=True)
    fund_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("funds.id"), index=True)
    received_on: so.Mapped[date]
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount_eur: so.Mapped[Decimal | None]
    reference: so.Mapped[str | None] = so.mapped_column(sa.String(60), unique=True)

    donor: so.Mapped[Donor] = so.relationship(back_populates="donations")
    fund: so.Mapped[Fund] = so.relationship(back_populates="donations")


class FundAllocation(TimestampMixin, VersionedMixin, Base):
    """How much of a grant a fund pays."""

    __tablename__ = "fund_allocations"
    __table_args__ = (
        sa.UniqueConstraint("fund_id", "grant_id"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        currency_check("currency", "currency_iso"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    fund_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("funds.id"), index=True)
    grant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount_eur: so.Mapped[Decimal | None]

    fund: so.Mapped[Fund] = so.relationship(back_populates="allocations")
    grant: so.Mapped[Grant] = so.relationship(back_populates="fund_allocations")
