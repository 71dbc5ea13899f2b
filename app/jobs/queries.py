"""Read queries of jobs: plain rows for the pages (the result's bytes only to download)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import IssuedReport, Job, JobStatus, utcnow

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
    """A job as its page and the JSON poll show it."""

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
    result_type: str | None
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
    def is_report(self) -> bool:
        return self.kind in services.REPORT_KINDS

    @property
    def is_export(self) -> bool:
        return self.kind == services.LIST_EXPORT

    @property
    def makes_file(self) -> bool:
        """A job whose result is a file to download (issuing stores an issued report)."""
        return self.kind != services.ISSUE_ANNUAL

    @property
    def result_ready(self) -> bool:
        """A result to download: made, and not yet past keeping."""
        return self.has_result and not services.result_expired(self.finished_at, self.now)

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
    Job.id,
    Job.kind,
    Job.title,
    Job.parameters,
    Job.parameters_key,
    Job.status,
    Job.progress,
    Job.stage,
    Job.error,
    Job.result.is_not(None).label("has_result"),
    Job.result_type,
    Job.result_filename,
    Job.result_size,
    IssuedReport.id.label("issued_id"),
    IssuedReport.title.label("issued_title"),
    IssuedReport.version,
    IssuedReport.filename,
    IssuedReport.year,
    Job.requested_by_id,
    Job.requested_by,
    Job.created_at,
    Job.started_at,
    Job.finished_at,
    Job.updated_at,
)


def _select() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).outerjoin(IssuedReport, IssuedReport.id == Job.issued_report_id)


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
        result_type=row.result_type,
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
    """One job with the report it issued, without its result's bytes."""
    row = session.execute(_select().where(Job.id == job_id)).one_or_none()
    return _row(row, utcnow()) if row is not None else None


def recent_jobs(
    session: so.Session,
    user_id: int,
    kinds: Sequence[str] = services.KINDS,
    limit: int = RECENT_JOBS,
) -> list[JobRow]:
    """A person's latest jobs of some kinds, newest first (one query, no result bytes)."""
    now = utcnow()
    rows = session.execute(
        _select()
        .where(Job.requested_by_id == user_id, Job.kind.in_(kinds))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return [_row(row, now) for row in rows]


def job_result(session: so.Session, job_id: int) -> Job | None:
    """A job with its result's bytes, for download (None once past keeping)."""
    found = session.get(Job, job_id, options=[so.undefer(Job.result)])
    if found is None or found.result is None:
        return None
    return None if services.result_expired(found.finished_at, utcnow()) else found


def active_job(session: so.Session, kind: str, parameters_key: str) -> JobRow | None:
    """The queued or running job of a kind and parameters, if any."""
    row = session.execute(
        _select().where(
            Job.kind == kind,
            Job.parameters_key == parameters_key,
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
    ).one_or_none()
    return _row(row, utcnow()) if row is not None else None
