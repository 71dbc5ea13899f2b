"""Report renders in stages, telling a ``progress(stage, percent)`` callable how far they are.

The same callable drives the background job (it writes the job's row) and the
CLI's progress bar. The report library's functions keep their signatures: the
stages are marked around their calls, and WeasyPrint's own progress log
(``weasyprint.progress``: "Step 5 - Creating layout - Page 7", "Step 6 -
Creating PDF") tells how far the layout is, page by page.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import orm as so

from app.models import Confidentiality
from reports.annual import (
    TRUSTEE_LEVELS,
    AnnualReport,
    annual_archive_pdf,
    annual_pdf,
    build_annual_report,
)
from reports.annual_data import Period

COLLECT = "Collecting the data"
HTML = "Writing the HTML"
LAYOUT = "Laying out the pages"
PDF = "Writing the PDF"
ARCHIVE = "Making the archive copy"  # issuing only: the PDF/A-3u copy, a second layout
STORE = "Storing the result"
DONE = "Done"
STAGES = (COLLECT, HTML, LAYOUT, PDF, ARCHIVE, STORE)

# Where each stage starts, in percent, from the time each took for the demo annual
# report of 1988-2024 (35 pages): queries and charts ~8 %, HTML <1 %, WeasyPrint's
# parsing and styling ~20 %, laying out the pages ~50 %, writing the PDF ~20 %.
START = {COLLECT: 0, HTML: 12, LAYOUT: 15, PDF: 80, STORE: 95, DONE: 100}
# WeasyPrint's steps before the first page (parse HTML, CSS, apply CSS, build boxes),
# then the pages from PAGES_START to the PDF stage.
STEP_PERCENT = {"Step 1": 15, "Step 2": 17, "Step 3": 19, "Step 4": 27}
PAGES_START = 30
# Issuing lays the report out twice (the PDF, then its archive copy) in about the same
# time: the first render's 0-95 % become 0-55 %, the archive's 55-95 %.
ARCHIVE_START = 55
# Layout percent grows with pages laid out; without an estimate of the page count the
# curve pages / (pages + HALF_WAY_PAGES) never claims to be finished.
HALF_WAY_PAGES = 15
# Estimated pages of an annual report (demo: 13 for a year, 35 for 1988-2024): its
# body, then the register's rows.
ANNUAL_BODY_PAGES = 12
REGISTER_ROWS_PER_PAGE = 15

_PAGE = re.compile(r"Step 5 - Creating layout - Page (\d+)$")

T = TypeVar("T")


# progress(stage, percent): called as a render goes through its stages.
Progress = Callable[[str, int], None]


def no_progress(stage: str, percent: int) -> None:
    """A progress callable that ignores every report."""


# --------------------------------------------------------------------------- WeasyPrint's log


class _Relay(logging.Handler):
    """Sends WeasyPrint's progress records to the callback of the thread that logged them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.listeners: dict[int, Callable[[str], None]] = {}
        self.saved = (logging.NOTSET, True)  # the logger's level and propagate flag

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        # Without the handler's lock: a job's listener writes to the database, and the
        # renders of other threads must not wait for that.
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        listener = self.listeners.get(record.thread or 0)
        if listener is not None:
            listener(record.getMessage())


_relay = _Relay()
_relay_lock = threading.Lock()
_LOGGER = logging.getLogger("weasyprint.progress")


@contextmanager
def weasyprint_steps(listener: Callable[[str], None]) -> Iterator[None]:
    """Call listener(message) for each WeasyPrint progress message logged by this thread.

    While anyone listens the logger is at INFO and does not propagate: these
    per-page messages are for progress bars, not for the application log.
    """
    thread = threading.get_ident()
    with _relay_lock:
        if not _relay.listeners:
            _LOGGER.addHandler(_relay)
            _relay.saved = (_LOGGER.level, _LOGGER.propagate)
            _LOGGER.setLevel(logging.INFO)
            _LOGGER.propagate = False
        _relay.listeners[thread] = listener
    try:
        yield
    finally:
        with _relay_lock:
            _relay.listeners.pop(thread, None)
            if not _relay.listeners:
                _LOGGER.removeHandler(_relay)
                _LOGGER.setLevel(_relay.saved[0])
                _LOGGER.propagate = _relay.saved[1]


@dataclass
class _Layout:
    """Turns WeasyPrint's messages into stages and percents that only ever go up."""

    progress: Progress
    expected_pages: int | None
    stage: str = HTML
    percent: int = START[HTML]

    def report(self, stage: str, percent: int) -> None:
        percent = max(self.percent, min(percent, START[DONE] - 1))
        if (stage, percent) != (self.stage, self.percent):
            self.stage, self.percent = stage, percent
            self.progress(stage, percent)

    def __call__(self, message: str) -> None:
        step = message.partition(" - ")[0]
        if step == "Step 6":
            self.report(PDF, START[PDF])
        elif step == "Step 7":
            self.report(PDF, (START[PDF] + START[STORE]) // 2)
        elif match := _PAGE.match(message):
            pages = int(match.group(1))
            if self.expected_pages:
                done = min(pages / self.expected_pages, 0.98)
            else:
                done = pages / (pages + HALF_WAY_PAGES)
            self.report(LAYOUT, PAGES_START + int((START[PDF] - PAGES_START) * done))
        elif step in STEP_PERCENT:
            self.report(LAYOUT, STEP_PERCENT[step])


def scaled(progress: Progress, low: int, high: int, stage: str | None = None) -> Progress:
    """A progress callable mapping 0-95 % of one render onto low-high % (and renaming its stage)."""

    def report(name: str, percent: int) -> None:
        progress(stage or name, low + (high - low) * min(percent, START[STORE]) // START[STORE])

    return report


def staged_pdf(
    build: Callable[[], T],
    pdf: Callable[[T], bytes],
    progress: Progress = no_progress,
    *,
    expected_pages: Callable[[T], int | None] = lambda _: None,
    on_collected: Callable[[], None] | None = None,
) -> tuple[T, bytes]:
    """Build a document's data, then its PDF, reporting each stage and the layout page by page.

    ``on_collected`` runs between the two (a job ends its read transaction there).
    """
    progress(COLLECT, START[COLLECT])
    document = build()
    if on_collected is not None:
        on_collected()
    progress(HTML, START[HTML])
    layout = _Layout(progress, expected_pages(document))
    with weasyprint_steps(layout):
        content = pdf(document)
    return document, content


def staged_html(
    build: Callable[[], T], html: Callable[[T], str], progress: Progress = no_progress
) -> tuple[T, str]:
    """Build a document's data, then its HTML preview, reporting both stages."""
    progress(COLLECT, START[COLLECT])
    document = build()
    progress(HTML, START[HTML])
    return document, html(document)


# --------------------------------------------------------------------------- the annual report


def annual_pages(report: AnnualReport) -> int:
    """About how many pages the annual report's PDF will have."""
    rows = len(report.register or ())
    return ANNUAL_BODY_PAGES + -(-rows // REGISTER_ROWS_PER_PAGE)


def annual_report_pdf(
    session: so.Session,
    period: Period,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    include_register: bool = True,
    is_draft: bool = True,
    progress: Progress = no_progress,
    on_collected: Callable[[], None] | None = None,
) -> tuple[AnnualReport, bytes]:
    """Build the annual report of a period and lay it out as PDF, reporting progress."""

    def build() -> AnnualReport:
        return build_annual_report(
            session,
            period,
            foundation=foundation,
            levels=levels,
            include_register=include_register,
            is_draft=is_draft,
        )

    return staged_pdf(
        build, annual_pdf, progress, expected_pages=annual_pages, on_collected=on_collected
    )


def annual_issue_pdfs(
    session: so.Session,
    period: Period,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    include_register: bool = True,
    progress: Progress = no_progress,
    on_collected: Callable[[], None] | None = None,
) -> tuple[AnnualReport, bytes, bytes]:
    """The annual report to issue: its data, PDF and archive copy (as issuing makes them)."""
    report, pdf = annual_report_pdf(
        session,
        period,
        foundation=foundation,
        levels=levels,
        include_register=include_register,
        is_draft=False,
        progress=scaled(progress, START[COLLECT], ARCHIVE_START),
        on_collected=on_collected,
    )
    archive_progress = scaled(progress, ARCHIVE_START, START[STORE], ARCHIVE)
    archive_progress(ARCHIVE, 0)
    with weasyprint_steps(_Layout(archive_progress, annual_pages(report))):
        archive = annual_archive_pdf(report)
    return report, pdf, archive


def annual_issue_parameters(
    period: Period, levels: Sequence[Confidentiality], include_register: bool
) -> dict[str, Any]:
    """The parameters an issued annual report is stored with (as issuing.issue_annual_report)."""
    return {
        "start_year": period.start_year,
        "end_year": period.end_year,
        "levels": [level.value for level in levels],
        "include_register": include_register,
    }
