"""A range report's draft PDF in the browser: queued, progress shown, then the download.

Unlike the other browser tests, this server does not run jobs in the request:
a Huey consumer runs them in a thread beside it, from its own queue file.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from playwright.sync_api import Page, expect

from app import create_app
from app.demo import load_foundation
from app.extensions import db
from app.jobs.queue import get_queue
from app.migrate import alembic_config
from app.models import Role

from ..conftest import scratch_database
from .conftest import LiveServer

FIRST, LAST = 2015, 2024


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on loopback with the demo foundation, and a job worker in a thread."""
    folder = tmp_path_factory.mktemp("e2e-jobs")
    with scratch_database(folder) as url:
        command.upgrade(alembic_config(url), "head")
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "e2e-jobs-secret",
                "JOBS_IMMEDIATE": False,
                "JOBS_SQLITE_PATH": str(folder / "jobs.sqlite"),
            }
        )
        server = LiveServer(app)
        server.run(lambda session: load_foundation(session, echo=lambda *a, **k: None))
        consumer = get_queue(app).consumer(workers=1, periodic=False)
        # Huey's consumer installs signal handlers; keep pytest's own.
        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        consumer.start()
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        server.thread.start()
        try:
            yield server
        finally:
            server.server.shutdown()
            server.thread.join(timeout=5)
            consumer.stop(graceful=True)
            with app.app_context():
                db.engine.dispose()


def test_a_range_report_shows_its_progress_then_the_download(
    live_server: LiveServer, new_page, screenshot, tmp_path: Path
) -> None:
    page: Page = new_page(live_server.make_user("jobs.staff@example.org", Role.STAFF))
    page.goto("/reports")
    page.get_by_label("From").select_option(str(FIRST))
    page.get_by_label("To").select_option(str(LAST))
    screenshot(page, "page-reports-range-form")
    page.get_by_role("button", name="Download PDF").click()

    page.wait_for_url(re.compile(r"/reports/jobs/\d+$"))
    heading = f"Draft PDF: Annual impact report {FIRST}–{LAST}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if page.get_by_role("progressbar").count():  # still running: the bar is there and labelled
        expect(page.get_by_role("progressbar", name=re.compile(r"…$"))).to_be_visible()
        screenshot(page, "page-report-job-progress")
    # jobs.js polls the job and reloads the page once it is done.
    expect(page.get_by_text("The draft PDF is ready")).to_be_visible(timeout=90_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, "page overflows"
    screenshot(page, "page-report-job-done")

    link = page.get_by_role("link", name=re.compile(r"Download the draft PDF"))
    with page.expect_download() as download:
        link.click()
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name == f"annual-report-{FIRST}-{LAST}-draft.pdf"
    assert target.read_bytes().startswith(b"%PDF-")

    page.goto("/reports")
    expect(page.get_by_role("heading", name="Your recent PDFs")).to_be_visible()
    expect(page.get_by_role("link", name=f"Annual impact report {FIRST}–{LAST}")).to_be_visible()
    screenshot(page, "page-reports-with-jobs")
