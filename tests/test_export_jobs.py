"""Large list exports as background jobs: the threshold, the prepare page, the job's file
(the same as the direct download for the same person and filters), access, audit, expiry,
double clicks, and the generic job table's migration.

The test app runs jobs immediately (inside the POST); a small EXPORT_INLINE_ROWS makes
the test lists "large".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from app.db import create_configured_engine
from app.exports import jobs as export_jobs
from app.exports.lists import BY_NAME
from app.jobs import services, tasks
from app.jobs.queue import get_queue
from app.migrate import alembic_config
from app.models import AuditAction, AuditEvent, Job, JobStatus, Role, User, utcnow

from .conftest import TEST_PASSWORD, csrf_token_from, scratch_database
from .test_list_exports import SECRET_DONOR, _world

SMALL = 5  # rows made in the request at most, in these tests
JOB_URL = re.compile(r"/jobs/(\d+)$")


@pytest.fixture
def small_inline(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports of more than SMALL rows go to a job."""
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", {"csv": SMALL, "xlsx": SMALL})


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    return _world(session, grants=8)


@pytest.fixture
def queue_held(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs are queued but no worker runs them (they stay active): the ids queued."""
    queued: list[int] = []
    queue = type(get_queue(client.application))
    monkeypatch.setattr(queue, "enqueue", lambda self, job_id: queued.append(job_id))
    return queued


def _url(name: str, fmt: str, query: str = "") -> str:
    return BY_NAME[name].url + f".{fmt}" + (f"?{query}" if query else "")


def _start(client: FlaskClient, url: str) -> int:
    response = client.post(url)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = JOB_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _client_of(app: Flask, user: User) -> FlaskClient:
    """A client of its own, logged in as the user."""
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    return other


def _job(session: so.Session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def _rows(content: bytes, fmt: str) -> list[tuple[Any, ...]]:
    if fmt == "csv":
        assert content.startswith(b"\xef\xbb\xbf")
        text = content.decode("utf-8-sig")
        return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""))]
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def _job_file(client: FlaskClient, url: str) -> Any:
    """Ask for a large export, let the job run, and download its file."""
    job_id = _start(client, url)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The file is ready" in page, page
    assert f'href="/jobs/{job_id}/file"' in page
    download = client.get(f"/jobs/{job_id}/file")
    assert download.status_code == 200
    return download


def _direct(client: FlaskClient, app: Flask, url: str) -> Any:
    """The same export made in the request (a large threshold)."""
    kept = app.config["EXPORT_INLINE_ROWS"]
    app.config["EXPORT_INLINE_ROWS"] = {"csv": 10**9, "xlsx": 10**9}
    try:
        response = client.get(url)
    finally:
        app.config["EXPORT_INLINE_ROWS"] = kept
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    return response


# --------------------------------------------------------------------------- the threshold


def test_the_threshold_decides_between_the_file_and_the_prepare_page(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    large = client.get(_url("grants", "xlsx", "sort=title&dir=asc&page=2"))
    assert large.status_code == 200 and large.mimetype == "text/html"
    assert "Content-Disposition" not in large.headers
    page = large.get_data(as_text=True)
    total = session.scalar(sa.text("SELECT COUNT(*) FROM grants WHERE deleted_at IS NULL"))
    assert f"<strong>{total} rows</strong> match" in page
    assert 'action="/grants/export.xlsx?' in page and "Prepare the file" in page
    assert 'name="csrf_token"' in page
    assert 'href="/grants?' in page  # back to the list, with its filters
    # No file left, so nothing is audited and no job exists yet.
    assert (
        session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == AuditAction.DOWNLOAD)
        )
        == 0
    )
    assert session.scalar(sa.select(sa.func.count(Job.id))) == 0

    small = client.get(_url("grants", "csv", "status=completed"))  # one grant
    assert small.status_code == 200
    assert small.headers["Content-Disposition"].startswith("attachment;")
    # Lists with few rows by nature are never counted: always a direct download.
    assert client.get(_url("research-areas", "csv")).mimetype == "text/csv"


def test_the_default_thresholds_are_the_measured_ones(app: Flask) -> None:
    from app.exports.views import INLINE_ROWS, inline_rows

    assert INLINE_ROWS == {"csv": 30_000, "xlsx": 10_000}
    with app.app_context():
        assert "EXPORT_INLINE_ROWS" not in app.config
        assert (inline_rows("csv"), inline_rows("xlsx")) == (30_000, 10_000)


def test_a_post_for_a_small_export_sends_to_the_direct_download(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    response = client.post(_url("grants", "csv", "status=completed"))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/grants/export.csv?" in location and "status=completed" in location
    assert session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_the_post_needs_its_csrf_token(
    app: Flask,
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    monkeypatch: pytest.MonkeyPatch,
    session: so.Session,
) -> None:
    logged_in(Role.TRUSTEE)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    url = _url("grants", "csv")
    assert client.post(url).status_code == 400
    assert session.scalar(sa.select(sa.func.count(Job.id))) == 0
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 302 and JOB_URL.search(response.headers["Location"])


# --------------------------------------------------------------------------- the job's file


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("grants", ""),
        ("grants", "status=active&sort=title&dir=desc"),
        ("outputs", "sort=title"),
        ("organisations", ""),
        ("donors", ""),
        ("donations", "sort=amount&dir=asc"),
    ],
)
@pytest.mark.parametrize("role", [Role.STAFF, Role.TRUSTEE])
def test_the_jobs_file_is_the_direct_download(
    app: Flask,
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    name: str,
    query: str,
    role: Role,
) -> None:
    logged_in(role)
    app.config["EXPORT_INLINE_ROWS"] = {"csv": 0, "xlsx": 0}  # every list "large"
    for fmt in ("csv", "xlsx"):
        url = _url(name, fmt, query)
        made = _job_file(client, url)
        direct = _direct(client, app, url)
        assert made.headers["Content-Disposition"] == direct.headers["Content-Disposition"]
        assert made.mimetype == direct.mimetype
        assert made.headers["Cache-Control"] == "private, no-store"
        if fmt == "csv":
            assert made.data == direct.data  # byte for byte
        assert _rows(made.data, fmt) == _rows(direct.data, fmt)


def test_trustees_job_files_keep_their_restrictions(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None
) -> None:
    logged_in(Role.TRUSTEE)
    for fmt in ("csv", "xlsx"):
        grants = _rows(_job_file(client, _url("grants", fmt)).data, fmt)
        assert all("Internal only grant" not in row for row in grants)
        assert "Internal" not in {row[-1] for row in grants[1:]}
    # Donors and donations have fewer rows than a job needs here: make them "large".
    client.application.config["EXPORT_INLINE_ROWS"] = {"csv": 0, "xlsx": 0}
    for name in ("donors", "donations"):
        for fmt in ("csv", "xlsx"):
            content = _job_file(client, _url(name, fmt)).data
            rows = _rows(content, fmt)
            assert "Anonymous" not in rows[0]  # the staff-only column
            assert any("Anonymous donor" in row for row in rows[1:])
            if fmt == "csv":
                assert SECRET_DONOR.encode() not in content
            else:
                assert all(SECRET_DONOR not in str(cell) for row in rows for cell in row)


def test_the_job_shows_rows_written_of_the_total(
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    monkeypatch: pytest.MonkeyPatch,
    session: so.Session,
) -> None:
    written: list[tuple[str, int]] = []
    original = services.set_progress

    def spy(session: so.Session, job_id: int, stage: str, percent: int) -> None:
        written.append((stage, percent))
        original(session, job_id, stage, percent)

    monkeypatch.setattr(services, "set_progress", spy)
    monkeypatch.setattr(export_jobs, "PROGRESS_INTERVAL_S", 0)  # every row
    logged_in(Role.STAFF)
    job_id = _start(client, _url("grants", "xlsx"))
    total = _job(session, job_id).parameters["rows"]
    stages = [stage for stage, _ in written]
    assert stages[0] == export_jobs.COUNTING
    assert f"{export_jobs.WRITING}: 1 of {total}" in stages
    assert f"{export_jobs.WRITING}: {total} of {total}" in stages
    assert stages[-2:] == [export_jobs.PACKING, "Storing the result"]
    percents = [percent for _, percent in written]
    assert percents == sorted(percents)
    job = _job(session, job_id)
    assert (job.status, job.progress, job.result_type) == (
        JobStatus.DONE,
        100,
        export_jobs.XLSX_TYPE,
    )
    assert job.title == "Grants list (XLSX)" and job.kind == services.LIST_EXPORT


def test_a_queued_export_page_polls_and_says_where_the_file_will_be(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None, queue_held: list[int]
) -> None:
    logged_in(Role.TRUSTEE)
    client.application.config["EXPORT_INLINE_ROWS"] = {"csv": 0, "xlsx": 0}
    job_id = _start(client, _url("grants", "csv", "year=2001"))
    assert queue_held == [job_id]
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'data-job-url="/jobs/{job_id}.json"' in page and 'src="/static/jobs.js"' in page
    assert "Waiting for a worker" in page and 'http-equiv="refresh"' in page
    assert "year=2001" in page  # the filters, in "About this job"
    status = client.get(f"/jobs/{job_id}.json")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json()["status"] == "queued"
    listing = client.get("/jobs").get_data(as_text=True)
    assert f'href="/jobs/{job_id}"' in listing and "Grants list (CSV)" in listing
    # The prepare page says the file is on its way.
    again = client.get(_url("grants", "csv", "year=2001")).get_data(as_text=True)
    assert "already being prepared" in again and f'href="/jobs/{job_id}"' in again


# --------------------------------------------------------------------------- double clicks


def test_a_double_click_joins_the_job_under_way(
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    queue_held: list[int],
    make_user: Any,
    session: so.Session,
) -> None:
    logged_in(Role.STAFF)
    url = _url("grants", "xlsx", "status=active")
    first = _start(client, url)
    response = client.post(url)
    assert JOB_URL.search(response.headers["Location"]).group(1) == str(first)
    page = client.get(f"/jobs/{first}").get_data(as_text=True)
    assert "already being prepared" in page
    assert queue_held == [first]  # queued once
    # Another format, other filters or another order are other files.
    others = {
        _start(client, _url("grants", "csv", "status=active")),
        _start(client, _url("grants", "xlsx", "status=active&sort=title")),
        _start(client, _url("grants", "xlsx")),
    }
    assert first not in others and len(others) == 3
    # The page number is no filter: the same file.
    assert _start(client, url + "&page=2") == first
    # Someone else asking for the same list gets a job of their own.
    assert _start(_client_of(client.application, make_user(Role.STAFF)), url) not in {
        first,
        *others,
    }
    # Once done, asking again makes a new file.
    session.expire_all()
    with client.application.app_context():
        tasks.run_job(first)
    session.expire_all()
    assert _job(session, first).status == JobStatus.DONE


# --------------------------------------------------------------------------- access


def test_only_the_requester_or_an_admin_reach_an_export_job(
    app: Flask,
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    make_user: Any,
    session: so.Session,
) -> None:
    owner = logged_in(Role.TRUSTEE)
    job_id = _start(client, _url("grants", "csv"))
    urls = (f"/jobs/{job_id}", f"/jobs/{job_id}.json", f"/jobs/{job_id}/file")
    for url in urls:
        assert client.get(url).status_code == 200, url
    # A trustee never reaches the report job routes; staff find no export job there.
    assert client.get(f"/reports/jobs/{job_id}").status_code == 403

    for role in (Role.TRUSTEE, Role.STAFF):
        other = _client_of(app, make_user(role))
        for url in (*urls, f"/reports/jobs/{job_id}", f"/reports/jobs/{job_id}/draft.pdf"):
            assert other.get(url).status_code in (403, 404), (role, url)
        assert f"/jobs/{job_id}" not in other.get("/jobs").get_data(as_text=True)

    admin = _client_of(app, make_user(Role.ADMIN))
    assert admin.get(f"/jobs/{job_id}").status_code == 200
    assert admin.get(f"/jobs/{job_id}/file").status_code == 200
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert owner.id == _job(session, job_id).requested_by_id


def test_a_file_made_for_staff_is_refused_once_they_are_trustees(
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    session: so.Session,
    queue_held: list[int],
) -> None:
    staff = logged_in(Role.STAFF)
    made = _start(client, _url("grants", "csv"))
    session.expire_all()
    with client.application.app_context():
        tasks.run_job(made)
    waiting = _start(client, _url("grants", "xlsx"))
    session.get(User, staff.id).role = Role.TRUSTEE  # type: ignore[union-attr]
    session.commit()
    assert client.get(f"/jobs/{made}/file").status_code == 403
    with client.application.app_context():
        tasks.run_job(waiting)
    job = _job(session, waiting)
    assert job.status == JobStatus.FAILED and job.error == export_jobs.REFUSED
    assert job.result is None
    page = client.get(f"/jobs/{waiting}").get_data(as_text=True)
    assert "The file was not made." in page and "Prepare the file again" in page


@pytest.mark.parametrize("name", ["audit-log", "import-runs"])
def test_staff_only_lists_stay_staff_only(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None, name: str
) -> None:
    logged_in(Role.TRUSTEE)
    assert client.get(_url(name, "csv")).status_code == 403
    assert client.post(_url(name, "csv")).status_code == 403


# --------------------------------------------------------------------------- audit, expiry


def test_the_jobs_download_is_audited_like_a_direct_one(
    app: Flask,
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    session: so.Session,
) -> None:
    user = logged_in(Role.TRUSTEE)
    url = _url("grants", "xlsx", "status=active&sort=title&page=3")
    job_id = _start(client, url)

    def downloads() -> list[AuditEvent]:
        session.expire_all()
        return list(
            session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action == AuditAction.DOWNLOAD)
                .order_by(AuditEvent.id)
            )
        )

    assert downloads() == []  # preparing the file is no download
    client.get(f"/jobs/{job_id}/file")
    _direct(client, app, url)
    made, direct = downloads()
    assert made.summary == direct.summary == "Export of the grants list (XLSX): status=active"
    assert made.user_id == direct.user_id == user.id


def test_results_expire_after_a_week(
    client: FlaskClient, logged_in: Any, world: Any, small_inline: None, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    job_id = _start(client, _url("grants", "csv"))
    old = utcnow() - timedelta(days=services.RESULT_DAYS, hours=1)
    job = _job(session, job_id)
    job.finished_at = job.updated_at = old
    session.commit()
    # Past keeping: gone at once, before any purge.
    assert client.get(f"/jobs/{job_id}/file").status_code == 404
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "has been deleted" in page and "Prepare the file again" in page
    assert 'href="/grants/export.csv?' in page
    assert "Expired" in client.get("/jobs").get_data(as_text=True)
    # The next job purges the bytes; the row stays.
    _start(client, _url("grants", "xlsx"))
    assert _job(session, job_id).result is None


def test_the_jobs_page_does_not_grow_in_queries_with_jobs(
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    count_queries: Any,
    queue_held: list[int],
) -> None:
    logged_in(Role.STAFF)
    client.application.config["EXPORT_INLINE_ROWS"] = {"csv": 0, "xlsx": 0}
    counts = []
    for year in (2000, 2001, 2002):
        _start(client, _url("grants", "csv", f"year={year}&status=active"))
        _start(client, _url("grants", "xlsx", f"year={year}&status=active"))
        with count_queries() as counter:
            assert client.get("/jobs").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[-1]


# --------------------------------------------------------------------------- the migration


@pytest.fixture
def empty_database_url(tmp_path: Any) -> Iterator[str]:
    with scratch_database(tmp_path) as url:
        yield url


def test_the_migration_keeps_report_jobs_and_their_pdfs(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "3e8c1f0a9b57")
    engine = create_configured_engine(empty_database_url, poolclass=sa.pool.NullPool)
    columns = (
        "kind, parameters, parameters_key, title, status, progress, stage, result_pdf, "
        "result_filename, result_size, created_at, updated_at"
    )
    with engine.begin() as connection:
        for kind in ("annual_draft", "annual_issue"):
            connection.execute(
                sa.text(
                    f"INSERT INTO report_jobs ({columns}) VALUES (:kind, '{{}}', 'annual:2023', "
                    "'t', 'done', 100, 'Done', :pdf, 'a.pdf', 8, :now, :now)"
                ),
                {
                    "kind": kind,
                    "pdf": b"%PDF-1.7" if kind == "annual_draft" else None,
                    "now": utcnow().replace(tzinfo=None),
                },
            )
    command.upgrade(config, "head")
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT id, kind, result, result_type FROM jobs ORDER BY id")
        ).all()
        assert [(r.kind, r.result, r.result_type) for r in rows] == [
            ("annual_draft", b"%PDF-1.7", "application/pdf"),
            ("annual_issue", None, None),
        ]
        # New rows take the next ids.
        connection.execute(
            sa.text(
                "INSERT INTO jobs (kind, parameters, parameters_key, title, status, progress, "
                "stage, created_at, updated_at) VALUES ('list_export', '{}', 'k', 't', 'done', "
                "100, 'Done', :now, :now)"
            ),
            {"now": utcnow().replace(tzinfo=None)},
        )
        assert connection.scalar(sa.text("SELECT MAX(id) FROM jobs")) == rows[-1].id + 1
    command.downgrade(config, "3e8c1f0a9b57")
    with engine.begin() as connection:
        back = connection.execute(
            sa.text("SELECT kind, result_pdf FROM report_jobs ORDER BY id")
        ).all()
        assert [(r.kind, r.result_pdf) for r in back] == [
            ("annual_draft", b"%PDF-1.7"),
            ("annual_issue", None),
        ]
    engine.dispose()


def test_a_stalled_export_is_replaced_when_asked_again(
    client: FlaskClient,
    logged_in: Any,
    world: Any,
    small_inline: None,
    session: so.Session,
    queue_held: list[int],
) -> None:
    logged_in(Role.STAFF)
    url = _url("grants", "csv")
    stalled = _start(client, url)
    job = _job(session, stalled)
    job.status, job.updated_at = JobStatus.RUNNING, utcnow() - services.STALE_RUNNING * 2
    session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "already being prepared" not in page and "Prepare the file" in page
    assert "This job has stopped." in client.get(f"/jobs/{stalled}").get_data(as_text=True)
    again = _start(client, url)
    assert again != stalled and queue_held == [stalled, again]
    assert (_job(session, stalled).status, _job(session, stalled).error) == (
        JobStatus.FAILED,
        services.STALE,
    )
