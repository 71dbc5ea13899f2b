"""Jinja set-up: strict undefined, number and money filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Flask, current_app
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


# (endpoint, label, access level, blueprints that highlight the entry); entries
# whose blueprint is not registered are left out.
NAV_ITEMS = (
    ("dashboard.home", "Overview", "reader", ("dashboard",)),
    ("portfolio.index", "Portfolio", "reader", ("portfolio",)),
    ("grants.index", "Grants", "reader", ("grants",)),
    ("outputs.index", "Outputs", "reader", ("outputs",)),
    ("organisations.index", "Organisations", "reader", ("organisations",)),
    ("people.index", "People", "reader", ("people",)),
    ("programmes.index", "Programmes", "reader", ("programmes", "areas")),
    ("funds.index", "Funds & donors", "reader", ("funds", "donors", "donations")),
    ("reports.index", "Reports", "reader", ("reports", "highlights")),
    ("imports.index", "Imports", "staff", ("imports",)),
    ("audit.index", "Audit", "staff", ("audit",)),
    ("admin.users", "Users", "admin", ("admin",)),
)


def nav_items() -> list[tuple[str, str, bool]]:
    """(endpoint, label, is current) for the entries the current user may use."""
    from flask import request
    from flask_login import current_user

    from app.auth.access import LEVEL_ROLES

    role = getattr(current_user, "role", None)
    blueprint = request.blueprint if request else None
    return [
        (endpoint, label, blueprint in blueprints)
        for endpoint, label, level, blueprints in NAV_ITEMS
        if endpoint in current_app.view_functions and role in LEVEL_ROLES[level]
    ]


def init_app(app: Flask) -> None:
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Confidentiality"] = Confidentiality
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["has_endpoint"] = lambda name: name in current_app.view_functions
