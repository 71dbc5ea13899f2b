"""Background report jobs: queueing, progress stages, results, failures, idempotence, access.

The test app runs jobs immediately (Huey's immediate mode, inside the request);
two tests run a real worker process, one through `grantpath jobs worker`, one
through `grantpath serve` as `make run` does.
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from huey import RedisHuey, SqliteHuey
from pypdf import PdfReader
from sqlalchemy import orm as so
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.auth.services import create_user
from app.extensions import db
from app.jobs import render, services, tasks
from app.jobs.queue import get_queue
from app.migrate import alembic_config
from app.models import (
    AuditAction,
    AuditEvent,
    IssuedReport,
    Job,
    JobStatus,
    Role,
    User,
    utcnow,
)
from app.reports import issuing
from reports.annual import default_foundation_name
from reports.annual_data import Period

from . import factories
from .conftest import TEST_PASSWORD, scratch_database

GRANTPATH = str(Path(sys.executable).parent / "grantpath")
YEARS = (2015, 2019, 2023)
FIRST, LAST = 2015, 2023


@pytest.fixture
def grants(session: so.Session) -> so.Session:
    """Grants awarded in 2015, 2019 and 2023: years the annual report can cover."""
    host = factories.organisation(session, name="Istituto dei lavori")
    for year in YEARS:
        factories.grant(session, award_date=date(year, 4, 1), host=host, title=f"Grant of {year}")
    session.commit()
    return session


def job_id_from(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = re.search(r"/reports/jobs/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def job_row(session: so.Session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def make_job(session: so.Session, user: User, kind: str = services.DRAFT_ANNUAL, **dates: Any):
    """A queued job of the last year, committed, not run."""
    job, created = services.request_job(
        session,
        kind,
        {"start_year": LAST, "end_year": LAST},
        title=f"Annual impact report {LAST}",
        user=session.get(User, user.id),  # type: ignore[arg-type]
    )
    assert created
    for name, value in dates.items():
        setattr(job, name, value)
    session.commit()
    return job


# --------------------------------------------------------------------------- configuration


def test_tests_run_jobs_immediately(app: Flask) -> None:
    queue = get_queue(app)
    assert queue.immediate and queue.backend == "immediate"
    assert queue.huey.immediate


@pytest.fixture
def other_app(database_url: str) -> Iterator[Any]:
    """Factory of apps with other job settings (same database, nothing else touched)."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        made.append(
            create_app({"DATABASE_URL": database_url, "SECRET_KEY": "jobs-config", **config})
        )
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_embedded_sqlite_queue_by_default_and_redis_when_configured(
    other_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRANTPATH_JOBS_REDIS_URL", raising=False)
    monkeypatch.delenv("GRANTPATH_JOBS_SQLITE", raising=False)
    monkeypatch.delenv("GRANTPATH_JOBS_IMMEDIATE", raising=False)
    default = other_app()
    assert get_queue(default).backend == "sqlite"
    assert default.config["JOBS_SQLITE_PATH"] == str(Path(default.instance_path) / "jobs.sqlite")

    path = tmp_path / "queue" / "jobs.sqlite"
    embedded = other_app(JOBS_SQLITE_PATH=str(path))
    huey = get_queue(embedded).huey
    assert isinstance(huey, SqliteHuey) and not huey.immediate
    assert path.exists()  # made on first use only

    monkeypatch.setenv("GRANTPATH_JOBS_REDIS_URL", "redis://127.0.0.1:1/0")
    production = other_app()
    assert production.config["JOBS_REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert isinstance(get_queue(production).huey, RedisHuey)  # no connection until used

    monkeypatch.setenv("GRANTPATH_JOBS_IMMEDIATE", "1")
    assert get_queue(other_app()).immediate


# --------------------------------------------------------------------------- progress stages


def test_a_render_reports_its_stages_in_order_and_percent_only_grows(grants: so.Session) -> None:
    seen: list[tuple[str, int]] = []
    report, pdf = render.annual_report_pdf(
        grants,
        Period(FIRST, LAST),
        foundation="Fondazione",
        progress=lambda stage, percent: seen.append((stage, percent)),
    )
    assert pdf.startswith(b"%PDF-") and report.period == Period(FIRST, LAST)
    stages = [stage for stage, _ in seen]
    assert list(dict.fromkeys(stages)) == [render.COLLECT, render.HTML, render.LAYOUT, render.PDF]
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] < 100
    assert stages.count(render.LAYOUT) > 3  # page by page
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert abs(render.annual_pages(report) - pages) <= pages  # a fair estimate
    # Nothing is left listening to WeasyPrint's log.
    import logging

    assert not logging.getLogger("weasyprint.progress").handlers


def test_the_job_writes_its_stages_to_its_row(
    grants: so.Session, client: FlaskClient, logged_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[tuple[str, int]] = []
    original = services.set_progress

    def spy(session: so.Session, job_id: int, stage: str, percent: int) -> None:
        written.append((stage, percent))
        original(session, job_id, stage, percent)
        assert session.get(Job, job_id).stage == stage  # type: ignore[union-attr]

    monkeypatch.setattr(services, "set_progress", spy)
    logged_in(Role.STAFF)
    job_id = job_id_from(client.get(f"/reports/annual/{LAST}.pdf"))
    stages = list(dict.fromkeys(stage for stage, _ in written))
    assert stages == [render.COLLECT, render.HTML, render.LAYOUT, render.PDF, render.STORE]
    job = job_row(grants, job_id)
    assert (job.status, job.progress, job.stage) == (JobStatus.DONE, 100, render.DONE)
    assert job.started_at is not None and job.finished_at is not None


def test_progress_writer_updates_running_jobs_only_and_not_too_often(
    session: so.Session, make_user: Any, app: Flask
) -> None:
    job = make_job(session, make_user(Role.STAFF))
    with app.app_context():
        writer = tasks.ProgressWriter(job.id, interval=60)
        writer(render.LAYOUT, 40)  # queued: not written
        assert tasks.short_transaction(lambda s: services.mark_running(s, job.id))
        assert not tasks.short_transaction(lambda s: services.mark_running(s, job.id))
        writer(render.PDF, 80)
        writer(render.PDF, 85)  # same stage within the interval: skipped
    row = job_row(session, job.id)
    assert (row.status, row.stage, row.progress) == (JobStatus.RUNNING, render.PDF, 80)


# --------------------------------------------------------------------------- results


def test_a_draft_job_gives_the_pdf_to_download(
    grants: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    staff = logged_in(Role.STAFF)
    job_id = job_id_from(client.get(f"/reports/annual/{LAST}.pdf"))
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "The draft PDF is ready" in page
    assert f'href="/reports/jobs/{job_id}/draft.pdf"' in page
    assert "jobs.js" not in page  # nothing left to poll

    status = client.get(f"/reports/jobs/{job_id}.json")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {
        "id": job_id,
        "status": "done",
        "progress": 100,
        "stage": "Done",
        "finished": True,
        "stale": False,
    }

    download = client.get(f"/reports/jobs/{job_id}/draft.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="annual-report-{LAST}-draft.pdf"'
    text = pdf_text(download.data)
    assert f"Annual impact report {LAST}" in text and "DRAFT" in text.upper()

    job = job_row(grants, job_id)
    assert (job.requested_by_id, job.requested_by) == (staff.id, staff.email)
    assert job.result_size == len(download.data) and job.issued_report_id is None
    events = grants.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DOWNLOAD)
    ).all()
    assert [e.summary for e in events] == [f"Draft annual report {LAST} (PDF)"]

    listing = client.get("/reports").get_data(as_text=True)
    assert "Your recent PDFs" in listing and f"/reports/jobs/{job_id}/draft.pdf" in listing


def test_an_issue_job_links_the_issued_report_as_issuing_would(
    app: Flask,
    grants: so.Session,
    client: FlaskClient,
    logged_in: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[tuple[str, int]] = []
    original = services.set_progress

    def spy(session: so.Session, job_id: int, stage: str, percent: int) -> None:
        written.append((stage, percent))
        original(session, job_id, stage, percent)

    monkeypatch.setattr(services, "set_progress", spy)
    staff = logged_in(Role.STAFF)
    job_id = job_id_from(client.post(f"/reports/annual/{FIRST}-{LAST}/issue"))
    assert list(dict.fromkeys(stage for stage, _ in written)) == list(render.STAGES)
    percents = [percent for _, percent in written]
    assert percents == sorted(percents) and percents[-1] == render.START[render.STORE]
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert f"Annual impact report {FIRST}–{LAST} issued as version 1." in page
    job = job_row(grants, job_id)
    issued = grants.get(IssuedReport, job.issued_report_id)
    assert issued is not None and f"/reports/issued/{issued.id}.pdf" in page
    assert issued.parameters_key == f"annual:{FIRST}-{LAST}" and issued.year == LAST
    assert "DRAFT" not in pdf_text(issued.pdf).upper()

    # The job stores what issuing the report directly stores (the same parameters and data).
    with app.app_context():
        direct = issuing.issue_annual_report(
            db.session,
            Period(FIRST, LAST),
            foundation=default_foundation_name(db.session, app.config["FOUNDATION_NAME"]),
            user=db.session.get(User, staff.id),  # type: ignore[arg-type]
        )
        db.session.flush()
        assert direct.parameters == issued.parameters
        assert direct.parameters_key == issued.parameters_key and direct.version == 2
        for column in ("archive_sha256",):  # set by both or by neither
            assert (getattr(direct, column, None) is None) == (
                getattr(issued, column, None) is None
            )
        db.session.rollback()


def test_a_failed_job_says_so_clearly_without_a_traceback(
    grants: so.Session, client: FlaskClient, logged_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal detail /srv/secret.py line 42")

    monkeypatch.setattr(render, "build_annual_report", broken)
    logged_in(Role.STAFF)
    job_id = job_id_from(client.get(f"/reports/annual/{LAST}.pdf"))
    response = client.get(f"/reports/jobs/{job_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The report was not made." in page
    assert f"unexpected error. It has been logged (job {job_id})" in page
    for leak in ("Traceback", "RuntimeError", "secret.py", "line 42"):
        assert leak not in page
    assert f'href="/reports/annual/{LAST}.pdf"' in page  # try again
    assert client.get(f"/reports/jobs/{job_id}/draft.pdf").status_code == 404
    job = job_row(grants, job_id)
    assert job.status == JobStatus.FAILED and job.finished_at is not None
    assert client.get(f"/reports/jobs/{job_id}.json").get_json()["status"] == "failed"
    assert "Failed" in client.get("/reports").get_data(as_text=True)


def test_a_queue_that_cannot_be_reached_fails_the_job_with_a_message(
    grants: so.Session, client: FlaskClient, logged_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(self: Any, job_id: int) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(type(get_queue(client.application)), "enqueue", unreachable)
    logged_in(Role.STAFF)
    job_id = job_id_from(client.post(f"/reports/annual/{LAST}/issue"))
    assert job_row(grants, job_id).status == JobStatus.FAILED
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "The job queue could not be reached" in page and "redis down" not in page
    assert grants.scalar(sa.select(sa.func.count(IssuedReport.id))) == 0


def test_issuing_is_refused_when_the_requester_may_no_longer_issue(
    grants: so.Session, make_user: Any, app: Flask
) -> None:
    staff = make_user(Role.STAFF)
    job = make_job(grants, staff, services.ISSUE_ANNUAL)
    grants.get(User, staff.id).role = Role.TRUSTEE  # type: ignore[union-attr]
    grants.commit()
    with app.app_context():
        tasks.run_job(job.id)
    row = job_row(grants, job.id)
    assert row.status == JobStatus.FAILED and "may no longer issue" in (row.error or "")
    assert grants.scalar(sa.select(sa.func.count(IssuedReport.id))) == 0


def test_interrupted_and_stalled_jobs_end_as_failed(
    session: so.Session, make_user: Any, app: Flask, client: FlaskClient, logged_in: Any
) -> None:
    staff = make_user(Role.STAFF)
    job = make_job(session, staff)
    with app.app_context():
        tasks.job_interrupted(job.id)
        tasks.run_job(job.id)  # not queued any more: skipped
    row = job_row(session, job.id)
    assert (row.status, row.error) == (JobStatus.FAILED, services.INTERRUPTED)

    long_ago = utcnow() - services.STALE_RUNNING - timedelta(minutes=1)
    stalled = make_job(session, staff, status=JobStatus.RUNNING, updated_at=long_ago)
    logged_in(Role.STAFF)
    page = client.get(f"/reports/jobs/{stalled.id}").get_data(as_text=True)
    assert "This job has stopped." in page and "jobs.js" not in page
    assert client.get(f"/reports/jobs/{stalled.id}.json").get_json()["stale"] is True
    # Asking again replaces the stalled job: it ends as failed, a new one runs.
    again = job_id_from(client.get(f"/reports/annual/{LAST}.pdf"))
    assert again != stalled.id and job_row(session, again).status == JobStatus.DONE
    row = job_row(session, stalled.id)
    assert (row.status, row.error) == (JobStatus.FAILED, services.STALE)


# --------------------------------------------------------------------------- idempotence


def test_asking_twice_joins_the_job_under_way(
    grants: so.Session, client: FlaskClient, logged_in: Any, make_user: Any
) -> None:
    colleague = make_user(Role.STAFF)
    waiting = make_job(grants, colleague, services.ISSUE_ANNUAL)  # queued, no worker ran it
    logged_in(Role.STAFF)
    page = client.get(f"/reports/annual/{LAST}/issue").get_data(as_text=True)
    assert "This report is being issued right now" in page
    assert f'href="/reports/jobs/{waiting.id}"' in page
    for _ in range(2):  # a double click
        assert job_id_from(client.post(f"/reports/annual/{LAST}/issue")) == waiting.id
    page = client.get(f"/reports/jobs/{waiting.id}").get_data(as_text=True)
    assert f"already under way (asked for by {colleague.email})" in page
    assert 'src="/static/jobs.js"' in page and 'data-job-url="/reports/jobs/' in page
    assert 'role="progressbar" aria-labelledby="progress-label"' in page
    assert 'aria-valuenow="0"' in page
    grants.expire_all()
    assert grants.scalar(sa.select(sa.func.count(Job.id))) == 1
    assert grants.scalar(sa.select(sa.func.count(IssuedReport.id))) == 0

    # A draft of the same year is another job; a finished job no longer blocks a new one.
    draft_id = job_id_from(client.get(f"/reports/annual/{LAST}.pdf"))
    assert draft_id != waiting.id and job_row(grants, draft_id).status == JobStatus.DONE
    assert job_id_from(client.get(f"/reports/annual/{LAST}.pdf")) != draft_id


def test_the_database_allows_one_active_job_per_report(session: so.Session, make_user: Any) -> None:
    staff = make_user(Role.STAFF)
    now = utcnow()

    def row(status: JobStatus) -> Job:
        return Job(
            kind=services.ISSUE_ANNUAL,
            parameters={"start_year": LAST, "end_year": LAST},
            parameters_key=f"annual:{LAST}",
            title="t",
            status=status,
            requested_by_id=staff.id,
            created_at=now,
            updated_at=now,
        )

    session.add_all([row(JobStatus.DONE), row(JobStatus.FAILED), row(JobStatus.QUEUED)])
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(row(JobStatus.RUNNING))
        session.flush()
    session.rollback()


def test_old_drafts_are_dropped_but_their_job_stays(
    session: so.Session, make_user: Any, client: FlaskClient, logged_in: Any
) -> None:
    staff = make_user(Role.STAFF)
    old = utcnow() - timedelta(days=services.RESULT_DAYS + 1)
    job = make_job(session, staff, status=JobStatus.DONE, finished_at=old, updated_at=old)
    job.result, job.result_size, job.result_filename = b"%PDF-old", 8, "a.pdf"
    session.commit()
    make_job(session, staff, services.ISSUE_ANNUAL)  # any new job purges
    assert job_row(session, job.id).result is None
    logged_in(Role.STAFF)
    assert client.get(f"/reports/jobs/{job.id}/draft.pdf").status_code == 404
    page = client.get(f"/reports/jobs/{job.id}").get_data(as_text=True)
    assert "its PDF has been deleted" in page


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("role", [None, Role.TRUSTEE])
def test_only_staff_reach_jobs(
    session: so.Session, make_user: Any, client: FlaskClient, logged_in: Any, role: Role | None
) -> None:
    job = make_job(session, make_user(Role.STAFF))
    if role:
        logged_in(role)
    for url in (
        f"/reports/jobs/{job.id}",
        f"/reports/jobs/{job.id}.json",
        f"/reports/jobs/{job.id}/draft.pdf",
        f"/reports/annual/{LAST}.pdf",
        f"/reports/annual/{FIRST}-{LAST}.pdf",
    ):
        response = client.get(url)
        if role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, url
    expected = 403 if role else 302
    assert client.post(f"/reports/annual/{FIRST}-{LAST}/issue").status_code == expected
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(Job.id))) == 1


def test_staff_see_their_own_jobs_listed_and_any_job_by_its_page(
    session: so.Session, make_user: Any, client: FlaskClient, logged_in: Any
) -> None:
    colleague = make_user(Role.STAFF)
    theirs = make_job(session, colleague)
    me = logged_in(Role.STAFF)
    listing = client.get("/reports").get_data(as_text=True)
    assert "Your recent PDFs" not in listing
    assert client.get(f"/reports/jobs/{theirs.id}").status_code == 200
    assert client.get(f"/reports/jobs/{theirs.id + 1}").status_code == 404
    assert client.get(f"/reports/jobs/{theirs.id + 1}.json").status_code == 404
    mine = make_job(session, me, services.ISSUE_ANNUAL)
    listing = client.get("/reports").get_data(as_text=True)
    assert f'href="/reports/jobs/{mine.id}"' in listing
    assert f'href="/reports/jobs/{theirs.id}"' not in listing


def test_the_reports_page_does_not_grow_in_queries_with_jobs(
    session: so.Session, make_user: Any, client: FlaskClient, logged_in: Any, count_queries: Any
) -> None:
    me = logged_in(Role.STAFF)
    counts = []
    for year in (2019, 2020, 2021):
        for kind in services.REPORT_KINDS:
            job, _ = services.request_job(
                session,
                kind,
                {"start_year": year, "end_year": year},
                title="t",
                user=session.get(User, me.id),  # type: ignore[arg-type]
            )
        session.commit()
        with count_queries() as counter:
            assert client.get("/reports").status_code == 200
        counts.append(counter.count)
        with count_queries() as counter:
            assert client.get(f"/reports/jobs/{job.id}").status_code == 200
        assert counter.count <= 4, counter.statements  # with SAVEPOINT and its ROLLBACK
    assert counts[0] == counts[-1] and counts[-1] <= 7


# --------------------------------------------------------------------------- ranges in the UI


def test_the_form_offers_a_range_and_sends_it_everywhere(
    grants: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    logged_in(Role.STAFF)
    page = client.get("/reports").get_data(as_text=True)
    assert '<label for="start">From</label>' in page and '<label for="end">To</label>' in page
    for fmt, target in (
        ("html", f"/reports/annual/{FIRST}-{LAST}/preview"),
        ("pdf", f"/reports/annual/{FIRST}-{LAST}.pdf"),
        ("issue", f"/reports/annual/{FIRST}-{LAST}/issue"),
    ):
        response = client.get(f"/reports/annual?start={FIRST}&end={LAST}&format={fmt}")
        assert response.status_code == 302 and response.headers["Location"].endswith(target)
    single = client.get(f"/reports/annual?start={LAST}&end={LAST}&format=html")
    assert single.headers["Location"].endswith(f"/reports/annual/{LAST}/preview")

    preview = client.get(f"/reports/annual/{FIRST}-{LAST}/preview").get_data(as_text=True)
    assert f"Annual impact report {FIRST}–{LAST}" in preview
    assert f'href="/reports/annual/{FIRST}-{LAST}.pdf"' in preview
    issue_page = client.get(f"/reports/annual/{FIRST}-{LAST}/issue").get_data(as_text=True)
    assert f"Issue the annual impact report {FIRST}–{LAST}" in issue_page
    assert f'action="/reports/annual/{FIRST}-{LAST}/issue"' in issue_page

    job_id = job_id_from(client.get(f"/reports/annual/{FIRST}-{LAST}.pdf"))
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert f"Draft PDF: Annual impact report {FIRST}–{LAST}" in page
    pdf = client.get(f"/reports/jobs/{job_id}/draft.pdf")
    assert (
        f'filename="annual-report-{FIRST}-{LAST}-draft.pdf"' in pdf.headers["Content-Disposition"]
    )
    text = pdf_text(pdf.data)
    assert f"Annual impact report {FIRST}–{LAST}" in text
    for year in YEARS:
        assert f"Grant of {year}" in text  # the register covers the whole range


def test_bad_ranges_are_refused(grants: so.Session, client: FlaskClient, logged_in: Any) -> None:
    logged_in(Role.STAFF)
    backwards = client.get(f"/reports/annual?start={LAST}&end={FIRST}&format=pdf")
    assert backwards.status_code == 400
    page = backwards.get_data(as_text=True)
    assert "The range ends before it starts" in page and 'aria-invalid="true"' in page
    assert f'<option value="{LAST}" selected>' in page  # the choice is kept
    before = client.get(f"/reports/annual?start={FIRST - 5}&end={LAST}")
    assert before.status_code == 400 and "Choose years between" in before.get_data(as_text=True)
    for url in (
        "/reports/annual/abc/preview",
        f"/reports/annual/{LAST}-{FIRST}.pdf",
        "/reports/annual/1700-2023.pdf",
        f"/reports/annual/{FIRST - 5}-{LAST}/issue",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/reports/annual/{FIRST - 5}-{LAST}/issue").status_code == 404
    grants.expire_all()
    assert grants.scalar(sa.select(sa.func.count(Job.id))) == 0


# --------------------------------------------------------------------------- the CLI


def test_the_cli_shows_the_same_stages(app: Flask, grants: so.Session, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "range.pdf"
    result = runner.invoke(args=["report", "annual", f"{FIRST}-{LAST}", "-o", str(target)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[:4] == [f"{stage}…" for stage in render.STAGES[:4]]
    assert lines[-1].startswith(f"Wrote {target}")
    assert "Grant of 2019" in pdf_text(target.read_bytes())
    result = runner.invoke(
        args=["report", "annual", str(LAST), "--html", "-o", str(tmp_path / "a")]
    )
    assert result.exit_code == 0
    assert result.stderr.splitlines()[:2] == [f"{render.COLLECT}…", f"{render.HTML}…"]


def test_the_cli_draws_a_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.reports import cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with cli.progress_bar() as progress:
        for stage, percent in ((render.COLLECT, 0), (render.LAYOUT, 40), (render.PDF, 85)):
            progress(stage, percent)
    output = terminal.getvalue()
    assert render.LAYOUT in output and "40%" in output and "100%" in output


# --------------------------------------------------------------------------- real workers


def _wait_for(predicate: Any, timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is None:
        return ""
    with process.stdout:
        return process.stdout.read().decode()


def test_a_real_worker_process_runs_the_job_outside_the_request(tmp_path: Path) -> None:
    queue_file = tmp_path / "jobs.sqlite"
    with scratch_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "head")
        config = {
            "DATABASE_URL": url,
            "SECRET_KEY": "worker-test",
            "WTF_CSRF_ENABLED": False,
            "JOBS_IMMEDIATE": False,
            "JOBS_SQLITE_PATH": str(queue_file),
        }
        web = create_app(config)
        try:
            with web.app_context():
                user = create_user(db.session, "worker@example.org", TEST_PASSWORD, Role.STAFF)
                factories.grant(db.session, award_date=date(LAST, 2, 2), title="Grant of 2023")
                db.session.commit()
            client = web.test_client()
            client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})

            job_id = job_id_from(client.post(f"/reports/annual/{LAST}/issue"))
            # The request returned with the job only queued: nobody rendered anything yet.
            status = client.get(f"/reports/jobs/{job_id}.json").get_json()
            assert (status["status"], status["progress"]) == ("queued", 0)
            assert job_id_from(client.post(f"/reports/annual/{LAST}/issue")) == job_id
            page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
            assert 'http-equiv="refresh"' in page and "Waiting for a worker" in page

            env = dict(
                os.environ,
                DATABASE_URL=url,
                SECRET_KEY="worker-test",
                GRANTPATH_JOBS_SQLITE=str(queue_file),
            )
            env.pop("GRANTPATH_JOBS_REDIS_URL", None)
            env.pop("GRANTPATH_JOBS_IMMEDIATE", None)
            worker = subprocess.Popen(
                [GRANTPATH, "jobs", "worker"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            try:
                seen: set[str] = set()

                def finished() -> dict[str, Any] | None:
                    state = client.get(f"/reports/jobs/{job_id}.json").get_json()
                    seen.add(state["stage"])
                    return state if state["finished"] else None

                state = _wait_for(finished, what="the worker to finish the job")
            finally:
                log = _stop(worker)
            assert state["status"] == "done", log
            assert f"Report job {job_id} (annual_issue) done" in log
            assert seen - {"Waiting for a worker", "Done"}, "no progress seen while running"
            page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
            assert f"Annual impact report {LAST} issued as version 1." in page
            with web.app_context():
                issued = db.session.scalars(sa.select(IssuedReport)).one()
                assert issued.issued_by == user.email
        finally:
            with web.app_context():
                db.engine.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_a_worker_so_make_run_works_end_to_end(tmp_path: Path) -> None:
    """`grantpath serve` as `make run` starts it: a draft PDF is made by its worker."""
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite'}",
        SECRET_KEY="serve-jobs-test",
        GRANTPATH_JOBS_SQLITE=str(tmp_path / "jobs.sqlite"),
    )
    for name in ("GRANTPATH_JOBS_REDIS_URL", "GRANTPATH_JOBS_IMMEDIATE"):
        env.pop(name, None)
    subprocess.run([GRANTPATH, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [GRANTPATH, "users", "create", "serve@example.org", "--role", "staff", "--password-stdin"],
        env=env,
        input=TEST_PASSWORD.encode(),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [GRANTPATH, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:

        def login_page() -> str | None:
            try:
                with opener.open(f"{base}/login", timeout=2) as response:
                    return str(response.read().decode())
            except OSError:
                assert server.poll() is None, "the server stopped"
                return None

        form = _wait_for(login_page, timeout=30, what="the server")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
        assert token
        data = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "email": "serve@example.org", "password": TEST_PASSWORD}
        ).encode()
        opener.open(f"{base}/login", data=data, timeout=10).close()
        this_year = date.today().year  # an empty database: this year's report, all zeros
        with opener.open(f"{base}/reports/annual/{this_year}.pdf", timeout=10) as response:
            job_url = response.geturl()  # redirected to the job's page
        assert re.search(r"/reports/jobs/\d+$", job_url), job_url

        def done() -> dict[str, Any] | None:
            with opener.open(f"{job_url}.json", timeout=10) as response:
                state = json.loads(response.read())
            return state if state["finished"] else None

        assert _wait_for(done, what="the draft")["status"] == "done"
        with opener.open(f"{job_url}/draft.pdf", timeout=10) as response:
            assert response.read().startswith(b"%PDF-")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        output = server.stdout.read().decode() if server.stdout else ""
        if server.stdout:
            server.stdout.close()
    assert "and a job worker" in output
    assert "grantpath jobs worker" in output  # the worker's banner
