"""Faults: a process killed mid-write leaves nothing partial; a failed save writes nothing.

The kill tests run the real command (`grantpath import grants FILE`) or the
real issuing service in a child process on a scratch database of their own
(the suite's rolled-back test transaction cannot show what another process
committed). The child carries a hook that stops it at an exact point, with
rows written but not committed, and reports it on stderr; only then is it
sent SIGKILL, so the test never depends on timing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from sqlalchemy import orm as so
from sqlalchemy.exc import OperationalError

from app import create_app, errors
from app.auth.services import create_user
from app.db import create_configured_engine
from app.extensions import db
from app.grants import services as grant_services
from app.migrate import alembic_config
from app.models import AuditEvent, Grant, IssuedReport, Role
from tests.bench.bench_import import grants_csv, seed

from . import factories
from .conftest import TEST_PASSWORD, scratch_database
from .test_grants import _form

ROOT = Path(__file__).resolve().parent.parent
ROWS = 20_000  # four chunks of the import's bulk writer: a kill after the second is mid-way
CHILD_TIMEOUT_S = 180
FAULT_LINE = "FAULT POINT"

# Run in the child before anything else: stop for good at the chosen point.
#   FAULT_MOMENT=insert: right after the FAULT_AFTER-th INSERT into FAULT_TABLE;
#   FAULT_MOMENT=commit: at COMMIT, once FAULT_TABLE has been written (all flushed);
#   FAULT_MOMENT=never: run to the end.
HOOK = r"""
import os, re, sys, time
import sqlalchemy as sa

_table, _moment = os.environ["FAULT_TABLE"], os.environ["FAULT_MOMENT"]
_after = int(os.environ.get("FAULT_AFTER", "1"))
_insert = re.compile(r'\s*INSERT\s+INTO\s+"?%s"?[\s(]' % re.escape(_table), re.IGNORECASE)
_seen = 0


_parent = os.getppid()


def _hold():
    sys.stderr.write("FAULT POINT\n")
    sys.stderr.flush()
    while os.getppid() == _parent:  # an orphan (the test itself died) ends on its own
        time.sleep(0.2)
    os._exit(1)


@sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
def _after_execute(conn, cursor, statement, parameters, context, executemany):
    global _seen
    if _insert.match(statement):
        _seen += 1
        if _moment == "insert" and _seen == _after:
            _hold()


@sa.event.listens_for(sa.engine.Engine, "commit")
def _on_commit(conn):
    if _moment == "commit" and _seen:
        _hold()


# On PostgreSQL bulk rows go in by COPY, beneath SQLAlchemy's events: count those too.
from app.demo import synthetic as _synthetic

_copy = _synthetic.BulkWriter._copy


def _counted_copy(self, connection, table, batch):
    global _seen
    _copy(self, connection, table, batch)
    if table.name == _table:
        _seen += 1
        if _moment == "insert" and _seen == _after:
            _hold()


_synthetic.BulkWriter._copy = _counted_copy
"""

CLI = (
    HOOK
    + """
from app.cli import main
main(sys.argv[1:], prog_name="grantpath")
"""
)

ISSUE = (
    HOOK
    + """
from app import create_app
from app.extensions import db
from app.models import User
from app.reports.issuing import issue_annual_report
from reports.annual import period_from_text

app = create_app()
with app.app_context():
    user = db.session.scalar(sa.select(User).where(User.email == sys.argv[1]))
    issued = issue_annual_report(
        db.session, period_from_text(sys.argv[2]), foundation="Fault tests",
        user=user, include_register=False,
    )
    db.session.commit()
    print(f"Issued {issued.filename}")
"""
)


# ---------------------------------------------------------------- helpers


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[str]:
    """A migrated scratch database of the suite's engine, dropped afterwards."""
    with scratch_database(tmp_path) as url:
        # "heads": also works while parallel branches of migrations await re-chaining.
        command.upgrade(alembic_config(url), "heads")
        yield url


def is_postgresql(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "postgresql"


def run_child(
    url: str, script: str, args: list[str], *, table: str, moment: str, after: int = 1
) -> subprocess.CompletedProcess[str] | None:
    """Run a child; with a fault point, SIGKILL it there (None) else wait for it to end."""
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "fault-tests",
        "GRANTPATH_ENV": "development",
        "FAULT_TABLE": table,
        "FAULT_MOMENT": moment,
        "FAULT_AFTER": str(after),
    }
    output: list[str] = []
    reached = threading.Event()
    with subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:

        def read() -> None:
            assert child.stdout is not None
            for line in child.stdout:
                output.append(line)
                if line.strip() == FAULT_LINE:
                    reached.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if moment == "never":
                returncode = child.wait(timeout=CHILD_TIMEOUT_S)
                reader.join(timeout=10)
                return subprocess.CompletedProcess(child.args, returncode, "".join(output))
            deadline = time.monotonic() + CHILD_TIMEOUT_S
            while not reached.is_set() and child.poll() is None and time.monotonic() < deadline:
                reached.wait(timeout=0.05)
            if not reached.is_set():
                pytest.fail("the child never reached its fault point:\n" + "".join(output))
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(timeout=30) == -signal.SIGKILL
            reader.join(timeout=10)
            return None
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def wait_until_disconnected(url: str) -> None:
    """PostgreSQL: wait for the server to notice the dead client and roll its transaction back."""
    if not is_postgresql(url):
        return
    database = sa.make_url(url).database
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as connection:
                others = connection.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )
            if not others:
                return
            assert time.monotonic() < deadline, "the killed client's session is still open"
            time.sleep(0.1)
    finally:
        engine.dispose()


def counts(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return {
                name: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) or 0
                for name in tables
            }
    finally:
        engine.dispose()


def assert_intact(url: str) -> None:
    """SQLite's own checks, on a plain connection that sees only what was committed."""
    if is_postgresql(url):
        return
    path = sa.make_url(url).database or ""
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


# ---------------------------------------------------------------- killed import

IMPORT_TABLES = ("grants", "grant_areas", "import_runs", "audit_events")


# Where each child is killed: in the middle of writing, and with everything written at COMMIT.
IMPORT_KILLS = (("insert", 2), ("commit", 1))
ISSUE_KILLS = (("insert", 1), ("commit", 1))


@pytest.mark.slow
def test_import_killed_midway_leaves_the_database_unchanged(scratch: str, tmp_path: Path) -> None:
    engine = create_configured_engine(scratch, poolclass=sa.pool.NullPool)
    with so.Session(engine) as session:
        seed(session)
    engine.dispose()
    data_file = tmp_path / "grants.csv"
    data_file.write_bytes(grants_csv(ROWS))
    command = ["import", "grants", str(data_file)]
    before = counts(scratch, IMPORT_TABLES)

    for moment, after in IMPORT_KILLS:
        run_child(scratch, CLI, command, table="grants", moment=moment, after=after)
        wait_until_disconnected(scratch)
        assert_intact(scratch)
        assert counts(scratch, IMPORT_TABLES) == before, moment

    # Nothing is left locked or half-done: the same import now goes through whole.
    done = run_child(scratch, CLI, command, table="grants", moment="never")
    assert done is not None and done.returncode == 0, done.stdout if done else ""
    assert "Imported grants.csv" in done.stdout
    assert_intact(scratch)
    after_counts = counts(scratch, IMPORT_TABLES)
    assert after_counts["grants"] == ROWS and after_counts["import_runs"] == 1


# ---------------------------------------------------------------- killed issuing

ISSUE_TABLES = ("issued_reports", "audit_events")
ISSUER = "issuer@example.org"


@pytest.fixture
def with_demo(scratch: str) -> str:
    """The scratch database with the demo foundation and a staff member to issue reports."""
    app = create_app({"DATABASE_URL": scratch, "SECRET_KEY": "fault-tests"})
    try:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            create_user(db.session, ISSUER, TEST_PASSWORD, Role.STAFF)
            db.session.commit()
    finally:
        with app.app_context():
            db.engine.dispose()
    return scratch


@pytest.mark.slow
def test_issuing_killed_midway_leaves_no_issued_report(with_demo: str) -> None:
    before = counts(with_demo, ISSUE_TABLES)
    for moment, after in ISSUE_KILLS:
        run_child(
            with_demo, ISSUE, [ISSUER, "2023"], table="issued_reports", moment=moment, after=after
        )
        wait_until_disconnected(with_demo)
        assert_intact(with_demo)
        assert counts(with_demo, ISSUE_TABLES) == before, moment

    done = run_child(with_demo, ISSUE, [ISSUER, "2023"], table="issued_reports", moment="never")
    assert done is not None and done.returncode == 0, done.stdout if done else ""
    engine = create_configured_engine(with_demo, poolclass=sa.pool.NullPool)
    try:
        with so.Session(engine) as session:
            issued = session.scalars(sa.select(IssuedReport)).all()
            # The killed attempt used up nothing: the first report issued is version 1.
            assert [report.version for report in issued] == [1]
            report = issued[0]
            assert report.pdf.startswith(b"%PDF-") and report.size_bytes == len(report.pdf)
            assert hashlib.sha256(report.pdf).hexdigest() == report.sha256
    finally:
        engine.dispose()


# ---------------------------------------------------------------- failed saves


def _grant_and_event_counts(session: so.Session) -> tuple[int, int]:
    session.expire_all()
    grants = session.scalar(sa.select(sa.func.count(Grant.id))) or 0
    events = session.scalar(sa.select(sa.func.count(AuditEvent.id))) or 0
    return grants, events


def _assert_friendly(page: str) -> None:
    for leak in ("Traceback", "OperationalError", "IntegrityError", "sqlalchemy", "INSERT INTO"):
        assert leak not in page


def test_database_error_during_a_save_shows_a_page_and_writes_nothing(
    app: Flask, client, logged_in, session, monkeypatch
) -> None:
    logged_in(Role.STAFF)
    host = factories.organisation(session)
    session.commit()
    before = _grant_and_event_counts(session)
    flush = so.Session.flush

    def failing_flush(self: so.Session, objects: object = None) -> None:
        if any(isinstance(obj, Grant) for obj in self.new):
            raise OperationalError("INSERT INTO grants ...", {}, Exception("disk I/O error"))
        flush(self, objects)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(so.Session, "flush", failing_flush)
        response = client.post("/grants/new", data=_form(host.id))
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "nothing was saved" in page
    _assert_friendly(page)
    assert "disk I/O error" not in page
    assert _grant_and_event_counts(session) == before


def test_constraint_violation_during_a_save_shows_a_page_and_writes_nothing(
    app: Flask, client, logged_in, session, monkeypatch
) -> None:
    """The grant row and its audit event are already flushed when the database refuses."""
    logged_in(Role.STAFF)
    host = factories.organisation(session)
    session.commit()
    before = _grant_and_event_counts(session)
    create = grant_services.create_grant

    def create_then_break_a_check(db_session: so.Session, data: object) -> Grant:
        grant = create(db_session, data)  # type: ignore[arg-type]
        db_session.flush()
        db_session.execute(
            sa.text("UPDATE grants SET amount_awarded = -100 WHERE id = :id"), {"id": grant.id}
        )
        return grant

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(grant_services, "create_grant", create_then_break_a_check)
    response = client.post("/grants/new", data=_form(host.id))
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    _assert_friendly(page)
    assert _grant_and_event_counts(session) == before


def _database_down(*args: object, **kwargs: object) -> None:
    raise OperationalError("SELECT ...", {}, Exception("server closed the connection"))


def test_database_down_answers_json_clients_in_json(app: Flask, client, logged_in, monkeypatch):
    logged_in(Role.STAFF)
    monkeypatch.setitem(app.view_functions, "lookup.search", _database_down)
    response = client.get("/lookup/grants?q=te", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.is_json
    assert "nothing was saved" in response.get_json()["error"]
    assert "server closed" not in response.get_data(as_text=True)


def test_database_down_even_for_the_page_frame_gives_a_bare_page(
    app: Flask, client, logged_in, monkeypatch
) -> None:
    """The error page shows the logged-in user, loaded from the database that just failed."""
    logged_in(Role.STAFF)
    monkeypatch.setitem(app.view_functions, "grants.index", _database_down)
    monkeypatch.setattr(errors, "render_template", _database_down)
    response = client.get("/grants")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "<h1>Try again shortly</h1>" in page and "nothing was saved" in page
    _assert_friendly(page)
