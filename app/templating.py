"""Jinja set-up: strict undefined, number and money filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, url_for
from jinja2 import StrictUndefined
from markupsafe import Markup, escape

from .models.enums import Confidentiality


def grouped(value: int | Decimal, digits: int = 0) -> str:
    """A number as en_GB writes it ("1,234,567.50"), rounded half to even.

    What Babel's ``format_decimal(value, "#,##0.00", locale="en_GB")`` gives (a test compares
    them), at a tenth of the cost: list pages format a hundred amounts each.
    """
    return f"{value:,.{digits}f}"


def format_money(value: Decimal | None, currency: str = "EUR", digits: int = 0) -> str:
    """Format an amount with thousands separators and its currency code."""
    return "–" if value is None else f"{grouped(value, digits)} {currency}"


def format_number(value: int | Decimal | None) -> str:
    return "–" if value is None else grouped(value)


def select_options(choices: Iterable[Any], selected: object = None) -> Markup:
    """``<option>`` tags for (value, label) pairs or plain values, the selected value marked.

    Filter bars list hundreds of programmes: the tags of a list of choices are made once
    (a Jinja loop escaping each of them took a fifth of the grant list's time).
    """
    listed = tuple(choices)
    try:
        html, tags = _option_tags(listed)
    except TypeError:  # unhashable choices: made afresh
        html, tags = _option_tags.__wrapped__(listed)
    wanted = tags.get("" if selected is None else str(selected))
    if wanted is None:
        return Markup(html)
    plain, marked = wanted
    return Markup(html.replace(plain, marked, 1))


@lru_cache(maxsize=128)
def _option_tags(choices: tuple[Any, ...]) -> tuple[str, dict[str, tuple[str, str]]]:
    """All the tags, and per value its tag and the same tag selected."""
    tags: dict[str, tuple[str, str]] = {}
    parts = []
    for choice in choices:
        value, label = choice if isinstance(choice, tuple | list) else (choice, choice)
        head, tail = f'<option value="{escape(value)}"', f">{escape(label)}</option>"
        tags.setdefault(str(value), (head + tail, f"{head} selected{tail}"))
        parts.append(head + tail)
    return "".join(parts), tags


def id_url(endpoint: str, key: str) -> Callable[[int], str]:
    """``url_for(endpoint, key=id)`` for many ids: the URL is built once, ids put in its place.

    A list page links every row; url_for per row was a tenth of the page's time.
    """
    marker = "918273645546372819"  # an id no URL around it contains
    values: dict[str, Any] = {key: int(marker)}
    head, found, tail = url_for(endpoint, **values).partition(marker)
    if not found or "?" in head or marker in tail:
        raise ValueError(f"{endpoint} does not put {key} in its path once")
    return lambda record_id: f"{head}{int(record_id)}{tail}"


def confidentiality_badge(level: Confidentiality) -> Markup:
    """The badge of a record that is not public (nothing for public ones)."""
    if level is Confidentiality.PUBLIC:
        return Markup("")
    return Markup('<span class="badge badge-{}">{}</span>').format(level.value, level.label)


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
    app.jinja_env.globals["select_options"] = select_options
    app.jinja_env.globals["id_url"] = id_url
    app.jinja_env.globals["confidentiality_badge"] = confidentiality_badge
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["has_endpoint"] = lambda name: name in current_app.view_functions
