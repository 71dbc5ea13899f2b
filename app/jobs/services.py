"""Writes to jobs: request one (at most one active per subject), progress, results.

Services set and flush; the caller commits. The worker calls the progress
functions in short transactions of their own (see app.jobs.tasks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.exc import IntegrityError

from app.models import IssuedReport, Job, JobStatus, Role, User, utcnow
from app.reports import issuing
from app.visibility import visible_levels

from . import render

DRAFT_ANNUAL = "annual_draft"
ISSUE_ANNUAL = "annual_issue"
LIST_EXPORT = "list_export"
# Report jobs are the foundation's: any staff member follows them, and a colleague asking
# for the same report joins the job under way. Other jobs are their requester's.
REPORT_KINDS = (DRAFT_ANNUAL, ISSUE_ANNUAL)
KINDS = (*REPORT_KINDS, LIST_EXPORT)

# A running job reports progress at least every few seconds (each page laid out, rows
# written); this long without any means its worker died. Queued this long: no worker.
STALE_RUNNING = timedelta(minutes=10)
STALE_QUEUED = timedelta(hours=1)
# Results (draft PDFs, exported files) are kept this long for their download, then
# dropped (the job row stays).
RESULT_DAYS = 7

# A job's stage once a worker took it, until its work reports its first stage.
STARTING = "Starting"

UNEXPECTED = (
    "It could not be made because of an unexpected error. It has been logged "
    "(job {id}); please try again, and tell an administrator if it happens again."
)
INTERRUPTED = "The worker stopped before the job was finished. Please ask for it again."
STALE = "This job made no progress for a long time: its worker probably stopped."
QUEUE_DOWN = (
    "The job queue could not be reached, so the job was not started. Please try again "
    "in a moment, and tell an administrator if it happens again."
)


class JobRefused(Exception):
    """A job that cannot run, with the reason to show to the person who asked for it."""


def job_key(kind: str, parameters: dict[str, Any]) -> str:
    """What a report job is about, as issued reports name it: 'annual:2015-2024'."""
    return issuing.parameters_key(issuing.ANNUAL, parameters)


def may_follow(user: Any, kind: str, requested_by_id: int | None) -> bool:
    """Whether a user may see a job's page and take its result."""
    if kind in REPORT_KINDS:
        return bool(user.is_staff)
    return user.id == requested_by_id or user.role == Role.ADMIN


def made_for(user: Any) -> dict[str, Any]:
    """What a job's result may reveal, as its parameters record it: what the user may see."""
    return {
        "levels": [level.value for level in visible_levels(user)],
        "staff": bool(user.is_staff),
    }


def may_take(user: Any, parameters: dict[str, Any]) -> bool:
    """Whether a user may still have a result made for what its parameters record
    (false once the user's access narrowed: a file made for staff, the user now a trustee)."""
    if "levels" not in parameters:
        return True  # made for anyone who may follow the job
    levels = {level.value for level in visible_levels(user)}
    return set(parameters["levels"]) <= levels and (user.is_staff or not parameters["staff"])


def download_summary(kind: str, parameters: dict[str, Any], key: str) -> str:
    """How the audit trail names the download of a job's result."""
    if kind == DRAFT_ANNUAL:
        return f"Draft annual report {key.partition(':')[2]} (PDF)"
    return str(parameters["summary"])


def result_expired(finished_at: datetime | None, now: datetime) -> bool:
    """Whether a finished job's result is past keeping (even before it is purged)."""
    return finished_at is not None and now - finished_at > timedelta(days=RESULT_DAYS)


def is_stale(status: JobStatus, created_at: datetime, updated_at: datetime, now: datetime) -> bool:
    """Whether an active job has been silent so long that its worker must be gone."""
    if status == JobStatus.RUNNING:
        return now - updated_at > STALE_RUNNING
    if status == JobStatus.QUEUED:
        return now - created_at > STALE_QUEUED
    return False


def _active(session: so.Session, kind: str, key: str) -> Job | None:
    return session.scalar(
        sa.select(Job).where(
            Job.kind == kind,
            Job.parameters_key == key,
            Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
        )
    )


def request_job(
    session: so.Session,
    kind: str,
    parameters: dict[str, Any],
    *,
    title: str,
    user: User,
    key: str | None = None,
) -> tuple[Job, bool]:
    """The queued or running job of this kind and key, else a new one (True when new).

    A partial unique index allows one active job per kind and key (by default the
    report's): a second click (or a colleague's) gets the job already under way
    instead of a second render or issue.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown job kind {kind!r}")
    key = key or job_key(kind, parameters)
    now = utcnow()
    active = _active(session, kind, key)
    if active is not None and is_stale(active.status, active.created_at, active.updated_at, now):
        _finish(active, JobStatus.FAILED, now, error=STALE)
        session.flush()
        active = None
    if active is not None:
        return active, False
    purge_results(session, now)
    job = Job(
        kind=kind,
        parameters=parameters,
        parameters_key=key,
        title=title,
        status=JobStatus.QUEUED,
        progress=0,
        stage="Waiting for a worker",
        requested_by_id=user.id,
        requested_by=user.email,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:  # the same request won the race a moment ago
        raced = _active(session, kind, key)
        if raced is None:
            raise
        return raced, False
    return job, True


def purge_results(session: so.Session, now: datetime) -> None:
    """Drop the results of jobs finished more than RESULT_DAYS ago (their rows stay)."""
    session.execute(
        sa.update(Job)
        .where(
            Job.result.is_not(None),
            Job.finished_at < now - timedelta(days=RESULT_DAYS),
        )
        .values(result=None)
        .execution_options(synchronize_session=False)
    )


def mark_running(session: so.Session, job_id: int) -> bool:
    """Take a queued job (False when it is not queued any more: done, failed or taken)."""
    now = utcnow()
    taken = session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            stage=STARTING,
            progress=0,
            started_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def set_progress(session: so.Session, job_id: int, stage: str, percent: int) -> None:
    """Record how far a running job is."""
    session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
        .values(stage=stage[:200], progress=max(0, min(percent, 100)), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _finish(job: Job, status: JobStatus, now: datetime, *, error: str | None = None) -> None:
    job.status = status
    job.finished_at = now
    job.updated_at = now
    job.error = error[:500] if error else None
    if status == JobStatus.DONE:
        job.progress = 100
        job.stage = render.DONE
    else:
        job.stage = "Failed"


def store_result(
    session: so.Session, job: Job, content: bytes, filename: str, content_type: str
) -> None:
    """Keep the file a job made for download and mark the job done."""
    job.result = content
    job.result_type = content_type
    job.result_size = len(content)
    job.result_filename = filename
    _finish(job, JobStatus.DONE, utcnow())
    session.flush()


def mark_issued(session: so.Session, job: Job, issued: IssuedReport) -> None:
    """Link an issuing job to the report it issued and mark it done."""
    job.issued_report_id = issued.id
    _finish(job, JobStatus.DONE, utcnow())
    session.flush()


def mark_failed(session: so.Session, job_id: int, message: str) -> None:
    """Mark a job failed with a message for the person who asked (no-op once finished)."""
    job = session.get(Job, job_id)
    if job is not None and job.is_active:
        _finish(job, JobStatus.FAILED, utcnow(), error=message)
        session.flush()
