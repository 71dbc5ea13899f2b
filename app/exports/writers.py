"""Write rows as CSV (UTF-8 with a BOM, for Excel) or XLSX (openpyxl, write-only).

Cells are typed from their values: dates stay dates, amounts (Decimal) numbers (their
currency is a column of its own), labels of enums text, yes/no for booleans, and every
piece of text is neutralised against formulas (formulas.safe_text).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.models.enums import LabelledEnum

from .formulas import safe_text
from .lists import Column

CSV_CHUNK_ROWS = 500
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def plain(value: Any) -> Any:
    """A cell value as a spreadsheet should store it (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: times are UTC, as the column heading says.
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date | int | Decimal | float):
        return value
    if isinstance(value, list | tuple):
        return safe_text("; ".join(str(v) for v in value)) or None
    if isinstance(value, dict):
        return safe_text(json.dumps(value, ensure_ascii=False, default=str))
    return safe_text(str(value))


def _csv_text(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def csv_chunks(columns: Sequence[Column], rows: Iterable[Any]) -> Iterator[str]:
    """The CSV text in pieces of a few hundred rows, starting with a byte order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # Excel reads the file as UTF-8 only with it
    writer.writerow([c.heading for c in columns])
    for count, row in enumerate(rows, 1):
        writer.writerow([_csv_text(c.value(row)) for c in columns])
        if count % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(columns: Sequence[Column], rows: Iterable[Any], title: str) -> bytes:
    """An XLSX workbook of one sheet, its heading row frozen.

    Write-only mode streams the rows to a temporary file as they come; only the finished
    (zipped) workbook is held in memory: about 6 MB for 100,000 grants.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    headings = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.heading)
        cell.font = bold
        headings.append(cell)
    sheet.append(headings)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, plain(c.value(row))) for c in columns])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    # Text is stored as text: openpyxl takes only a leading "=" for a formula, and plain()
    # has prefixed that with an apostrophe.
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = MONEY_FORMAT
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return value
