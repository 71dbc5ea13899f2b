"""Issuing reports: the exact PDF bytes stored for good, with their hash and data fingerprint.

Services: they validate, set, flush and audit; the view commits. An issued
report is never changed: issuing the same report again (same kind and
parameters) adds version N+1 and keeps every earlier version downloadable.

Beside the PDF trustees download, issuing stores an archive copy of the same
data: PDF/A-3u with the report's figures attached as CSV files
(``reports.archive``). :func:`archive_download` reads it back; reports issued
before archive copies existed have none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.models import AuditAction, Confidentiality, IssuedReport, User, utcnow
from reports.annual import TRUSTEE_LEVELS, annual_archive_pdf, annual_pdf, build_annual_report
from reports.annual_data import Period

ANNUAL = "annual"
# Not data: when and in which state the object was built, and the charts drawn from its
# figures. Leaving them out makes the fingerprint change only when the data do.
NOT_DATA = frozenset({"generated_at", "is_draft", "charts", "timeline_svg"})
# Two staff issuing the same report at once both pick version N+1; the loser retries.
VERSION_ATTEMPTS = 3


def _plain(value: Any) -> Any:
    """A report's value as JSON-ready plain data: Decimals and dates as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.name not in NOT_DATA
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3": the same amount, the same text
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def fingerprint(report: Any) -> str:
    """The sha256 of a report data object's canonical JSON (its data, not when it was built)."""
    canonical = json.dumps(
        _plain(report), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parameters_key(kind: str, parameters: dict[str, Any]) -> str:
    """The canonical name of what a report is about: 'annual:2023', 'annual:2015-2024'.

    Reports of other kinds name their subject by id: 'trial:1234'.
    """
    if kind == ANNUAL:
        start, end = int(parameters["start_year"]), int(parameters["end_year"])
        return f"{kind}:{start}" if start == end else f"{kind}:{start}-{end}"
    return f"{kind}:{parameters['id']}"


def annual_key(period: Period) -> str:
    """The parameters key of the annual report of a period."""
    return parameters_key(ANNUAL, {"start_year": period.start_year, "end_year": period.end_year})


def report_filename(key: str, version: int) -> str:
    """The download's file name: 'annual-report-2023-v2.pdf'."""
    kind, _, subject = key.partition(":")
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", subject).strip("-")
    return f"{kind}-report-{safe}-v{version}.pdf"


def archive_filename(filename: str) -> str:
    """The archive copy's file name: 'annual-report-2023-v2-pdfa.pdf'."""
    return f"{filename.removesuffix('.pdf')}-pdfa.pdf"


def next_version(session: so.Session, kind: str, key: str) -> int:
    """The version number the next issue of a report gets."""
    latest = session.scalar(
        sa.select(sa.func.max(IssuedReport.version)).where(
            IssuedReport.kind == kind, IssuedReport.parameters_key == key
        )
    )
    return (latest or 0) + 1


def issue_report(
    session: so.Session,
    kind: str,
    parameters: dict[str, Any],
    pdf_bytes: bytes,
    *,
    title: str,
    year: int | None,
    user: User,
    data: Any,
    archive_bytes: bytes | None = None,
) -> IssuedReport:
    """Store a PDF as the next version of its report with its sha256 and data fingerprint.

    ``archive_bytes``, the PDF/A-3u archive copy of the same data, is stored beside it.
    """
    if not pdf_bytes.startswith(b"%PDF-"):
        raise ValueError("Only a PDF document can be issued")
    if archive_bytes is not None and not archive_bytes.startswith(b"%PDF-"):
        raise ValueError("The archive copy must be a PDF document")
    key = parameters_key(kind, parameters)
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    archive_digest = hashlib.sha256(archive_bytes).hexdigest() if archive_bytes else None
    data_fingerprint = fingerprint(data)
    for attempt in range(1, VERSION_ATTEMPTS + 1):
        version = next_version(session, kind, key)
        issued = IssuedReport(
            kind=kind,
            title=title,
            year=year,
            parameters=parameters,
            parameters_key=key,
            version=version,
            filename=report_filename(key, version),
            pdf=pdf_bytes,
            size_bytes=len(pdf_bytes),
            sha256=digest,
            data_fingerprint=data_fingerprint,
            archive_pdf=archive_bytes,
            archive_size_bytes=len(archive_bytes) if archive_bytes is not None else None,
            archive_sha256=archive_digest,
            issued_by_id=user.id,
            issued_by=user.email,
            issued_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(issued)
                session.flush()
            break
        except IntegrityError:
            if attempt == VERSION_ATTEMPTS:
                raise
    record(
        session,
        AuditAction.ISSUE,
        entity=issued,
        user=user,
        summary=f"{title}, version {version}",
        changes={
            "parameters": [None, parameters],
            "filename": [None, issued.filename],
            "size_bytes": [None, issued.size_bytes],
            "sha256": [None, digest],
            "data_fingerprint": [None, data_fingerprint],
            **({"archive_sha256": [None, archive_digest]} if archive_digest else {}),
        },
    )
    return issued


def issue_annual_report(
    session: so.Session,
    period: Period,
    *,
    foundation: str,
    user: User,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    include_register: bool = True,
) -> IssuedReport:
    """Build and render the annual report of a period without the draft mark, and issue it.

    Two renders of the same data object: the PDF trustees download and its
    PDF/A-3u archive copy with the figures attached as CSV.
    """
    report = build_annual_report(
        session,
        period,
        foundation=foundation,
        levels=levels,
        include_register=include_register,
        is_draft=False,
    )
    parameters = {
        "start_year": period.start_year,
        "end_year": period.end_year,
        "levels": [level.value for level in levels],
        "include_register": include_register,
    }
    return issue_report(
        session,
        ANNUAL,
        parameters,
        annual_pdf(report),
        title=report.title,
        year=period.end_year,
        user=user,
        data=report,
        archive_bytes=annual_archive_pdf(report),
    )


@dataclasses.dataclass(frozen=True)
class ArchiveFile:
    """An issued report's archive copy, ready to send."""

    report_id: int
    title: str
    version: int
    filename: str  # "annual-report-2023-v2-pdfa.pdf"
    pdf: bytes
    sha256: str


def archive_download(session: so.Session, report_id: int) -> ArchiveFile | None:
    """The archive copy of an issued report (None if unknown or issued without one)."""
    issued = session.get(IssuedReport, report_id, options=[so.undefer(IssuedReport.archive_pdf)])
    if issued is None or issued.archive_pdf is None or issued.archive_sha256 is None:
        return None
    return ArchiveFile(
        report_id=issued.id,
        title=issued.title,
        version=issued.version,
        filename=archive_filename(issued.filename),
        pdf=issued.archive_pdf,
        sha256=issued.archive_sha256,
    )
