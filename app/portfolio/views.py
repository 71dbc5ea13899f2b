"""GET /portfolio: figures, tables and charts for a period of years."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.auth.access import reader_required
from app.extensions import db
from app.visibility import visible_levels
from reports.portfolio_charts import funding_by_year_svg, horizontal_bars_svg

from .priceindex import price_index_years
from .queries import PortfolioFigures, portfolio_figures

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio", template_folder="templates")

EARLIEST_YEAR = 1900


@dataclass(frozen=True)
class PeriodChoice:
    """The period and real-terms base year asked for, made sensible."""

    start: int
    end: int
    base: int | None


def _year(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) == 4 else None


def _choice(args: Mapping[str, str], index_years: tuple[int, ...]) -> PeriodChoice:
    """Read ?from=&to=&base=; default: the last complete year, real terms at the latest index."""
    latest = date.today().year + 1
    default = date.today().year - 1
    start = _year(args.get("from"))
    end = _year(args.get("to"))
    start = min(max(start or end or default, EARLIEST_YEAR), latest)
    end = min(max(end or start, EARLIEST_YEAR), latest)
    start, end = min(start, end), max(start, end)
    if "base" in args:
        base = _year(args.get("base"))
        base = base if base in index_years else None
    else:
        base = index_years[-1] if index_years else None
    return PeriodChoice(start, end, base)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def _charts(figures: PortfolioFigures) -> dict[str, str]:
    """The page's charts as data: URIs (allowed by the page's img-src; no extra requests)."""
    charts = {}
    if figures.funding_by_year_all:
        charts["funding"] = _data_uri(
            funding_by_year_svg(
                [(y.year, y.amount_eur) for y in figures.funding_by_year_all],
                highlight=(figures.start_year, figures.end_year),
            )
        )
    if figures.outputs_by_type:
        charts["outputs"] = _data_uri(
            horizontal_bars_svg(
                [(row.label, row.count) for row in figures.outputs_by_type], "output", "outputs"
            )
        )
    if figures.trials_by_phase:
        charts["trials"] = _data_uri(
            horizontal_bars_svg(
                [(row.label, row.count) for row in figures.trials_by_phase], "trial", "trials"
            )
        )
    return charts


@bp.route("")
@reader_required
def index() -> str:
    """Show what was awarded, produced and trialled in a period of years."""
    index_years = price_index_years(db.session)
    choice = _choice(request.args, index_years)
    figures = portfolio_figures(
        db.session, choice.start, choice.end, visible_levels(current_user), choice.base
    )
    first = figures.funding_by_year_all[0].year if figures.funding_by_year_all else choice.start
    years = list(range(max(date.today().year, choice.end), min(first, choice.start) - 1, -1))
    return render_template(
        "portfolio/index.html",
        figures=figures,
        choice=choice,
        years=years,
        index_years=index_years,
        charts=_charts(figures),
    )
