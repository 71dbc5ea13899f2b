"""Concurrent writes on SQLite wait for the lock instead of failing."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic import command

from app import create_app
from app.auth.services import create_user
from app.extensions import db
from app.migrate import alembic_config
from app.models import AuditEvent, Role

from .conftest import TEST_PASSWORD


@pytest.mark.skipif(
    "TEST_DATABASE_URL" in __import__("os").environ, reason="SQLite locking behaviour"
)
def test_parallel_logins_never_see_database_is_locked(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'locks.sqlite'}"
    command.upgrade(alembic_config(url), "head")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        for i in range(8):
            create_user(db.session, f"user{i}@example.org", TEST_PASSWORD, Role.STAFF)
        db.session.commit()
    statuses: list[int] = []

    def login(i: int) -> None:
        client = app.test_client()
        for _ in range(3):
            response = client.post(
                "/login", data={"email": f"user{i}@example.org", "password": TEST_PASSWORD}
            )
            statuses.append(response.status_code)
            client.post("/logout")

    threads = [threading.Thread(target=login, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 24
    with app.app_context():
        logins = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "login")
        )
        db.engine.dispose()
    assert logins == 24
