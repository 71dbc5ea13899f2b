"""The price index: loading it from CSV, and expressing euro amounts in real terms.

Real terms: an amount awarded in year Y is worth ``amount × index[base] / index[Y]``
in base-year euros. Sums are taken on the unrounded values and rounded once,
half-even to the cent.

The loader is all-or-nothing: :func:`load_price_index` checks every row first
and writes nothing if any row is bad. It neither commits nor records the import
run, so the general import framework can call it inside its own transaction;
:func:`import_price_index` is the complete import (read, check, write, record).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import AuditAction, ImportRun, ImportStatus, PriceIndex, User, utcnow

__all__ = [
    "COLUMNS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "PriceIndexError",
    "PriceIndexImport",
    "PriceIndexResult",
    "import_price_index",
    "index_values",
    "lineage_real_terms",
    "load_price_index",
    "price_index_years",
    "read_price_index_csv",
    "real_terms_sum",
    "real_terms_total",
    "to_real_terms",
]

CENT = Decimal("0.01")
COLUMNS = ("year", "value", "source")
REQUIRED = ("year", "value")
FIRST_YEAR, LAST_YEAR = 1900, 2200
SCALE = 4  # PriceIndex.value is stored with four decimals
SOURCE_LENGTH = 300
YEAR_PATTERN = re.compile(r"\d{4}")


# --------------------------------------------------------------------------- real terms


def to_real_terms(
    amount_eur: Decimal, from_year: int, base_year: int, index: Mapping[int, Decimal]
) -> Decimal:
    """``amount_eur`` of ``from_year`` in ``base_year`` euros, rounded to the cent.

    Raises KeyError when the index lacks either year.
    """
    return (amount_eur * index[base_year] / index[from_year]).quantize(
        CENT, rounding=ROUND_HALF_EVEN
    )


def real_terms_sum(
    amounts: Iterable[tuple[int, Decimal]], base_year: int, index: Mapping[int, Decimal]
) -> Decimal | None:
    """Sum of (year, amount) pairs in base-year euros; None if any year lacks a value."""
    if base_year not in index:
        return None
    total = Decimal(0)
    for year, amount in amounts:
        if year not in index:
            return None
        total += amount * index[base_year] / index[year]
    return total.quantize(CENT, rounding=ROUND_HALF_EVEN)


def index_values(session: so.Session, years: Iterable[int]) -> dict[int, Decimal]:
    """The index values loaded for the given years (one query)."""
    wanted = sorted(set(years))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(PriceIndex.year, PriceIndex.value).where(PriceIndex.year.in_(wanted))
    )
    return {row.year: row.value for row in rows}


def real_terms_total(
    session: so.Session, amounts: Sequence[tuple[int, Decimal]], base_year: int
) -> Decimal | None:
    """Sum of (year, amount_eur) pairs in ``base_year`` euros; None where the index has gaps."""
    index = index_values(session, [base_year, *(year for year, _ in amounts)])
    return real_terms_sum(amounts, base_year, index)


def lineage_real_terms(session: so.Session, lineage: Any, base_year: int) -> Decimal | None:
    """A pathway's total awarded (app.lineage ``Lineage``) in ``base_year`` euros.

    Counts the same grants as the nominal total: each once, those without a
    euro equivalent left out.
    """
    amounts = [
        (grant.award_date.year, grant.amount_eur)
        for grant in lineage.grants
        if grant.amount_eur is not None
    ]
    return real_terms_total(session, amounts, base_year)


def price_index_years(session: so.Session) -> tuple[int, ...]:
    """Every year with an index value, oldest first."""
    return tuple(session.scalars(sa.select(PriceIndex.year).order_by(PriceIndex.year)))


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class PriceIndexError:
    """One problem in the file: where (row, column), what was there, and why it is wrong."""

    row: int
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is not None:
            where += f", value {self.value!r}"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class PriceIndexResult:
    """What a load did (or, with errors, would have refused to do)."""

    rows: int
    inserted: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    unchanged: tuple[int, ...] = ()
    errors: tuple[PriceIndexError, ...] = ()
    # {year: [before, after]} for the audit trail, values as strings.
    changes: dict[str, list[str | None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": len(self.inserted),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "errors": len(self.errors),
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_year(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():  # spreadsheets hand numbers as floats
        return int(raw)
    text = _text(raw)
    return int(text) if YEAR_PATTERN.fullmatch(text) else None


def _parse_value(raw: Any) -> Decimal | None:
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = _text(raw).replace(" ", "")
    if "," in text and "." not in text:  # a decimal comma (Italian spreadsheets)
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_row(
    number: int, row: Mapping[str, Any], errors: list[PriceIndexError]
) -> tuple[int, Decimal, str | None] | None:
    bad = len(errors)
    raw_year, raw_value = row.get("year"), row.get("value")
    year = _parse_year(raw_year)
    if year is None:
        reason = "missing" if _text(raw_year) == "" else "not a whole four-digit year"
        errors.append(PriceIndexError(number, "year", _text(raw_year), reason))
    elif not FIRST_YEAR <= year <= LAST_YEAR:
        errors.append(
            PriceIndexError(number, "year", _text(raw_year), f"outside {FIRST_YEAR}-{LAST_YEAR}")
        )
    value = _parse_value(raw_value)
    if value is None:
        reason = "missing" if _text(raw_value) == "" else "not a number"
        errors.append(PriceIndexError(number, "value", _text(raw_value), reason))
    elif value <= 0:
        errors.append(PriceIndexError(number, "value", _text(raw_value), "must be positive"))
    elif value != value.quantize(Decimal(1).scaleb(-SCALE)) or value >= Decimal(10) ** 12:
        errors.append(
            PriceIndexError(
                number, "value", _text(raw_value), f"more than {SCALE} decimal places or too large"
            )
        )
    source = _text(row.get("source")) or None
    if source is not None and (len(source) > SOURCE_LENGTH or not source.isprintable()):
        errors.append(
            PriceIndexError(
                number,
                "source",
                source[:40],
                f"longer than {SOURCE_LENGTH} characters or contains control characters",
            )
        )
    if len(errors) > bad or year is None or value is None:
        return None
    return year, value, source


def load_price_index(
    session: so.Session,
    rows: Iterable[Mapping[str, Any]],
    *,
    first_row: int = 2,
    dry_run: bool = False,
) -> PriceIndexResult:
    """Check every row, then insert new years and update changed ones (all or nothing).

    Rows are mappings with keys ``year``, ``value`` and optionally ``source``
    (a missing ``source`` key leaves a stored source alone); ``first_row`` is
    the row number of the first one in the file, for messages. Nothing is
    written if any row is bad or with ``dry_run``; never commits.
    """
    errors: list[PriceIndexError] = []
    parsed: dict[int, tuple[Decimal, str | None, bool]] = {}
    seen_at: dict[int, int] = {}
    count = 0
    for number, row in enumerate(rows, start=first_row):
        if all(_text(value) == "" for value in row.values()):
            continue  # blank lines at the end of spreadsheets
        count += 1
        checked = _check_row(number, row, errors)
        if checked is None:
            continue
        year, value, source = checked
        if year in seen_at:
            errors.append(
                PriceIndexError(number, "year", str(year), f"duplicate of row {seen_at[year]}")
            )
            continue
        seen_at[year] = number
        parsed[year] = (value, source, "source" in row)
    if count == 0 and not errors:
        errors.append(PriceIndexError(first_row, None, None, "the file has no data rows"))
    if errors:
        return PriceIndexResult(rows=count, errors=tuple(errors))

    existing = {
        index.year: index
        for index in session.scalars(sa.select(PriceIndex).where(PriceIndex.year.in_(parsed)))
    }
    inserted, updated, unchanged = [], [], []
    changes: dict[str, list[str | None]] = {}
    for year in sorted(parsed):
        value, source, has_source = parsed[year]
        current = existing.get(year)
        if current is None:
            inserted.append(year)
            changes[str(year)] = [None, str(value)]
            if not dry_run:
                session.add(PriceIndex(year=year, value=value, source=source))
        elif current.value != value or (has_source and current.source != source):
            updated.append(year)
            changes[str(year)] = [str(current.value), str(value)]
            if not dry_run:
                current.value = value
                if has_source:
                    current.source = source
        else:
            unchanged.append(year)
    if not dry_run:
        session.flush()
    return PriceIndexResult(
        rows=count,
        inserted=tuple(inserted),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        changes=changes,
    )


def read_price_index_csv(
    data: bytes,
) -> tuple[list[dict[str, str]], list[PriceIndexError]]:
    """Rows of a CSV file (comma or semicolon, UTF-8 with or without BOM) and header errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [PriceIndexError(1, None, None, f"not UTF-8 text (byte {exc.start})")]
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    errors = [
        PriceIndexError(1, name, name, f"unknown column (expected {', '.join(COLUMNS)})")
        for name in header
        if name not in COLUMNS
    ]
    errors += [
        PriceIndexError(1, name, None, "required column missing")
        for name in REQUIRED
        if name not in header
    ]
    errors += [
        PriceIndexError(1, name, name, "column appears twice")
        for position, name in enumerate(header)
        if name in header[:position]
    ]
    if errors:
        return [], errors
    rows = []
    for number, cells in enumerate(reader, start=2):
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            errors.append(
                PriceIndexError(number, None, None, f"{len(cells)} cells but {len(header)} columns")
            )
        rows.append({name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)})
    return rows, errors


@dataclass(frozen=True)
class PriceIndexImport:
    """An import run: its record and what the load did."""

    run: ImportRun
    result: PriceIndexResult


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def import_price_index(
    session: so.Session,
    filename: str,
    data: bytes,
    *,
    dry_run: bool = False,
    user: User | None = None,
) -> PriceIndexImport:
    """Import a price-index CSV: load it (all or nothing) and record the run and an audit event.

    On any error (or with ``dry_run``) no index value is written, only the
    ImportRun with its errors and the audit event. Never commits.
    """
    rows, errors = read_price_index_csv(data)
    result = (
        PriceIndexResult(rows=len(rows), errors=tuple(errors))
        if errors
        else load_price_index(session, rows, dry_run=dry_run)
    )
    status = (
        ImportStatus.FAILED
        if not result.ok
        else ImportStatus.DRY_RUN
        if dry_run
        else ImportStatus.APPLIED
    )
    actor = user.email if user else _cli_actor()
    run = ImportRun(
        kind="priceindex",
        filename=filename[-255:],
        sha256=hashlib.sha256(data).hexdigest(),
        user_id=user.id if user else None,
        actor=actor,
        status=status,
        finished_at=utcnow(),
        counts=result.counts,
        errors=[error.as_dict() for error in result.errors] or None,
    )
    session.add(run)
    session.flush()
    counts = result.counts
    record(
        session,
        AuditAction.IMPORT,
        entity=run,
        user=user,
        actor=actor,
        summary=(
            f"Price index import from {filename}: {status.label.lower()}; "
            f"{counts['inserted']} added, {counts['updated']} changed, "
            f"{counts['unchanged']} unchanged, {counts['errors']} errors"
        ),
        changes=result.changes or None,
    )
    return PriceIndexImport(run=run, result=result)
