"""Read queries of report jobs: plain rows for the pages (the PDF bytes only to download)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import IssuedReport, JobStatus, ReportJob, utcnow

from . import services

# A job queued this long without a worker taking it: say that no worker seems to run.
WAITING_HINT_AFTER = timedelta(seconds=20)
RECENT_JOBS = 8


@dataclass(frozen=True)
class IssuedLink:
    id: int
    title: str
    version: int
    filename: str
    year: int | None


@dataclass(frozen=True)
class JobRow:
    """A report job as its page and the JSON poll show it."""

    id: int
    kind: str
    title: str
    parameters: dict[str, Any]
    parameters_key: str
    status: JobStatus
    progress: int
    stage: str
    error: str | None
    has_result: bool
    result_filename: str | None
    result_size: int | None
    issued: IssuedLink | None
    requested_by_id: int | None
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    now: datetime

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def is_draft(self) -> bool:
        return self.kind == services.DRAFT_ANNUAL

    @property
    def slug(self) -> str:
        """The job's period as report URLs write it: '2023' or '2015-2024'."""
        return self.parameters_key.partition(":")[2]

    @property
    def is_stale(self) -> bool:
        return services.is_stale(self.status, self.created_at, self.updated_at, self.now)

    @property
    def is_waiting_long(self) -> bool:
        """Queued for a while: no worker seems to be taking jobs."""
        return self.status == JobStatus.QUEUED and self.now - self.created_at > WAITING_HINT_AFTER

    @property
    def seconds(self) -> int | None:
        """How long it ran (or has been running)."""
        if self.started_at is None:
            return None
        return max(0, int(((self.finished_at or self.now) - self.started_at).total_seconds()))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "progress": self.progress,
            "stage": self.stage,
            "finished": not self.is_active,
            "stale": self.is_stale,
        }


_COLUMNS = (
    ReportJob.id,
    ReportJob.kind,
    ReportJob.title,
    ReportJob.parameters,
    ReportJob.parameters_key,
    ReportJob.status,
    ReportJob.progress,
    ReportJob.stage,
    ReportJob.error,
    ReportJob.result_pdf.is_not(None).label("has_result"),
    ReportJob.result_filename,
    ReportJob.result_size,
    IssuedReport.id.label("issued_id"),
    IssuedReport.title.label("issued_title"),
    IssuedReport.version,
    IssuedReport.filename,
    IssuedReport.year,
    ReportJob.requested_by_id,
    ReportJob.requested_by,
    ReportJob.created_at,
    ReportJob.started_at,
    ReportJob.finished_at,
    ReportJob.updated_at,
)


def _select() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).outerjoin(
        IssuedReport, IssuedReport.id == ReportJob.issued_report_id
    )


def _row(row: Any, now: datetime) -> JobRow:
    issued = (
        IssuedLink(row.issued_id, row.issued_title, row.version, row.filename, row.year)
        if row.issued_id is not None
        else None
    )
    return JobRow(
        id=row.id,
        kind=row.kind,
        title=row.title,
        parameters=row.parameters,
        parameters_key=row.parameters_key,
        status=row.status,
        progress=row.progress,
        stage=row.stage,
        error=row.error,
        has_result=bool(row.has_result),
        result_filename=row.result_filename,
        result_size=row.result_size,
        issued=issued,
        requested_by_id=row.requested_by_id,
        requested_by=row.requested_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        updated_at=row.updated_at,
        now=now,
    )


def job(session: so.Session, job_id: int) -> JobRow | None:
    """One job with the report it issued, without the PDF bytes."""
    row = session.execute(_select().where(ReportJob.id == job_id)).one_or_none()
    return _row(row, utcnow()) if row is not None else None


def recent_jobs(session: so.Session, user_id: int, limit: int = RECENT_JOBS) -> list[JobRow]:
    """A person's latest jobs, newest first (one query, no PDF bytes)."""
    now = utcnow()
    rows = session.execute(
        _select()
        .where(ReportJob.requested_by_id == user_id)
        .order_by(ReportJob.created_at.desc(), ReportJob.id.desc())
        .limit(limit)
    )
    return [_row(row, now) for row in rows]


def job_result(session: so.Session, job_id: int) -> ReportJob | None:
    """A job with its draft PDF's bytes, for download."""
    return session.get(ReportJob, job_id, options=[so.undefer(ReportJob.result_pdf)])


def active_job(session: so.Session, kind: str, parameters_key: str) -> JobRow | None:
    """The queued or running job of a kind and parameters, if any."""
    row = session.execute(
        _select().where(
            ReportJob.kind == kind,
            ReportJob.parameters_key == parameters_key,
            ReportJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
    ).one_or_none()
    return _row(row, utcnow()) if row is not None else None
