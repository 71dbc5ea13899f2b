"""Read queries of the reports pages (plain rows; the PDF bytes are never loaded here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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
    title: str
    year: int | None
    version: int
    filename: str
    size_bytes: int
    issued_by: str | None
    issued_at: datetime


def issued_reports(session: so.Session) -> list[IssuedRow]:
    """Every issued report, newest year and version first (one query, no PDF bytes)."""
    rows = session.execute(
        sa.select(
            IssuedReport.id,
            IssuedReport.kind,
            IssuedReport.title,
            IssuedReport.year,
            IssuedReport.version,
            IssuedReport.filename,
            IssuedReport.size_bytes,
            IssuedReport.issued_by,
            IssuedReport.issued_at,
        ).order_by(
            IssuedReport.year.desc().nulls_last(),
            IssuedReport.kind,
            IssuedReport.version.desc(),
            IssuedReport.id.desc(),
        )
    )
    return [IssuedRow(*row) for row in rows]


def report_years(session: so.Session) -> list[int]:
    """Years an annual report can be made for: the first award's year to this year."""
    this_year = date.today().year
    first = first_award_year(session, TRUSTEE_LEVELS) or this_year
    return list(range(this_year, first - 1, -1))


def default_year(years: list[int]) -> int | None:
    """Last year, the usual subject of an annual report, when it is offered."""
    last_year = date.today().year - 1
    return last_year if last_year in years else (years[0] if years else None)


def is_report_year(year: int) -> bool:
    """Whether a year from a URL is a plausible report year."""
    return FIRST_REPORT_YEAR <= year <= date.today().year + 1
