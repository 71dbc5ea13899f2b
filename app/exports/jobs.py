"""Large list exports as background jobs: what a job records at the request, and the file it
writes in the worker, byte for byte what the direct download would have sent.

The job records who asked, what they might see then (their confidentiality levels
and whether they are staff), the list, the format and the page's parameters. The
worker reads the rows with the same queries for that viewer, and refuses if the
person's access has narrowed meanwhile.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import orm as so

from app.jobs import services as jobs
from app.jobs.render import Progress
from app.models import Confidentiality, Job, User
from app.records.listing import ListParams
from app.visibility import visible_levels

from .lists import BY_NAME, ListExport, Viewer
from .writers import csv_chunks, write_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
CONTENT_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}

COUNTING = "Counting the rows"
WRITING = "Writing the rows"
PACKING = "Packing the workbook"
# Rows written up to here in percent; the rest is packing (XLSX) and storing the file.
WRITTEN_PERCENT = 90
# Progress is reported at most this often (each report is a write to the job's row).
PROGRESS_INTERVAL_S = 0.5

REFUSED = (
    "Your access changed after you asked for this file (or your account was closed), so "
    "it was not made. Ask for it again from the list."
)


def viewer_of(user: Any) -> Viewer:
    """What a user may see in exports."""
    return Viewer(visible_levels(user), bool(user.is_staff))


def filename(export: ListExport, fmt: str, day: date) -> str:
    """The download's name: 'grants-2026-11-24.xlsx'."""
    return f"{export.name}-{day.isoformat()}.{fmt}"


def filters_text(params: ListParams) -> str:
    """The filters asked for, as the audit trail writes them: 'status=active, year=2020'."""
    asked = params.url_args(page=None, sort=None, dir=None)
    return ", ".join(f"{key}={value}" for key, value in asked.items())


def order_text(export: ListExport, params: ListParams) -> str:
    """The list's order in words: 'title, descending' (empty for lists in a fixed order)."""
    if not export.sorts:
        return ""
    return params.sort.replace("_", " ") + (", descending" if params.descending else "")


def summary(export: ListExport, fmt: str, params: ListParams) -> str:
    """How the audit trail names a download of the list (direct or prepared in a job)."""
    filters = filters_text(params)
    return f"Export of the {export.title} list ({fmt.upper()})" + (
        f": {filters}" if filters else ""
    )


def job_request(
    export: ListExport, fmt: str, params: ListParams, user: Any, rows: int, urls: dict[str, str]
) -> tuple[dict[str, Any], str, str]:
    """A job's parameters, key and title for an export asked for by a user.

    The key makes one active job per person, list, format, parameters and access: a
    double click (or a second tab) joins the job under way.
    """
    args = params.url_args(page=None)
    made_for = jobs.made_for(user)
    subject = json.dumps([args, made_for], sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    parameters = {
        "list": export.name,
        "format": fmt,
        "args": args,
        **made_for,
        "rows": rows,
        "filters_text": filters_text(params),
        "order_text": order_text(export, params),
        "summary": summary(export, fmt, params),
        **urls,
    }
    title = f"{export.title.capitalize()} list ({fmt.upper()})"
    return parameters, f"export:{export.name}.{fmt}:{user.id}:{digest}", title


class _Counted:
    """The rows, reporting how many were written (and of how many) as they pass."""

    def __init__(
        self, rows: Iterable[Any], total: int, progress: Progress, then: str | None = None
    ) -> None:
        self.rows, self.total, self.progress, self.then = rows, total, progress, then

    def __iter__(self) -> Iterator[Any]:
        reported = time.monotonic()
        written = 0
        for written, row in enumerate(self.rows, 1):  # noqa: B007 -- the count is kept
            now = time.monotonic()
            if now - reported >= PROGRESS_INTERVAL_S:
                reported = now
                self.report(written)
            yield row
        self.report(written)
        if self.then:
            self.progress(self.then, WRITTEN_PERCENT)

    def report(self, written: int) -> None:
        total = max(self.total, written)
        percent = WRITTEN_PERCENT * written // total if total else WRITTEN_PERCENT
        self.progress(f"{WRITING}: {written:,} of {total:,}", percent)


def run_export(session: so.Session, job: Job, progress: Progress) -> tuple[bytes, str, str]:
    """Write the file a list export job asks for: (content, file name, media type)."""
    parameters = job.parameters
    export, fmt = BY_NAME[parameters["list"]], parameters["format"]
    user = session.get(User, job.requested_by_id) if job.requested_by_id else None
    recorded = {"levels": parameters["levels"], "staff": parameters["staff"]}
    if user is None or not user.is_active or jobs.made_for(user) != recorded:
        raise jobs.JobRefused(REFUSED)
    viewer = Viewer(
        tuple(Confidentiality(level) for level in parameters["levels"]), parameters["staff"]
    )
    params = export.params(parameters["args"])
    progress(COUNTING, 0)
    total = export.count(session, params, viewer)
    then = PACKING if fmt == "xlsx" else None
    rows = _Counted(export.rows(session, params, viewer), total or 0, progress, then)
    columns = export.columns_for(viewer)
    if fmt == "xlsx":
        content = write_xlsx(columns, rows, export.title.capitalize())
    else:
        buffer = io.BytesIO()
        for chunk in csv_chunks(columns, rows):
            buffer.write(chunk.encode("utf-8"))
        content = buffer.getvalue()
    day = job.created_at.date()
    return content, filename(export, fmt, day), CONTENT_TYPES[fmt]
