"""Engine set-up shared by the app, the CLI, Alembic and the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

SQLITE_BUSY_TIMEOUT_MS = 10_000

# True while handling a request that may write (set per request in create_app).
writing: ContextVar[bool] = ContextVar("writing", default=False)


def configure_engine(engine: sa.Engine) -> sa.Engine:
    """Make SQLite behave (foreign keys, WAL, busy timeout, real transactions); PostgreSQL: no JIT.

    pysqlite opens transactions lazily and never for DDL or SAVEPOINT, which
    breaks nested transactions; we switch its own handling off and emit BEGIN
    ourselves (the recipe in SQLAlchemy's SQLite dialect documentation).
    """
    if engine.dialect.name == "postgresql":
        return _configure_postgresql(engine)
    if engine.dialect.name != "sqlite":
        return engine

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # 32 MB of page cache (default 2 MB), filled only as used: a 100,000-row import
            # updates a dozen grant indexes, 20,000 -> 25,000 rows/s measured.
            cursor.execute("PRAGMA cache_size = -32768")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" once another writer has committed (WAL snapshot);
        # requests that may write take the write lock up front and wait for it.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing.get() else "BEGIN")

    return engine


@contextmanager
def write_transaction(session: so.Session) -> Iterator[None]:
    """Write after reading in a GET request (an audited download), in a transaction of its own.

    Commits the request's read transaction, runs the block in a new one that on
    SQLite takes the write lock up front (BEGIN IMMEDIATE, waiting up to the
    busy timeout), and commits it. A deferred SQLite transaction that has read
    cannot start writing once another connection has committed since its
    snapshot (WAL): it fails at once with "database is locked", whatever the
    busy timeout. Objects read before are expired by the first commit and
    reload inside the new transaction.
    """
    session.commit()
    token = writing.set(True)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        writing.reset(token)


def _configure_postgresql(engine: sa.Engine) -> sa.Engine:
    """Switch PostgreSQL's JIT compiler off for our connections.

    Our reports aggregate 100,000-row tables, which crosses the JIT cost
    threshold: compiling then took 130 ms of a 340 ms query and saved nothing.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # The SQLAlchemy recipe: a session setting outside any transaction.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.autocommit = autocommit

    return engine


def create_configured_engine(url: str, **kwargs: Any) -> sa.Engine:
    """create_engine plus configure_engine, for code outside a Flask app."""
    return configure_engine(sa.create_engine(url, **kwargs))
