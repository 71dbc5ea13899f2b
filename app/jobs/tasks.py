"""What the worker runs: a job (a report render, a list export), its progress and its result,
in the job's row.

Progress goes to the database in short transactions of its own, so the page
polling the job sees it while the work goes on; the read queries end their
transaction before a long layout starts, and the result is stored in a last one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from sqlalchemy import orm as so

from app.db import writing
from app.extensions import db
from app.models import Job, User
from app.reports import issuing
from reports.annual import TRUSTEE_LEVELS, default_foundation_name
from reports.annual_data import Period

from . import render, services

log = logging.getLogger(__name__)
T = TypeVar("T")

# Progress rows are written at most this often within a stage (each stage change at once).
PROGRESS_INTERVAL_S = 0.5


@contextmanager
def _writing() -> Iterator[None]:
    """Transactions opened meanwhile take SQLite's write lock at once (BEGIN IMMEDIATE)."""
    token = writing.set(True)
    try:
        yield
    finally:
        writing.reset(token)


def short_transaction(action: Callable[[so.Session], T]) -> T:
    """Run action(session) in a session and transaction of its own, and commit."""
    with _writing(), db.sessionmaker() as session:
        result = action(session)
        session.commit()
        return result


@dataclass(frozen=True)
class JobResult:
    """A file a job made, to keep for its download."""

    content: bytes
    filename: str
    content_type: str


# A job's work: called with the job and its progress callable; returns the file to keep
# (None when the work stored its result itself, as issuing does).
Runner = Callable[[Job, render.Progress], JobResult | None]


class ProgressWriter:
    """The progress callable of a job: writes its stage and percent to the job's row."""

    def __init__(self, job_id: int, interval: float = PROGRESS_INTERVAL_S) -> None:
        self.job_id = job_id
        self.interval = interval
        self.stage: str | None = None
        self.written_at = 0.0

    def __call__(self, stage: str, percent: int) -> None:
        now = time.monotonic()
        if stage == self.stage and now - self.written_at < self.interval:
            return
        self.stage, self.written_at = stage, now
        short_transaction(lambda s: services.set_progress(s, self.job_id, stage, percent))


def _period(job: Job) -> Period:
    return Period(int(job.parameters["start_year"]), int(job.parameters["end_year"]))


def _foundation() -> str:
    return default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])


def _end_reading() -> None:
    # The data are collected: no transaction stays open through a layout of minutes.
    db.session.commit()


def draft_annual(job: Job, progress: render.Progress) -> JobResult:
    """Render the draft annual report of the job's period (kept with the job)."""
    period = _period(job)
    _, pdf = render.annual_report_pdf(
        db.session,
        period,
        foundation=_foundation(),
        progress=progress,
        on_collected=_end_reading,
    )
    slug = job.parameters_key.partition(":")[2]  # '2023' or '2015-2024'
    return JobResult(pdf, f"annual-report-{slug}-draft.pdf", "application/pdf")


def issue_annual(job: Job, progress: render.Progress) -> None:
    """Render the annual report of the job's period without the draft mark and issue it."""
    period = _period(job)
    user = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    if user is None or not user.is_active or not user.is_staff:
        raise services.JobRefused(
            "The person who asked for this report may no longer issue reports, "
            "so it was not issued."
        )
    include_register = True
    report, pdf, archive = render.annual_issue_pdfs(
        db.session,
        period,
        foundation=_foundation(),
        levels=TRUSTEE_LEVELS,
        include_register=include_register,
        progress=progress,
        on_collected=_end_reading,
    )
    progress(render.STORE, render.START[render.STORE])
    parameters = render.annual_issue_parameters(period, TRUSTEE_LEVELS, include_register)
    with _writing():
        issued = issuing.issue_report(
            db.session,
            issuing.ANNUAL,
            parameters,
            pdf,
            title=report.title,
            year=period.end_year,
            user=user,
            data=report,
            archive_bytes=archive,
        )
        fresh = db.session.get(Job, job.id)
        assert fresh is not None
        services.mark_issued(db.session, fresh, issued)
        db.session.commit()


def list_export(job: Job, progress: render.Progress) -> JobResult:
    """Write the list export the job asks for (see app.exports.jobs)."""
    from app.exports.jobs import run_export  # the exports feature builds on this package

    content, filename, content_type = run_export(db.session, job, progress)
    return JobResult(content, filename, content_type)


RUNNERS: dict[str, Runner] = {
    services.DRAFT_ANNUAL: draft_annual,
    services.ISSUE_ANNUAL: issue_annual,
    services.LIST_EXPORT: list_export,
}


def _store(job_id: int, result: JobResult) -> None:
    with _writing():
        fresh = db.session.get(Job, job_id)
        assert fresh is not None
        services.store_result(
            db.session, fresh, result.content, result.filename, result.content_type
        )
        db.session.commit()


def _noun(kind: str) -> str:
    return "Report job" if kind in services.REPORT_KINDS else "Job"


def run_job(job_id: int) -> None:
    """Run a queued job; any failure ends as a message on the job, never a traceback."""
    token = writing.set(False)  # reads take no write lock, whoever runs the job
    noun = "Job"
    try:
        if not short_transaction(lambda s: services.mark_running(s, job_id)):
            log.info("Job %s is not queued any more; skipped", job_id)
            return
        job = db.session.get(Job, job_id)
        assert job is not None
        kind, noun, progress = job.kind, _noun(job.kind), ProgressWriter(job_id)
        result = RUNNERS[kind](job, progress)
        if result is not None:
            db.session.commit()  # the reading is over
            progress(render.STORE, render.START[render.STORE])
            _store(job_id, result)
        log.info("%s %s (%s) done", noun, job_id, kind)
    except services.JobRefused as refused:
        db.session.rollback()
        reason = str(refused)
        log.warning("%s %s refused: %s", noun, job_id, reason)
        short_transaction(lambda s: services.mark_failed(s, job_id, reason))
    except Exception:
        db.session.rollback()
        log.exception("%s %s failed", noun, job_id)
        message = services.UNEXPECTED.format(id=job_id)
        short_transaction(lambda s: services.mark_failed(s, job_id, message))
    finally:
        writing.reset(token)


def job_interrupted(job_id: int) -> None:
    """Mark a job failed that the worker was stopped in the middle of."""
    log.warning("Job %s interrupted by the worker's shutdown", job_id)
    short_transaction(lambda s: services.mark_failed(s, job_id, services.INTERRUPTED))
