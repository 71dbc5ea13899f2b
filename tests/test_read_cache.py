"""Cached reads (filter options, list counts) and the change counters they rest on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from app import create_app
from app.auth.services import create_user
from app.extensions import db
from app.migrate import alembic_config
from app.models import ChangeCounter, Grant, Programme, ProgrammeKind, ResearchArea, Role
from app.models.changes import WATCHED_TABLES
from app.records import cache
from tests import factories
from tests.conftest import TEST_PASSWORD, scratch_database


def version(session: so.Session, table: str) -> int:
    return session.scalar(sa.select(ChangeCounter.version).where(ChangeCounter.table_name == table))


def test_every_watched_table_has_its_triggers(session: so.Session) -> None:
    # A migration that rebuilds a watched table on SQLite drops its triggers: caught here.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        names = connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        ).scalars()
        expected = {f"{table}_changed" for table in WATCHED_TABLES}
    else:
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
        expected = {
            f"{table}_{event}_changed"
            for table in WATCHED_TABLES
            for event in ("insert", "update", "delete")
        }
    assert expected <= set(names)
    assert {row for row in session.scalars(sa.select(ChangeCounter.table_name))} == set(
        WATCHED_TABLES
    )


def test_every_insert_update_and_delete_is_seen_by_the_next_cached_read(
    session: so.Session,
) -> None:
    cache.clear()

    def live_programmes() -> list[str]:
        return sorted(session.scalars(sa.select(Programme.name)))

    def ask() -> list[str]:
        return cache.cached_read(session, ("programmes",), "names", live_programmes)

    assert "Pilot call 2031" not in ask()
    programme = Programme(name="Pilot call 2031", kind=ProgrammeKind.PILOT, year=2031)
    session.add(programme)
    session.flush()
    assert "Pilot call 2031" in ask()
    programme.name = "Pilot call 2032"
    session.flush()
    assert "Pilot call 2032" in ask() and "Pilot call 2031" not in ask()
    session.execute(sa.delete(Programme).where(Programme.id == programme.id))
    assert "Pilot call 2032" not in ask()


def test_core_statements_are_seen_too(session: so.Session) -> None:
    # Bulk writes (imports, the demo loader) bypass the ORM: the triggers still see them.
    cache.clear()
    grant = factories.grant(session)

    def title() -> str:
        return session.scalar(sa.select(Grant.title).where(Grant.id == grant.id)) or ""

    assert cache.cached_read(session, ("grants",), ("title", grant.id), title) == grant.title
    session.execute(sa.update(Grant).where(Grant.id == grant.id).values(title="Bulk title"))
    assert cache.cached_read(session, ("grants",), ("title", grant.id), title) == "Bulk title"


def test_how_each_engine_marks_a_writing_transaction(session: so.Session) -> None:
    before, changed_here = cache.table_versions(session, ["research_areas"])
    assert not changed_here
    session.add(ResearchArea(name="Neuroprotection"))
    session.flush()
    first, changed_here = cache.table_versions(session, ["research_areas"])
    session.add(ResearchArea(name="Neurorehabilitation"))
    session.flush()
    second, _ = cache.table_versions(session, ["research_areas"])
    assert first != before
    if session.get_bind().dialect.name == "postgresql":
        # One new version per transaction (a row updated per statement would pile up row
        # versions: minutes for an import); the transaction reads past the cache instead.
        assert changed_here and second == first
    else:
        assert not changed_here and second != first  # a version per row written


def test_a_rolled_back_change_never_lends_its_version_to_a_later_one(
    session: so.Session,
) -> None:
    before = version(session, "research_areas")
    savepoint = session.begin_nested()
    session.add(ResearchArea(name="Remyelination (rolled back)"))
    session.flush()
    rolled_back = version(session, "research_areas")
    savepoint.rollback()
    assert version(session, "research_areas") == before
    session.add(ResearchArea(name="Remyelination"))
    session.flush()
    assert version(session, "research_areas") not in {before, rolled_back}


def test_cached_read_is_used_until_its_tables_change(session: so.Session) -> None:
    cache.clear()
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    assert cache.cached_read(session, ("programmes",), "question", read) == 1
    assert cache.cached_read(session, ("programmes",), "question", read) == 1
    assert cache.cached_read(session, ("programmes",), "another question", read) == 2
    # A change to a table the answer does not rest on keeps it.
    factories.grant(session)
    assert cache.cached_read(session, ("programmes",), "question", read) == 1
    session.add(Programme(name="Fellowships 2031", kind=ProgrammeKind.FELLOWSHIP))
    session.flush()
    assert cache.cached_read(session, ("programmes",), "question", read) == 3


def test_unknown_tables_are_refused(session: so.Session) -> None:
    with pytest.raises(ValueError, match="no change counter for payments"):
        cache.cached_read(session, ("payments",), "question", lambda: 0)


def test_cache_keeps_at_most_its_limit(
    session: so.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.clear()
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for question in range(5):
        cache.cached_read(session, ("grants",), question, lambda: 0)
    assert len(cache._entries) == 3


def test_grant_list_shows_new_programmes_years_and_grants_at_once(
    client: FlaskClient,
    session: so.Session,
    logged_in: Callable[[Role], Any],
) -> None:
    logged_in(Role.STAFF)
    factories.grant(session, award_date=date(2020, 5, 1))
    session.commit()
    first = client.get("/grants").get_data(as_text=True)
    assert "Stem cell call 2044" not in first and ">2044<" not in first
    programme = Programme(name="Stem cell call 2044", kind=ProgrammeKind.ANNUAL_CALL, year=2044)
    session.add(programme)
    session.commit()
    factories.grant(session, award_date=date(2044, 3, 1), programme=programme)
    session.commit()
    page = client.get("/grants").get_data(as_text=True)
    assert "Stem cell call 2044" in page
    assert '<option value="2044">2044</option>' in page
    total = session.scalar(sa.select(sa.func.count()).select_from(Grant))
    assert f"of {total:,}" in page


def test_pages_reuse_counts_and_options_until_a_commit_changes_them(tmp_path: Path) -> None:
    # Real commits in a database of its own: inside the suite's one test transaction,
    # PostgreSQL rightly reads past the cache of the tables the transaction changed.
    with scratch_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "head")
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False}
        )
        statements: list[str] = []

        def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement.lower())

        try:
            with app.app_context():
                create_user(db.session, "cache@example.org", TEST_PASSWORD, Role.STAFF)
                factories.grant(db.session, title="First grant")
                factories.output(db.session)
                db.session.commit()
                engine = db.engine
            client = app.test_client()
            client.post("/login", data={"email": "cache@example.org", "password": TEST_PASSWORD})
            cache.clear()
            for path in ("/grants?status=active", "/outputs"):
                assert client.get(path).status_code == 200
                statements.clear()
                sa.event.listen(engine, "before_cursor_execute", remember)
                try:
                    assert client.get(path).status_code == 200
                finally:
                    sa.event.remove(engine, "before_cursor_execute", remember)
                read = " ".join(statements)
                assert read.count("from change_counters") == 1, path  # once a request
                assert "count(*)" not in read, path  # the total (and options) from the cache
            assert "from programmes" not in " ".join(statements)
            with app.app_context():
                factories.grant(db.session, title="Second grant")
                db.session.commit()
            page = client.get("/grants?status=active").get_data(as_text=True)
            assert "Second grant" in page and "1–2 of 2" in page
        finally:
            with app.app_context():
                db.engine.dispose()


def test_bulk_inserts_of_hundreds_of_rows_a_statement_change_the_version(
    session: so.Session,
) -> None:
    from app.demo.synthetic import insert_rows

    before = version(session, "research_areas")
    count = session.scalar(sa.select(sa.func.count()).select_from(ResearchArea))
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    now = "2026-01-01 00:00:00"
    rows = [(f"Bulk area {n}", now, now, 1) for n in range(1_234)]  # 2 x 500 and 234 more
    insert_rows(
        connection,
        "INSERT INTO research_areas (name, created_at, updated_at, version) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})",
        rows,
    )
    names = set(
        session.scalars(sa.select(ResearchArea.name).where(ResearchArea.name.like("Bulk area %")))
    )
    assert names == {row[0] for row in rows}
    assert session.scalar(sa.select(sa.func.count()).select_from(ResearchArea)) == count + 1_234
    assert version(session, "research_areas") != before
