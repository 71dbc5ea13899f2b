"""Accounts, log-in, lockout, and the home page behind it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from app.auth.passwords import verify_password
from app.auth.services import MAX_FAILED_LOGINS, UserError, create_user
from app.models import AuditAction, AuditEvent, Role, User

from .conftest import TEST_PASSWORD, csrf_token_from


def test_passwords_are_argon2id(session: so.Session) -> None:
    user = create_user(session, "A@Example.org ", TEST_PASSWORD, Role.STAFF)
    assert user.email == "a@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, TEST_PASSWORD)
    assert not verify_password(user.password_hash, TEST_PASSWORD + "x")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("not-an-email", TEST_PASSWORD, "not an email"), ("b@example.org", "short", "12 characters")],
)
def test_create_user_refuses_bad_input(session: so.Session, email: str, password: str,
                                       message: str) -> None:
    with pytest.raises(UserError, match=message):
        create_user(session, email, password, Role.STAFF)


def test_home_requires_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_then_home_shows_portfolio(client, auth, make_user) -> None:
    user = make_user(Role.TRUSTEE)
    response = auth.login(user.email)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Portfolio at a glance" in page
    assert user.email in page


def test_wrong_password_is_refused_and_audited(client, auth, make_user, session) -> None:
    user = make_user(Role.STAFF)
    page = auth.login(user.email, "wrong password!").get_data(as_text=True)
    assert "Wrong email or password" in page
    events = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.LOGIN_FAILED, AuditEvent.user_id == user.id)).all()
    assert len(events) == 1


def test_account_locks_after_repeated_failures(client, auth, make_user, session) -> None:
    user = make_user(Role.STAFF)
    for _ in range(MAX_FAILED_LOGINS):
        auth.login(user.email, "wrong password!")
    # Even the right password is refused while locked.
    assert auth.login(user.email).status_code == 200
    session.expire_all()
    assert session.get(User, user.id).locked_until is not None


def test_next_parameter_cannot_leave_the_site(client, make_user) -> None:
    user = make_user(Role.STAFF)
    response = client.post("/login?next=//evil.example/x",
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"


def test_login_form_needs_csrf_token(app: Flask, client, make_user) -> None:
    user = make_user(Role.STAFF)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert refused.status_code == 400
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        accepted = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD,
                                               "csrf_token": token})
        assert accepted.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_session_cookie_flags(client, make_user) -> None:
    user = make_user(Role.STAFF)
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout(client, auth, make_user) -> None:
    auth.login(make_user(Role.ADMIN).email)
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_users_create_cli(runner, session) -> None:
    result = runner.invoke(args=["users", "create", "cli@example.org", "--role", "trustee",
                                 "--password-stdin"], input=TEST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "cli@example.org"))
    assert user.role == Role.TRUSTEE
    again = runner.invoke(args=["users", "create", "cli@example.org", "--role", "staff",
                                "--password-stdin"], input=TEST_PASSWORD + "\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_ensure_admin_creates_once(app: Flask, runner, session, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    if session.scalar(sa.select(User.id).where(User.role == Role.ADMIN)) is None:
        first = runner.invoke(args=["users", "ensure-admin"])
        assert first.exit_code == 0 and "Created admin" in first.output
        password = (tmp_path / "initial-admin-password").read_text().strip()
        assert password in first.output
    second = runner.invoke(args=["users", "ensure-admin"])
    assert "Created admin" not in second.output
    assert session.scalar(sa.select(sa.func.count()).where(User.role == Role.ADMIN)) == 1


def test_security_headers(client) -> None:
    headers = client.get("/login").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_unknown_page_is_friendly(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)
