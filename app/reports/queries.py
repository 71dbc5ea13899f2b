"""Read queries of the reports pages (plain rows; the PDF bytes are loaded only to download)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import IssuedReport
from reports.annual import TRUSTEE_LEVELS
from reports.annual_data import first_award_year

# Years outside this range are not report years (404, not an empty report).
FIRST_REPORT_YEAR = 1900


@dataclass(frozen=True)
class IssuedRow:
    id: int
    kind: str
    parameters_key: str
    title: str
    year: int | None
    version: int
    filename: str
    size_bytes: int
    sha256: str
    issued_by: str | None
    issued_at: datetime
    archive_sha256: str | None  # None: issued before archive copies were kept


@dataclass(frozen=True)
class IssuedGroup:
    """One report (kind and parameters): its newest version and the versions it replaced."""

    latest: IssuedRow
    older: tuple[IssuedRow, ...]


@dataclass(frozen=True)
class IssuedYear:
    year: int | None
    groups: tuple[IssuedGroup, ...]


# Only these columns: IssuedReport.pdf (deferred anyway) must never be read by a listing.
_ROW_COLUMNS = (
    IssuedReport.id,
    IssuedReport.kind,
    IssuedReport.parameters_key,
    IssuedReport.title,
    IssuedReport.year,
    IssuedReport.version,
    IssuedReport.filename,
    IssuedReport.size_bytes,
    IssuedReport.sha256,
    IssuedReport.issued_by,
    IssuedReport.issued_at,
    IssuedReport.archive_sha256,
)


def issued_reports(session: so.Session) -> list[IssuedRow]:
    """Every issued report, newest year first, each report's versions newest first (one query)."""
    rows = session.execute(
        sa.select(*_ROW_COLUMNS).order_by(
            IssuedReport.year.desc().nulls_last(),
            IssuedReport.kind,
            IssuedReport.parameters_key,
            IssuedReport.version.desc(),
        )
    )
    return [IssuedRow(**row._mapping) for row in rows]


def issued_by_year(session: so.Session) -> list[IssuedYear]:
    """Issued reports grouped by year (newest first), older versions under the newest."""
    years = []
    for year, in_year in groupby(issued_reports(session), key=lambda row: row.year):
        groups = []
        for _, versions in groupby(in_year, key=lambda row: (row.kind, row.parameters_key)):
            latest, *older = versions
            groups.append(IssuedGroup(latest, tuple(older)))
        years.append(IssuedYear(year, tuple(groups)))
    return years


def issued_versions(session: so.Session, kind: str, parameters_key: str) -> list[IssuedRow]:
    """The issued versions of one report, newest first (no PDF bytes)."""
    rows = session.execute(
        sa.select(*_ROW_COLUMNS)
        .where(IssuedReport.kind == kind, IssuedReport.parameters_key == parameters_key)
        .order_by(IssuedReport.version.desc())
    )
    return [IssuedRow(**row._mapping) for row in rows]


def issued_file(session: so.Session, report_id: int) -> IssuedReport | None:
    """An issued report with its PDF bytes, for download."""
    return session.get(IssuedReport, report_id, options=[so.undefer(IssuedReport.pdf)])


def report_years(session: so.Session) -> list[int]:
    """Years an annual report can be made for: the first award's year to this year."""
    this_year = date.today().year
    first = first_award_year(session, TRUSTEE_LEVELS) or this_year
    return list(range(this_year, first - 1, -1))


def default_year(years: list[int]) -> int | None:
    """Last year, the usual subject of an annual report, when it is offered."""
    last_year = date.today().year - 1
    return last_year if last_year in years else (years[0] if years else None)


@dataclass(frozen=True)
class PeriodChoice:
    """The years chosen in the annual report form (None: not chosen or not valid)."""

    start: int | None
    end: int | None

    @property
    def slug(self) -> str:
        """The period as URLs and parameters keys write it: '2023' or '2015-2024'."""
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


def default_choice(years: list[int]) -> PeriodChoice:
    """The form's first choice: last year alone."""
    year = default_year(years)
    return PeriodChoice(year, year)


def _year(args: Mapping[str, str], name: str) -> int | None:
    text = (args.get(name) or "").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


def parse_choice(args: Mapping[str, str], years: list[int]) -> tuple[PeriodChoice, str | None]:
    """The year or range from the form's from/to selects (or a single ``year``), and any error."""
    start, end = _year(args, "start"), _year(args, "end")
    if "year" in args and "start" not in args:
        start = end = _year(args, "year")
    elif end is None and "end" not in args:
        end = start
    choice = PeriodChoice(start if start in years else None, end if end in years else None)
    if choice.start is None or choice.end is None:
        return choice, "Choose years between the first grant and this year."
    if choice.end < choice.start:
        return choice, "The range ends before it starts: choose a “To” year after the “From” year."
    return choice, None


def is_report_year(year: int) -> bool:
    """Whether a year from a URL is a plausible report year."""
    return FIRST_REPORT_YEAR <= year <= date.today().year + 1
