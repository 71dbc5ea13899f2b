"""Import of the price index: a thin wrapper around app.portfolio.priceindex.load_price_index.

This module only adapts the file (CSV in any accepted encoding and separator,
or XLSX) to the loader's rows; the loader checks every row and writes all or
nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import orm as so

from app.portfolio.priceindex import load_price_index

from .columns import Column, Header, Outcome, is_blank
from .context import ImportContext

KIND = "priceindex"
COLUMNS = (
    Column("year", True, ("anno",), "Four-digit year, once per file.", "2004"),
    Column(
        "value",
        True,
        ("index", "index value", "cpi", "indice"),
        "The index for that year, more than zero, at most four decimals.",
        "123,4",
    ),
    Column(
        "source",
        False,
        ("fonte",),
        "Where the figure comes from; a missing column keeps stored sources.",
        "ISTAT FOI",
    ),
)


def import_price_index(
    session: so.Session, header: Header, rows: Any, outcome: Outcome, context: ImportContext
) -> None:
    """Hand the rows to the price-index loader and report what it did."""
    names = [c.name for c in COLUMNS if header.has(c.name)]
    mapped: list[dict[str, str]] = []
    year_rows: dict[str, int] = {}
    first_row = None
    for number, cells in rows:
        first_row = first_row or number
        if is_blank(cells):
            outcome.counts["skipped"] += 1
        row = {name: header.cell(cells, name) for name in names}
        year_rows.setdefault(row["year"].strip(), number)
        mapped.append(row)
    result = load_price_index(session, mapped, first_row=first_row or 2, dry_run=not context.apply)
    for error in result.errors:
        outcome.error(error.row, error.column, error.value, error.reason)
    if not result.ok:
        return
    for action, years in (
        ("created", result.inserted),
        ("updated", result.updated),
        ("unchanged", result.unchanged),
    ):
        for year in years:
            change = result.changes.get(str(year))
            detail = f"{change[0] or '–'} → {change[1]}" if change else ""
            outcome.done(year_rows.get(str(year), 0), action, str(year), "Price index", detail)
    outcome.preview.sort(key=lambda p: p.row)
    outcome.unchanged.sort(key=lambda p: p.row)
