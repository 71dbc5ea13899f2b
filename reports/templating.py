"""The reports' own Jinja environment: autoescape on, strict undefined, print filters.

Report templates are rendered outside Flask's environment so the CLI, tests
and background jobs render exactly what the web preview shows.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .annual_charts import data_uri

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

CENT = Decimal("0.01")


def eur(value: Decimal | None, digits: int = 2) -> str:
    """'EUR 1,234,567.89': exact to the cent unless fewer digits are asked for."""
    if value is None:
        return "–"
    pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    exact = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
    return f"EUR {format_decimal(exact, format=pattern, locale='en_GB')}"


def money(value: Decimal | None, currency: str) -> str:
    """An amount in its own currency: 'ITL 45,000,000' or 'EUR 240,000.00'."""
    if value is None:
        return "–"
    # The lira had no minor unit in practice.
    digits = 0 if currency == "ITL" else 2
    pattern = "#,##0" if digits == 0 else "#,##0.00"
    return f"{currency} {format_decimal(value, format=pattern, locale='en_GB')}"


def number(value: int | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0", locale="en_GB")


def long_date(value: date | None) -> str:
    return "–" if value is None else f"{value.day} {value.strftime('%B %Y')}"


def short_date(value: date | None) -> str:
    return "–" if value is None else value.strftime("%d %b %Y").lstrip("0")


def percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@functools.cache
def environment() -> Environment:
    """The shared environment (templates are compiled once per process)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        eur=eur,
        money=money,
        number=number,
        long_date=long_date,
        short_date=short_date,
        percent=percent,
        data_uri=data_uri,
    )
    return env


def render(template: str, **context: Any) -> str:
    """Render a report template with plain values."""
    return environment().get_template(template).render(**context)


def render_document(
    template: str,
    doc: Any,
    *,
    asset_url: str = "",
    preview: dict[str, str] | None = None,
    **extra: Any,
) -> str:
    """Render a report document (it has ``metadata``) for the PDF or the web preview.

    ``preview`` holds the preview bar's links (label → URL); None for the PDF.
    """
    return render(
        template,
        report=doc,
        doc=doc,
        meta=doc.metadata,
        asset_url=asset_url,
        preview=preview,
        **extra,
    )
