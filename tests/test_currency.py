"""Conversion to euro from the exchange-rate table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import orm as so

from app.currency import LEGACY_FIXED_RATES, RateTable, to_euro
from app.models import ExchangeRate


def test_lira_at_the_fixed_rate(session: so.Session) -> None:
    rates = RateTable.load(session)
    assert rates.to_eur(Decimal("1936270000"), "ITL", date(1990, 5, 1)) == Decimal("1000000.00")
    assert rates.to_eur(Decimal("150000000"), "ITL", date(1995, 1, 1)) == Decimal("77468.53")
    assert rates.to_eur(Decimal("1000"), "DEM", date(1998, 1, 1)) == Decimal("511.29")


def test_euro_is_itself(session: so.Session) -> None:
    assert RateTable.load(session).to_eur(Decimal("12.34"), "EUR", date(2020, 1, 1)) == Decimal(
        "12.34"
    )


def test_dated_rates_apply_from_their_date(session: so.Session) -> None:
    session.add_all([
        ExchangeRate(currency="GBP", units_per_eur=Decimal("0.85"), valid_from=date(2020, 1, 1)),
        ExchangeRate(currency="GBP", units_per_eur=Decimal("0.80"), valid_from=date(2021, 1, 1)),
    ])
    session.flush()
    rates = RateTable.load(session)
    assert rates.to_eur(Decimal("85"), "GBP", date(2020, 6, 1)) == Decimal("100.00")
    assert rates.to_eur(Decimal("80"), "GBP", date(2021, 1, 1)) == Decimal("100.00")
    assert rates.to_eur(Decimal("80"), "GBP", date(2019, 12, 31)) is None
    assert rates.to_eur(Decimal("80"), "XYZ", date(2021, 1, 1)) is None


def test_rounding_is_half_even_to_the_cent() -> None:
    assert to_euro(Decimal("0.125"), Decimal(1)) == Decimal("0.12")
    assert to_euro(Decimal("0.135"), Decimal(1)) == Decimal("0.14")


def test_every_legacy_rate_is_loaded(session: so.Session) -> None:
    assert RateTable.load(session).fixed == LEGACY_FIXED_RATES
