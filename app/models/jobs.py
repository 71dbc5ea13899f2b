"""Background jobs: long work (report renders, large list exports) run by the worker, with
their progress and result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, str_enum, utcnow
from .enums import LabelledEnum


class JobStatus(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# A job still to run or running; at most one per kind and parameters (double clicks).
ACTIVE = sa.text("status IN ('queued', 'running')")


class Job(Base):
    """One piece of work in the background: what, by whom, how far, and its result."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index(
            "uq_jobs_active",
            "kind",
            "parameters_key",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        sa.Index("ix_jobs_requested_by_id_created_at", "requested_by_id", "created_at"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    parameters: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    # What the job is about, for "one active job each" (see app.jobs.services.request_job).
    parameters_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    status: so.Mapped[JobStatus] = so.mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    progress: so.Mapped[int] = so.mapped_column(default=0)
    stage: so.Mapped[str] = so.mapped_column(sa.String(200), default="Waiting for a worker")
    # For the person who asked, never a traceback (that goes to the log).
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    issued_report_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("issued_reports.id", ondelete="SET NULL")
    )
    # The file a job made (a draft PDF, an export), kept for a while for its download (see
    # app.jobs.services.RESULT_DAYS), with its media type and the name it is downloaded as.
    result: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    result_type: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    result_filename: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    result_size: so.Mapped[int | None]
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_by: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)
