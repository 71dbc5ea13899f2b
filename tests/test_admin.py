"""User administration: create, edit, reset passwords, unlock; admins only; all audited."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from app.admin import queries as admin_queries
from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.models import AuditAction, AuditEvent, Role, User, utcnow

from .conftest import TEST_PASSWORD

NEW_PASSWORD = "violet-lantern-orbit-92"


def _new_user_form(**overrides: str) -> dict[str, str]:
    data = {
        "email": "Carla.Bianchi@Example.org",
        "name": "Carla Bianchi",
        "role": "staff",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def _edit_form(session: so.Session, user: User, **overrides: str) -> dict[str, str]:
    data = {
        "version": str(admin_queries.edit_mark(session, user.id)),
        "name": user.name or "",
        "role": user.role.value,
        "status": "active" if user.is_active else "inactive",
    }
    data.update(overrides)
    return data


def _user(session: so.Session, email: str) -> User | None:
    session.expire_all()
    return session.scalar(sa.select(User).where(User.email == email))


def _only_admin(session: so.Session, me: User) -> None:
    """Make the given admin the only active one (the suite's database may hold others)."""
    session.execute(
        sa.update(User).where(User.role == Role.ADMIN, User.id != me.id).values(is_active=False)
    )
    session.commit()


def test_admin_creates_a_user_who_can_then_log_in(client, logged_in, session, app) -> None:
    logged_in(Role.ADMIN)
    response = client.post("/admin/users/new", data=_new_user_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    user = _user(session, "carla.bianchi@example.org")
    assert user is not None and user.role == Role.STAFF and user.name == "Carla Bianchi"
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "carla.bianchi@example.org" in listing and "Carla Bianchi" in listing
    other = app.test_client()
    login = other.post(
        "/login", data={"email": "carla.bianchi@example.org", "password": NEW_PASSWORD}
    )
    assert login.status_code == 302 and login.headers["Location"] == "/"
    assert other.get("/grants").status_code == 200
    created = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "users",
            AuditEvent.entity_id == user.id,
            AuditEvent.action == AuditAction.CREATE,
        )
    )
    assert created.changes["role"] == [None, "staff"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"confirm": "something-else-entirely"}, "The two passwords differ."),
        ({"password": "short", "confirm": "short"}, f"at least {MIN_PASSWORD_LENGTH} characters"),
        ({"email": "not-an-address"}, "Enter an email address"),
        ({"email": "taken@example.org"}, "already exists"),
    ],
)
def test_bad_new_user_is_refused_with_field_errors(
    client, logged_in, make_user, session, overrides, message
) -> None:
    logged_in(Role.ADMIN)
    make_user(Role.TRUSTEE, email="taken@example.org")
    before = session.scalar(sa.select(sa.func.count(User.id)))
    response = client.post("/admin/users/new", data=_new_user_form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(User.id))) == before


def test_role_change_is_audited_with_before_and_after(
    client, logged_in, make_user, session
) -> None:
    admin = logged_in(Role.ADMIN)
    trustee = make_user(Role.TRUSTEE)
    page = client.get(f"/admin/users/{trustee.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page)
    assert version, page
    response = client.post(
        f"/admin/users/{trustee.id}/edit",
        data={
            "version": version.group(1),
            "name": "Paola Neri",
            "role": "staff",
            "status": "active",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = _user(session, trustee.email)
    assert user.role == Role.STAFF and user.name == "Paola Neri"
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "users",
            AuditEvent.entity_id == trustee.id,
            AuditEvent.action == AuditAction.UPDATE,
        )
    )
    assert event.changes == {"name": [None, "Paola Neri"], "role": ["trustee", "staff"]}
    assert event.user_id == admin.id and event.actor == admin.email


def test_deactivated_user_cannot_log_in(client, logged_in, make_user, session, app) -> None:
    logged_in(Role.ADMIN)
    staff = make_user(Role.STAFF)
    response = client.post(
        f"/admin/users/{staff.id}/edit", data=_edit_form(session, staff, status="inactive")
    )
    assert response.status_code == 302
    assert _user(session, staff.email).is_active is False
    other = app.test_client()
    login = other.post("/login", data={"email": staff.email, "password": TEST_PASSWORD})
    assert login.status_code == 200  # the form again, with an error


def test_last_admin_cannot_demote_or_deactivate_themselves(client, logged_in, session) -> None:
    me = logged_in(Role.ADMIN)
    _only_admin(session, me)
    me = _user(session, me.email)
    for overrides in ({"role": "staff"}, {"status": "inactive"}):
        response = client.post(
            f"/admin/users/{me.id}/edit", data=_edit_form(session, me, **overrides)
        )
        assert response.status_code == 200
        assert "is the last active admin" in response.get_data(as_text=True)
        me = _user(session, me.email)
        assert me.role == Role.ADMIN and me.is_active
    assert client.get("/admin/users").status_code == 200


def test_admin_may_step_down_once_another_admin_exists(
    client, logged_in, make_user, session
) -> None:
    me = logged_in(Role.ADMIN)
    _only_admin(session, me)
    make_user(Role.ADMIN)
    me = _user(session, me.email)
    response = client.post(f"/admin/users/{me.id}/edit", data=_edit_form(session, me, role="staff"))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _user(session, me.email).role == Role.STAFF
    assert client.get("/admin/users").status_code == 403


def test_stale_edit_is_refused_with_what_changed(client, logged_in, make_user, session, app):
    logged_in(Role.ADMIN)
    trustee = make_user(Role.TRUSTEE)
    form = _edit_form(session, trustee, name="My name for them")
    colleague = make_user(Role.ADMIN)
    other = app.test_client()
    other.post("/login", data={"email": colleague.email, "password": TEST_PASSWORD})
    first = other.post(f"/admin/users/{trustee.id}/edit", data={**form, "name": "Colleague's name"})
    assert first.status_code == 302
    second = client.post(f"/admin/users/{trustee.id}/edit", data=form)
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert colleague.email in page and "Colleague&#39;s name" in page
    assert _user(session, trustee.email).name == "Colleague's name"
    # Having seen the change, saving again (with the version the page now carries) works.
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    third = client.post(f"/admin/users/{trustee.id}/edit", data={**form, "version": version})
    assert third.status_code == 302
    assert _user(session, trustee.email).name == "My name for them"


def test_reset_password(client, logged_in, make_user, session, app) -> None:
    logged_in(Role.ADMIN)
    staff = make_user(Role.STAFF)
    short = client.post(f"/admin/users/{staff.id}/password", data={"password": "x", "confirm": "x"})
    assert short.status_code == 200 and "at least" in short.get_data(as_text=True)
    response = client.post(
        f"/admin/users/{staff.id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    other = app.test_client()
    old = other.post("/login", data={"email": staff.email, "password": TEST_PASSWORD})
    assert old.status_code == 200
    new = other.post("/login", data={"email": staff.email, "password": NEW_PASSWORD})
    assert new.status_code == 302
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_id == staff.id,
            AuditEvent.entity_type == "users",
            AuditEvent.summary.like("Password of%"),
        )
    )
    assert event.action == AuditAction.UPDATE and not event.changes


def test_unlock_a_locked_account(client, logged_in, make_user, session, app) -> None:
    logged_in(Role.ADMIN)
    staff = make_user(Role.STAFF)
    until = utcnow() + timedelta(minutes=10)
    session.execute(
        sa.update(User).where(User.id == staff.id).values(locked_until=until, failed_login_count=0)
    )
    session.commit()
    other = app.test_client()
    assert (
        other.post("/login", data={"email": staff.email, "password": TEST_PASSWORD}).status_code
        == 200
    )
    assert "Unlock now" in client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True)
    assert staff.email in client.get("/admin/users?status=locked").get_data(as_text=True)
    assert client.post(f"/admin/users/{staff.id}/unlock").status_code == 302
    assert _user(session, staff.email).locked_until is None
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_id == staff.id, AuditEvent.summary.like("%unlocked")
        )
    )
    assert event.changes["locked_until"][1] is None
    assert (
        other.post("/login", data={"email": staff.email, "password": TEST_PASSWORD}).status_code
        == 302
    )


def _admin_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
            urls += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


@pytest.mark.parametrize("role", [Role.STAFF, Role.TRUSTEE])
def test_staff_and_trustees_get_403_on_every_admin_route(client, logged_in, app, role) -> None:
    logged_in(role)
    urls = _admin_urls(app)
    assert ("GET", "/admin/users") in urls and ("POST", "/admin/users/1/edit") in urls
    for method, url in urls:
        assert client.open(url, method=method).status_code == 403, (method, url)


def test_passwords_never_reach_the_audit_trail(client, logged_in, session, app) -> None:
    logged_in(Role.ADMIN)
    client.post("/admin/users/new", data=_new_user_form(email="secretive@example.org"))
    user = _user(session, "secretive@example.org")
    second = "second-password-carrot-17"
    client.post(f"/admin/users/{user.id}/password", data={"password": second, "confirm": second})
    client.post(f"/admin/users/{user.id}/edit", data=_edit_form(session, user, role="trustee"))
    other = app.test_client()
    wrong = "wrong-password-guess-443"
    other.post("/login", data={"email": user.email, "password": wrong})
    other.post("/login", data={"email": "nobody@example.org", "password": wrong})
    assert other.post("/login", data={"email": user.email, "password": second}).status_code == 302
    password_hash = _user(session, user.email).password_hash
    events = session.scalars(sa.select(AuditEvent)).all()
    assert len(events) >= 6
    for event in events:
        text = json.dumps([event.changes, event.summary, event.actor])
        for secret in (NEW_PASSWORD, second, wrong, password_hash):
            assert secret not in text, (event.action, text)
        assert "password_hash" not in text


def test_user_list_query_count_does_not_grow(client, logged_in, make_user, count_queries):
    logged_in(Role.ADMIN)
    for _ in range(2):
        make_user(Role.STAFF)
    with count_queries() as few:
        assert client.get("/admin/users?per_page=3").status_code == 200
    for _ in range(10):
        make_user(Role.TRUSTEE)
    with count_queries() as many:
        client.get("/admin/users?per_page=12")
    assert many.count == few.count


def test_user_history_shows_logins_and_edits(client, logged_in, make_user, session, app):
    logged_in(Role.ADMIN)
    staff = make_user(Role.STAFF)
    other = app.test_client()
    other.post("/login", data={"email": staff.email, "password": TEST_PASSWORD})
    client.post(f"/admin/users/{staff.id}/edit", data=_edit_form(session, staff, name="Gio"))
    page = client.get(f"/admin/users/{staff.id}/history").get_data(as_text=True)
    assert "Login" in page and "Gio" in page
