"""Downloads of whole list pages: /<things>/export.csv and /<things>/export.xlsx.

One route per list (so each declares its access level like its page), made from the
registry in lists.py. The query string is the page's own (filters and sort; the page
number is ignored): the file holds every row the page's filters match.

A file of more rows than a web worker writes in about two seconds (EXPORT_INLINE_ROWS
per format) is not made in the request: the link then leads to a page that says how
many rows match and offers to prepare the file in the background (a POST to the same
URL), as a job whose page shows its progress and then the download (app.jobs).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from app.audit.services import record
from app.auth.access import reader_required, staff_required
from app.db import write_transaction, writing
from app.extensions import db
from app.jobs import queries as job_queries
from app.jobs import services as jobs
from app.jobs import views as job_views
from app.models import AuditAction
from app.records.listing import ListParams

from .jobs import (
    CSV_TYPE,
    XLSX_TYPE,
    filename,
    filters_text,
    job_request,
    order_text,
    summary,
    viewer_of,
)
from .lists import EXPORTS, ListExport
from .responses import attachment
from .writers import csv_chunks, write_xlsx

bp = Blueprint("exports", __name__, template_folder="templates")

ACCESS = {"reader": reader_required, "staff": staff_required}
FORMATS = ("csv", "xlsx")
# Most rows a download is made of in the request, per format: about two seconds of a web
# worker on two cores (100,000 grants: CSV 2.4 s, XLSX 18 s; see the exports' README notes).
INLINE_ROWS = {"csv": 30_000, "xlsx": 10_000}


def inline_rows(fmt: str) -> int:
    """Most rows of a file made in the request (the app's EXPORT_INLINE_ROWS, else ours)."""
    return int({**INLINE_ROWS, **current_app.config.get("EXPORT_INLINE_ROWS", {})}[fmt])


def _count(export: ListExport, params: ListParams) -> int | None:
    """How many rows the file would hold; the count's read ends before anything is written."""
    token = writing.set(False)  # a POST need not hold SQLite's write lock to count
    try:
        total = export.count(db.session, params, viewer_of(current_user))
        db.session.commit()
    finally:
        writing.reset(token)
    return total


def _is_large(total: int | None, fmt: str) -> bool:
    return total is not None and total > inline_rows(fmt)


def _urls(export: ListExport, fmt: str, params: ListParams) -> dict[str, str]:
    """The list page and this download, with the page's parameters."""
    args = params.url_args(page=None)
    query = f"?{urlencode(args)}" if args else ""
    return {
        "list_url": export.page_url + query,
        "export_url": url_for(f"exports.{export.endpoint}", fmt=fmt, **args),
    }


def _download(export: ListExport, fmt: str, params: ListParams) -> Response:
    """Every row of the list the parameters describe, as a file made now."""
    # Recorded before any row is read; the rows are then read in a transaction of their
    # own, which does not hold SQLite's write lock for as long as a large file takes.
    with write_transaction(db.session):
        record(db.session, AuditAction.DOWNLOAD, summary=summary(export, fmt, params))
    viewer = viewer_of(current_user)
    rows = export.rows(db.session, params, viewer)
    columns = export.columns_for(viewer)
    name = filename(export, fmt, datetime.now(UTC).date())
    if fmt == "xlsx":
        return attachment(write_xlsx(columns, rows, export.title.capitalize()), name, XLSX_TYPE)
    # Streamed: the first rows leave while later ones are still being read.
    return attachment(stream_with_context(csv_chunks(columns, rows)), name, CSV_TYPE)


def _prepare_page(export: ListExport, fmt: str, params: ListParams, total: int) -> str:
    """Say how many rows match and offer to prepare the file in the background."""
    _, key, _ = job_request(export, fmt, params, current_user, total, {})
    active = job_queries.active_job(db.session, jobs.LIST_EXPORT, key)
    return render_template(
        "exports/prepare.html",
        export=export,
        fmt=fmt,
        total=total,
        limit=inline_rows(fmt),
        csv_limit=inline_rows("csv"),
        csv_url=_urls(export, "csv", params)["export_url"],
        filters=filters_text(params),
        order=order_text(export, params),
        urls=_urls(export, fmt, params),
        active=active if active is not None and not active.is_stale else None,
    )


def _start(export: ListExport, fmt: str, params: ListParams, total: int) -> BaseResponse:
    """Queue the export (or join the one under way) and go to its progress page."""
    urls = _urls(export, fmt, params)
    parameters, key, title = job_request(export, fmt, params, current_user, total, urls)
    job, created = job_views.start(jobs.LIST_EXPORT, parameters, title=title, key=key)
    if not created:
        flash("This file was already being prepared: here is its progress.", "info")
    return redirect(url_for("jobs.job", job_id=job.id))


def _views(export: ListExport) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The routes of one list's download, guarded like the list page."""

    def download(fmt: str) -> Response | str:
        params = export.params(request.args)
        total = _count(export, params)
        if _is_large(total, fmt):
            return _prepare_page(export, fmt, params, total or 0)
        return _download(export, fmt, params)

    def prepare(fmt: str) -> BaseResponse:
        params = export.params(request.args)
        total = _count(export, params)
        if not _is_large(total, fmt):  # fewer rows meanwhile: the file comes at once
            return redirect(_urls(export, fmt, params)["export_url"])
        return _start(export, fmt, params, total or 0)

    download.__name__ = export.endpoint
    download.__doc__ = f"Download the {export.title} list as CSV or XLSX (large: offer a job)."
    prepare.__name__ = f"{export.endpoint}_job"
    prepare.__doc__ = f"Prepare a large download of the {export.title} list in the background."
    guard = ACCESS[export.access]
    return guard(download), guard(prepare)


for _export in EXPORTS:
    _download_view, _prepare_view = _views(_export)
    for _fmt in FORMATS:
        _rule = f"{_export.url}.{_fmt}"
        bp.add_url_rule(
            _rule, endpoint=_export.endpoint, view_func=_download_view, defaults={"fmt": _fmt}
        )
        bp.add_url_rule(
            _rule,
            endpoint=f"{_export.endpoint}_job",
            view_func=_prepare_view,
            defaults={"fmt": _fmt},
            methods=["POST"],
        )
