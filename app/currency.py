"""Conversion of amounts to euro from the exchange-rate table."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from .models import ExchangeRate

CENT = Decimal("0.01")

# Irrevocable conversion rates of the legacy currencies of the euro area
# (Council Regulations (EC) No 2866/98 and its later amendments). The first
# migration ships these rows; a test checks the two lists agree.
LEGACY_FIXED_RATES: dict[str, Decimal] = {
    "ATS": Decimal("13.7603"),
    "BEF": Decimal("40.3399"),
    "BGN": Decimal("1.95583"),
    "CYP": Decimal("0.585274"),
    "DEM": Decimal("1.95583"),
    "EEK": Decimal("15.6466"),
    "ESP": Decimal("166.386"),
    "FIM": Decimal("5.94573"),
    "FRF": Decimal("6.55957"),
    "GRD": Decimal("340.750"),
    "HRK": Decimal("7.53450"),
    "IEP": Decimal("0.787564"),
    "ITL": Decimal("1936.27"),
    "LTL": Decimal("3.45280"),
    "LUF": Decimal("40.3399"),
    "LVL": Decimal("0.702804"),
    "MTL": Decimal("0.429300"),
    "NLG": Decimal("2.20371"),
    "PTE": Decimal("200.482"),
    "SIT": Decimal("239.640"),
    "SKK": Decimal("30.1260"),
}


class MissingRate(LookupError):
    """No exchange rate is known for a currency on a date."""


def to_euro(amount: Decimal, units_per_eur: Decimal) -> Decimal:
    """Convert an amount at a rate, rounded half-even to the cent."""
    return (amount / units_per_eur).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass
class RateTable:
    """All exchange rates in memory, for converting many amounts quickly."""

    fixed: dict[str, Decimal] = field(default_factory=dict)
    dated: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: so.Session) -> RateTable:
        """Read the exchange-rate table."""
        table = cls()
        rows = session.execute(
            sa.select(ExchangeRate.currency, ExchangeRate.units_per_eur, ExchangeRate.valid_from)
            .order_by(ExchangeRate.currency, ExchangeRate.valid_from)
        )
        for currency, rate, valid_from in rows:
            if valid_from is None:
                table.fixed[currency] = rate
            else:
                table.dated.setdefault(currency, []).append((valid_from, rate))
        return table

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of the currency per euro on a date."""
        if currency == "EUR":
            return Decimal(1)
        if currency in self.fixed:
            return self.fixed[currency]
        history = self.dated.get(currency, [])
        index = bisect.bisect_right(history, on, key=lambda item: item[0]) - 1
        if index < 0:
            raise MissingRate(f"no exchange rate for {currency} on {on.isoformat()}")
        return history[index][1]

    def to_eur(self, amount: Decimal | None, currency: str, on: date) -> Decimal | None:
        """The euro equivalent of an amount, or None if no rate is known."""
        if amount is None:
            return None
        try:
            return to_euro(amount, self.rate(currency, on))
        except MissingRate:
            return None
