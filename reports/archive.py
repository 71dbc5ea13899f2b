"""The archive copy of a report: PDF/A-3u with the report's figures attached as CSV files.

Each report module turns its plain data object into :class:`FigureTable`\\ s
(``annual_figures``, ``trial_figures``, ``dossier_figures``,
``statement_figures``): the same values the PDF prints, unformatted (amounts
as plain decimals, dates in ISO 8601). :func:`archive_pdf` lays the report
out as PDF/A-3u and embeds one CSV file per table, each marked as the data
the document was made from (``AFRelationship /Data``). The CSV files are built
here from strings; nothing is fetched for them.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from weasyprint import Attachment

from .pdf import ARCHIVE_VARIANT, AssetFetcher, PdfMetadata, render_pdf

__all__ = ["FigureTable", "archive_pdf", "attachments", "csv_text", "plain_cell"]

# A spreadsheet would read these as the start of a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class FigureTable:
    """One table of a report's figures, as attached to the archive copy."""

    filename: str  # "funding-by-year.csv"
    description: str  # what the rows are, shown by PDF readers beside the file
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> list[Any]:
        """The values of one column, for tests and callers that check a figure."""
        index = self.header.index(name)
        return [row[index] for row in self.rows]


def plain_cell(value: Any) -> str:
    """A value as CSV text: decimals exact and unformatted, dates ISO, text made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    # Text is user-entered: a leading apostrophe keeps a spreadsheet from running it.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(table: FigureTable) -> str:
    """The table as RFC 4180 CSV (header row first, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows([plain_cell(value) for value in row] for row in table.rows)
    return buffer.getvalue()


def attachments(tables: Iterable[FigureTable], when: datetime | None) -> list[Attachment]:
    """WeasyPrint attachments made from the tables' CSV text (fresh objects: each is used once)."""
    stamp = when or datetime(1970, 1, 1)
    return [
        Attachment(
            string=csv_text(table),
            # Never used for these string sources; given so no default fetcher exists.
            url_fetcher=AssetFetcher(),
            name=table.filename,
            description=table.description,
            created=stamp,
            modified=stamp,
            relationship="Data",
        )
        for table in tables
    ]


def archive_pdf(html: str, metadata: PdfMetadata, tables: Sequence[FigureTable]) -> bytes:
    """Lay out report HTML as PDF/A-3u with the figure tables attached as CSV files."""
    names = [table.filename for table in tables]
    if len(set(names)) != len(names):
        raise ValueError(f"Two attachments share a name: {names}")
    return render_pdf(
        html,
        variant=ARCHIVE_VARIANT,
        metadata=metadata,
        attachments=attachments(tables, metadata.created),
    )
