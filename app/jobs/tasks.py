"""What the worker runs: a report job's render, its progress and its result, in the job's row.

Progress goes to the database in short transactions of its own, so the page
polling the job sees it while the render goes on; the read queries end their
transaction before the layout starts, and the result is stored in a last one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app
from sqlalchemy import orm as so

from app.db import writing
from app.extensions import db
from app.models import ReportJob, User
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


def _period(job: ReportJob) -> Period:
    return Period(int(job.parameters["start_year"]), int(job.parameters["end_year"]))


def _foundation() -> str:
    return default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])


def _end_reading() -> None:
    # The data are collected: no transaction stays open through a layout of minutes.
    db.session.commit()


def draft_annual(job: ReportJob, progress: render.Progress) -> None:
    """Render the draft annual report of the job's period and keep its PDF with the job."""
    period = _period(job)
    _, pdf = render.annual_report_pdf(
        db.session,
        period,
        foundation=_foundation(),
        progress=progress,
        on_collected=_end_reading,
    )
    progress(render.STORE, render.START[render.STORE])
    slug = job.parameters_key.partition(":")[2]  # '2023' or '2015-2024'
    with _writing():
        fresh = db.session.get(ReportJob, job.id)
        assert fresh is not None
        services.store_draft(db.session, fresh, pdf, f"annual-report-{slug}-draft.pdf")
        db.session.commit()


def issue_annual(job: ReportJob, progress: render.Progress) -> None:
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
        fresh = db.session.get(ReportJob, job.id)
        assert fresh is not None
        services.mark_issued(db.session, fresh, issued)
        db.session.commit()


RUNNERS: dict[str, Callable[[ReportJob, render.Progress], None]] = {
    services.DRAFT_ANNUAL: draft_annual,
    services.ISSUE_ANNUAL: issue_annual,
}


def run_report_job(job_id: int) -> None:
    """Run a queued report job; any failure ends as a message on the job, never a traceback."""
    token = writing.set(False)  # reads take no write lock, whoever runs the job
    try:
        if not short_transaction(lambda s: services.mark_running(s, job_id)):
            log.info("Report job %s is not queued any more; skipped", job_id)
            return
        job = db.session.get(ReportJob, job_id)
        assert job is not None
        RUNNERS[job.kind](job, ProgressWriter(job_id))
        log.info("Report job %s (%s) done", job_id, job.kind)
    except services.JobRefused as refused:
        db.session.rollback()
        reason = str(refused)
        log.warning("Report job %s refused: %s", job_id, reason)
        short_transaction(lambda s: services.mark_failed(s, job_id, reason))
    except Exception:
        db.session.rollback()
        log.exception("Report job %s failed", job_id)
        message = services.UNEXPECTED.format(id=job_id)
        short_transaction(lambda s: services.mark_failed(s, job_id, message))
    finally:
        writing.reset(token)


def job_interrupted(job_id: int) -> None:
    """Mark a job failed that the worker was stopped in the middle of."""
    log.warning("Report job %s interrupted by the worker's shutdown", job_id)
    short_transaction(lambda s: services.mark_failed(s, job_id, services.INTERRUPTED))
