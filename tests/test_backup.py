"""`grantpath backup` and `grantpath restore`: consistent snapshots, exact round trips.

Each test works in scratch databases of its own (SQLite files, or PostgreSQL
databases created next to TEST_DATABASE_URL's and dropped afterwards): backups
need committed data, which the suite's rolled-back test transaction never has.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from sqlalchemy import orm as so

from app import create_app
from app.audit.services import record
from app.auth.services import create_user
from app.db import create_configured_engine
from app.extensions import db
from app.maintenance import services
from app.maintenance.services import MaintenanceError
from app.migrate import alembic_config
from app.models import AuditAction, AuditEvent, Base, Organisation, OrganisationKind, Role
from app.reports.issuing import ANNUAL, issue_report

from .conftest import TEST_PASSWORD, scratch_database

pytestmark = pytest.mark.slow

# Every byte value, NUL and invalid UTF-8 included, must come back untouched.
BINARY = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Any]:
    """Factory of empty scratch databases on the suite's engine, all dropped afterwards."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(scratch_database(tmp_path))


def migrated(url: str) -> str:
    # "heads": also works while parallel branches of migrations await re-chaining.
    command.upgrade(alembic_config(url), "heads")
    return url


@contextmanager
def app_on(url: str) -> Iterator[Flask]:
    """The app configured for one scratch database, as `grantpath` would build it."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "backup-tests"})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def cli(url: str, *args: str) -> Any:
    with app_on(url) as app:
        return app.test_cli_runner().invoke(args=list(args))


def load_data(url: str) -> None:
    """The demo foundation plus binary report bytes and non-ASCII text."""
    result = cli(url, "demo", "load")
    assert result.exit_code == 0, result.output
    with app_on(url) as app, app.app_context():
        user = create_user(
            db.session, "ännä@example.org", TEST_PASSWORD, Role.STAFF, name="Ännä Ñúñez ✓"
        )
        issue_report(
            db.session,
            ANNUAL,
            {"start_year": 2023, "end_year": 2023},
            BINARY,
            title="Annual impact report 2023 — “quoted”",
            year=2023,
            user=user,
            data={"total": "1.00"},
        )
        db.session.commit()


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database (reflected: nothing is left out), in key order."""
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        rows: dict[str, list[tuple[Any, ...]]] = {}
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name == "sqlite_sequence":
                    continue
                found = [tuple(row) for row in connection.execute(sa.select(table))]
                key = [table.columns.keys().index(c.name) for c in table.primary_key.columns]
                rows[table.name] = sorted(
                    found, key=lambda row, key=key: tuple(row[i] for i in key) if key else repr(row)
                )
        return rows
    finally:
        engine.dispose()


def sqlite_file(url: str) -> Path:
    return Path(sa.make_url(url).database or "")


def is_postgresql(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "postgresql"


def test_restore_round_trips_every_table_exactly(databases, tmp_path: Path) -> None:
    source = migrated(databases())
    load_data(source)
    backup_file = tmp_path / "grantpath.backup"
    made = cli(source, "backup", str(backup_file))
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output and backup_file.stat().st_size > 0

    target = databases()
    restored = cli(target, "restore", str(backup_file))
    assert restored.exit_code == 0, restored.output
    assert "Warning" not in restored.output

    before, after = every_row(source), every_row(target)
    expected_tables = {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"}
    assert expected_tables <= set(before)
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table
    assert len(before["grants"]) > 100 and len(before["issued_reports"]) == 1

    # The restored database is live: its id sequences carry on past the restored rows.
    engine = create_configured_engine(target, poolclass=sa.pool.NullPool)
    try:
        with so.Session(engine) as session:
            organisation = Organisation(
                name="After the restore", kind=OrganisationKind.UNIVERSITY, country="IT"
            )
            session.add(organisation)
            session.commit()
            assert organisation.id > max(row[0] for row in before["organisations"])
    finally:
        engine.dispose()
    if not is_postgresql(target):
        with closing(sqlite3.connect(sqlite_file(target))) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


def _write_pairs(url: str, stop: threading.Event, written: list[int]) -> None:
    """Commit an organisation and its audit event together, over and over, until told to stop."""
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        while not stop.is_set():
            with so.Session(engine) as session:
                n = len(written)
                organisation = Organisation(
                    name=f"Writer {n}", kind=OrganisationKind.UNIVERSITY, country="IT"
                )
                session.add(organisation)
                session.flush()
                record(session, AuditAction.CREATE, entity=organisation, summary=f"Writer {n}")
                session.commit()
            written.append(n)
    finally:
        engine.dispose()


def _pairs(url: str) -> tuple[int, int]:
    """How many writer organisations and writer audit events a database holds."""
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            organisations = connection.scalar(
                sa.select(sa.func.count())
                .select_from(Organisation)
                .where(Organisation.name.like("Writer %"))
            )
            events = connection.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.summary.like("Writer %"))
            )
        return organisations or 0, events or 0
    finally:
        engine.dispose()


def test_backup_while_the_app_writes_is_a_consistent_snapshot(databases, tmp_path: Path) -> None:
    source = migrated(databases())
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_write_pairs, args=(source, stop, written))
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(written) >= 20, "the writer did not get going"
        backup_file = tmp_path / "busy.backup"
        during = len(written)
        made = cli(source, "backup", str(backup_file))
        assert made.exit_code == 0, made.output
        after = len(written)
        # Keep writing a little: the copy must not depend on the writer pausing.
        while len(written) < after + 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    assert len(written) > after, "nothing was written after the backup"

    if not is_postgresql(source):
        with closing(sqlite3.connect(backup_file)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert not list(tmp_path.glob(".busy.backup.partial-*"))

    target = databases()
    restored = cli(target, "restore", str(backup_file))
    assert restored.exit_code == 0, restored.output
    organisations, events = _pairs(target)
    # One snapshot: every committed pair whole, none half-written, and not the whole run.
    assert organisations == events
    assert during <= organisations <= after + 1
    assert organisations < len(written)


def test_restore_refuses_a_database_that_is_not_empty(databases, tmp_path: Path) -> None:
    source = migrated(databases())
    backup_file = tmp_path / "small.backup"
    assert cli(source, "backup", str(backup_file)).exit_code == 0
    target = migrated(databases())
    before = every_row(target)
    refused = cli(target, "restore", str(backup_file))
    assert refused.exit_code == 1
    assert "is not empty" in refused.output and "alembic_version" in refused.output
    assert every_row(target) == before


def test_restore_refuses_files_that_are_not_backups(databases, tmp_path: Path) -> None:
    target = databases()
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    refused = cli(target, "restore", str(junk))
    assert refused.exit_code == 1
    assert "neither a SQLite database nor a pg_dump" in refused.output
    other_engine = tmp_path / "other.backup"
    if is_postgresql(target):
        with closing(sqlite3.connect(other_engine)) as connection:
            connection.execute("CREATE TABLE t (x)")
        expected = "is a SQLite backup but the database is PostgreSQL"
    else:
        other_engine.write_bytes(b"PGDMP" + bytes(100))
        expected = "is a PostgreSQL backup but the database is SQLite"
    refused = cli(target, "restore", str(other_engine))
    assert refused.exit_code == 1 and expected in refused.output
    assert services.existing_tables(target) == []


def test_failed_backup_keeps_the_previous_one(databases, tmp_path: Path, monkeypatch) -> None:
    source = migrated(databases())
    backup_file = tmp_path / "nightly.backup"
    backup_file.write_bytes(b"yesterday's good backup")

    def broken(*args: Any) -> None:
        raise MaintenanceError("disk full")

    monkeypatch.setattr(services, "_durable_replace", broken)
    failed = cli(source, "backup", str(backup_file))
    assert failed.exit_code == 1 and "disk full" in failed.output
    assert backup_file.read_bytes() == b"yesterday's good backup"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".nightly")] == []


def test_missing_pg_dump_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(services, "PG_LIB_DIR", tmp_path / "nowhere")
    with pytest.raises(MaintenanceError, match="pg_dump is needed for PostgreSQL"):
        services.pg_tool("pg_dump")
    with pytest.raises(MaintenanceError, match="There is no pg_dump in"):
        services.pg_tool("pg_dump", str(tmp_path))
    found = tmp_path / "15" / "bin" / "pg_dump"
    found.parent.mkdir(parents=True)
    found.write_text("#!/bin/sh\n")
    found.chmod(0o755)
    monkeypatch.setattr(services, "PG_LIB_DIR", tmp_path)
    assert services.pg_tool("pg_dump") == str(found)


def test_postgresql_password_stays_off_the_command_line() -> None:
    url = sa.make_url("postgresql+psycopg://app:s3cret@db.example:5433/grantpath?sslmode=require")
    conninfo, environment = services._libpq(url)
    assert conninfo == "postgresql://app@db.example:5433/grantpath?sslmode=require"
    assert environment["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in services.shown_url(url.render_as_string(hide_password=False))


def test_in_memory_sqlite_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MaintenanceError, match="in-memory"):
        services.backup("sqlite://", tmp_path / "x.backup")
