"""Test fixtures: one migrated database per run, each test in a rolled-back transaction.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is
set (``.ci/run`` does both).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import orm as so

from app import create_app
from app.auth.services import create_user
from app.db import create_configured_engine
from app.extensions import db
from app.migrate import alembic_config
from app.models import Role, User

TEST_PASSWORD = "correct horse battery staple"


def reset_database(url: str) -> None:
    """Empty a database completely, whatever state an earlier run left it in."""
    engine = create_configured_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in sa.inspect(connection).get_table_names():
                connection.exec_driver_sql(f'DROP TABLE "{table}"')
    engine.dispose()


@contextmanager
def scratch_database(directory: Path) -> Iterator[str]:
    """A brand-new empty database on the suite's engine, dropped afterwards."""
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        yield f"sqlite:///{directory / f'scratch-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    name = f"grantpath_scratch_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    reset_database(url)
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test inside one outer transaction that is rolled back afterwards.

    Sessions created during the test join it through SAVEPOINTs, so code under
    test may commit freely (flask-sqlalchemy-lite's testing recipe).
    """
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        engine = db.engine
        factory = db.sessionmaker
    connection = engine.connect()
    outer = connection.begin()
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        factory.configure(bind=engine, join_transaction_mode="conservative_savepoint")
        outer.rollback()
        connection.close()


@pytest.fixture
def session(app: Flask) -> Iterator[so.Session]:
    """A session of the test's own, on the test transaction.

    Deliberately no app context stays pushed: requests made by test clients
    must get their own context (their own g, current_user and session), as in
    production.
    """
    with app.app_context():
        factory = db.sessionmaker
    own = factory()
    yield own
    own.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Factory: make_user(role=Role.STAFF, email=None) -> User, committed."""
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.STAFF, email: str | None = None) -> User:
        with app.app_context():
            user = create_user(
                db.session, email or f"{role.value}{next(counter)}@example.org", TEST_PASSWORD, role
            )
            db.session.commit()
            return user

    return make


class AuthActions:
    """Log a test client in and out through the real form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = TEST_PASSWORD) -> Any:
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def csrf_token_from(html: str) -> str:
    """The CSRF token embedded in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token in page"
    return match.group(1)


class QueryCounter:
    """Counts SQL statements sent to the database while active."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """Context manager factory: `with count_queries() as counter: ...; counter.count`."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        with app.app_context():
            engine = db.engine
        counter = QueryCounter()
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def logged_in(client: FlaskClient, make_user: Callable[..., User]) -> Callable[[Role], User]:
    """Log the test client in as a new user of the given role."""

    def login(role: Role = Role.STAFF) -> User:
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
        return user

    return login


@pytest.fixture
def demo(session: so.Session) -> so.Session:
    """The demo foundation, committed to the test transaction, with planner statistics."""
    from app.demo.foundation import load_foundation

    assert load_foundation(session, echo=lambda *args, **kwargs: None) is not None
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        # Otherwise PostgreSQL plans the demo's thousands of rows from the statistics of
        # empty tables: nested loops that made one portfolio query take 10 s.
        session.execute(sa.text("ANALYZE"))
    return session
