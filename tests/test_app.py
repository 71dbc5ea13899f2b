"""The app factory, configuration and the engine set-up."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.config import load_config


def test_refuses_production_without_secret(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("GRANTPATH_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        load_config(str(tmp_path))


def test_generates_secret_once_in_instance(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("GRANTPATH_ENV", raising=False)
    first = load_config(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= 40
    assert load_config(str(tmp_path))["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_url_uses_psycopg3(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/grantpath")
    monkeypatch.setenv("SECRET_KEY", "x")
    assert load_config(str(tmp_path))["DATABASE_URL"] == "postgresql+psycopg://u:p@db/grantpath"


def test_sqlite_connections_are_configured(tmp_path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x"})
    from app.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_foreign_keys_enforced(app: Flask, session) -> None:
    from app.models import Grant

    session.add(
        Grant(
            reference="X-1",
            title="t",
            host_organisation_id=999_999,
            status="active",
            award_date=__import__("datetime").date(2020, 1, 1),
            amount_awarded=1,
            currency="EUR",
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_forwarded_addresses_believed_only_behind_a_trusted_proxy(
    tmp_path, hops: int, seen: str
) -> None:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
            "SECRET_KEY": "x",
            "TRUSTED_PROXIES": hops,
        }
    )

    @app.get("/_address")
    def _address() -> str:
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get(
        "/_address", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert response.get_data(as_text=True) == f"{seen} {'https' if hops else 'http'}"
