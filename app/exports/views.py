"""Downloads of whole list pages: /<things>/export.csv and /<things>/export.xlsx.

One route per list (so each declares its access level like its page), made from the
registry in lists.py. The query string is the page's own (filters and sort; the page
number is ignored): the file holds every row the page's filters match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request, stream_with_context
from flask_login import current_user

from app.audit.services import record
from app.auth.access import reader_required, staff_required
from app.db import writing
from app.extensions import db
from app.models import AuditAction
from app.visibility import visible_levels

from .lists import EXPORTS, ListExport, Viewer
from .writers import csv_chunks, write_xlsx

bp = Blueprint("exports", __name__)

ACCESS = {"reader": reader_required, "staff": staff_required}
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(export: ListExport, fmt: str) -> str:
    return f"{export.name}-{datetime.now(UTC).date().isoformat()}.{fmt}"


def _audit_download(export: ListExport, fmt: str) -> None:
    """Record the download, with the filters asked for, before any row is read."""
    params = export.params(request.args)
    asked = params.url_args(page=None, sort=None, dir=None)
    filters = ", ".join(f"{key}={value}" for key, value in asked.items())
    summary = f"Export of the {export.title} list ({fmt.upper()})"
    record(db.session, AuditAction.DOWNLOAD, summary=summary + (f": {filters}" if filters else ""))
    db.session.commit()
    # The rows are read afterwards in a transaction of their own, which must not hold
    # SQLite's write lock for as long as a large file takes.
    writing.set(False)


def _download(export: ListExport, fmt: str) -> Response:
    """Every row of the list the query string describes, as a file."""
    _audit_download(export, fmt)
    viewer = Viewer(visible_levels(current_user), bool(current_user.is_staff))
    rows = export.rows(db.session, export.params(request.args), viewer)
    columns = export.columns_for(viewer)
    if fmt == "xlsx":
        response = Response(
            write_xlsx(columns, rows, export.title.capitalize()), mimetype=XLSX_TYPE
        )
    else:
        # Streamed: the first rows leave while later ones are still being read.
        response = Response(
            stream_with_context(csv_chunks(columns, rows)), mimetype="text/csv; charset=utf-8"
        )
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(export, fmt)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _view(export: ListExport) -> Callable[..., Any]:
    """The route of one list's download, guarded like the list page."""

    def download(fmt: str) -> Response:
        return _download(export, fmt)

    download.__name__ = export.endpoint
    download.__doc__ = f"Download the {export.title} list as CSV or XLSX."
    guarded = ACCESS[export.access](download)

    @functools.wraps(guarded)
    def audited(**kwargs: Any) -> Any:
        # The download writes an audit event: on SQLite, take the write lock when the
        # request's first transaction begins (as POSTs do) rather than fail to upgrade.
        writing.set(True)
        try:
            return guarded(**kwargs)
        finally:
            writing.set(False)

    return audited


for _export in EXPORTS:
    _view_function = _view(_export)
    for _fmt in FORMATS:
        bp.add_url_rule(
            f"{_export.url}.{_fmt}",
            endpoint=_export.endpoint,
            view_func=_view_function,
            defaults={"fmt": _fmt},
        )
