"""Job pages: a job's progress (polled as JSON), then its result to download, or why it failed.

Jobs of every kind share these views and one template. Report jobs keep their own
URLs under /reports/jobs (app.reports.views routes them here); other jobs (list
exports) live under /jobs and belong to the person who asked for them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from flask_login import current_user

from app.auth.access import reader_required
from app.exports.responses import audited_attachment
from app.extensions import db
from app.models import Job

from . import queries, services
from .queries import JobRow
from .queue import get_queue
from .tasks import short_transaction

bp = Blueprint("jobs", __name__, url_prefix="/jobs", template_folder="templates")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobUrls:
    """Where a job's page, its JSON status and its result are."""

    page: str
    status: str
    result: str


@bp.app_template_global("job_urls")
def job_urls(job: JobRow) -> JobUrls:
    """A job's URLs: report jobs under /reports/jobs, others under /jobs."""
    if job.is_report:
        return JobUrls(
            url_for("reports.job", job_id=job.id),
            url_for("reports.job_status", job_id=job.id),
            url_for("reports.job_pdf", job_id=job.id),
        )
    return JobUrls(
        url_for("jobs.job", job_id=job.id),
        url_for("jobs.job_status", job_id=job.id),
        url_for("jobs.job_result", job_id=job.id),
    )


def start(
    kind: str, parameters: dict[str, Any], *, title: str, key: str | None = None
) -> tuple[Job, bool]:
    """Queue a job for the current user, or find the one under way (True when new).

    The job is committed before it is queued, so a worker always finds it; a queue
    that cannot be reached fails the job with a message rather than leave it waiting.
    """
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    job, created = services.request_job(
        db.session, kind, parameters, title=title, user=user, key=key
    )
    db.session.commit()
    if created:
        try:
            get_queue().enqueue(job.id)
        except Exception:
            log.exception("Could not queue job %s", job.id)
            job_id = job.id
            short_transaction(lambda s: services.mark_failed(s, job_id, services.QUEUE_DOWN))
    return job, created


def followed(job_id: int, kinds: Sequence[str] = services.KINDS) -> JobRow:
    """A job of these kinds the current user may follow; 404 otherwise (someone else's
    export is not theirs to know of)."""
    row = queries.job(db.session, job_id)
    if row is None or row.kind not in kinds:
        abort(404)
    if not services.may_follow(current_user, row.kind, row.requested_by_id):
        abort(404)
    return row


def page(job_id: int, kinds: Sequence[str] = services.KINDS) -> str:
    """A job's page."""
    return render_template("jobs/job.html", job=followed(job_id, kinds))


def status(job_id: int, kinds: Sequence[str] = services.KINDS) -> Response:
    """A job's status and progress as JSON, never cached."""
    response = jsonify(followed(job_id, kinds).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


def result(job_id: int, kinds: Sequence[str] = services.KINDS) -> Response:
    """The file a job made, audited as the direct download of the same file would be."""
    followed(job_id, kinds)
    found = queries.job_result(db.session, job_id)
    if found is None or found.result is None:
        abort(404)
    if not services.may_take(current_user, found.parameters):
        abort(403)  # the requester's access has narrowed since the file was made
    summary = services.download_summary(found.kind, found.parameters, found.parameters_key)
    return audited_attachment(
        summary,
        found.result,
        found.result_filename or f"job-{job_id}",
        found.result_type or "application/octet-stream",
    )


@bp.route("")
@reader_required
def index() -> str:
    """The current user's recent jobs, newest first, with their results."""
    rows = queries.recent_jobs(db.session, current_user.id, limit=queries.RECENT_JOBS * 3)
    return render_template("jobs/index.html", jobs=rows)


@bp.route("/<int:job_id>")
@reader_required
def job(job_id: int) -> str:
    """A job's progress, then its download, or why it failed."""
    return page(job_id)


@bp.route("/<int:job_id>.json")
@reader_required
def job_status(job_id: int) -> Response:
    """A job's status and progress, for its page to poll."""
    return status(job_id)


@bp.route("/<int:job_id>/file")
@reader_required
def job_result(job_id: int) -> Response:
    """Download the file a job made (its requester or an admin)."""
    return result(job_id)
