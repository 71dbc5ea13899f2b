"""Exchange rates to the euro and an optional price index."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, ScaledDecimal, TimestampMixin


class ExchangeRate(TimestampMixin, Base):
    """Units of a currency per euro, from a date on (or fixed for good)."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        sa.UniqueConstraint("currency", "valid_from"),
        sa.CheckConstraint("units_per_eur > 0", name="rate_positive"),
        sa.CheckConstraint("is_fixed = (valid_from IS NULL)", name="fixed_has_no_date"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), index=True)
    units_per_eur: so.Mapped[Decimal] = so.mapped_column(ScaledDecimal(6))
    # NULL for the irrevocable fixed rates of legacy euro-area currencies.
    valid_from: so.Mapped[date | None]
    is_fixed: so.Mapped[bool] = so.mapped_column(default=False)
    source: so.Mapped[str | None] = so.mapped_column(sa.String(300))


class PriceIndex(TimestampMixin, Base):
    """An annual consumer-price index value, to express money in real terms."""

    __tablename__ = "price_indices"
    __table_args__ = (sa.CheckConstraint("value > 0", name="value_positive"),)

    year: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    value: so.Mapped[Decimal] = so.mapped_column(ScaledDecimal(4))
    source: so.Mapped[str | None] = so.mapped_column(sa.String(300))
