"""Jinja set-up: strict undefined, number and money filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Flask
from jinja2 import StrictUndefined

from .models.enums import Confidentiality


def format_money(value: Decimal | None, currency: str = "EUR", digits: int = 0) -> str:
    """Format an amount with thousands separators and its currency code."""
    if value is None:
        return "–"
    pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return f"{format_decimal(value, format=pattern, locale='en_GB')} {currency}"


def format_number(value: int | Decimal | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0", locale="en_GB")


def format_date(value: date | None) -> str:
    return "–" if value is None else value.strftime("%-d %b %Y")


def init_app(app: Flask) -> None:
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Confidentiality"] = Confidentiality
