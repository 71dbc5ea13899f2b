"""Cached reads (filter options, list counts) and the change counters they rest on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from app.models import ChangeCounter, Grant, Programme, ProgrammeKind, ResearchArea, Role
from app.models.changes import WATCHED_TABLES
from app.records import cache
from tests import factories


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


def test_insert_update_delete_each_give_a_new_version(session: so.Session) -> None:
    seen = {version(session, "programmes")}
    programme = Programme(name="Pilot call 2031", kind=ProgrammeKind.PILOT, year=2031)
    session.add(programme)
    session.flush()
    seen.add(version(session, "programmes"))
    programme.description = "Changed"
    session.flush()
    seen.add(version(session, "programmes"))
    session.execute(sa.delete(Programme).where(Programme.id == programme.id))
    seen.add(version(session, "programmes"))
    assert len(seen) == 4  # every change a number of its own


def test_core_statements_change_the_version_too(session: so.Session) -> None:
    # Bulk writes (imports, the demo loader) bypass the ORM: the triggers still see them.
    grant = factories.grant(session)
    before = version(session, "grants")
    session.execute(sa.update(Grant).where(Grant.id == grant.id).values(title="Bulk title"))
    assert version(session, "grants") != before


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


def test_grant_list_count_and_options_are_read_once_while_nothing_changes(
    app: Flask,
    client: FlaskClient,
    session: so.Session,
    logged_in: Callable[[Role], Any],
    count_queries: Callable[[], Any],
) -> None:
    logged_in(Role.STAFF)
    factories.grant(session)
    session.commit()
    client.get("/grants?status=active")
    with count_queries() as counter:
        client.get("/grants?status=active")
    statements = " ".join(counter.statements).lower()
    assert "count(" not in statements
    assert "from programmes" not in statements
    assert "change_counters" in statements


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
