"""The audit log page and restoring deleted records from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.restore import RestoreRefused, restore_deleted
from app.audit.services import record
from app.grants import services as grant_services
from app.models import AuditAction, AuditEvent, CoFunding, Grant, Payment, Role

from . import factories as f
from .conftest import TEST_PASSWORD


def _last_event(session: so.Session, action: AuditAction, entity_type: str) -> AuditEvent:
    session.expire_all()
    return session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.entity_type == entity_type)
        .order_by(AuditEvent.id.desc())
    ).first()


def _rows(page: str) -> list[str]:
    """The table rows of the audit log, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[1:]


def test_trustees_cannot_see_the_audit_log(client, logged_in) -> None:
    logged_in(Role.TRUSTEE)
    assert client.get("/audit").status_code == 403
    assert client.post("/audit/1/restore").status_code == 403


def test_log_shows_logins_failures_and_logouts_newest_first(
    client, logged_in, make_user, app
) -> None:
    logged_in(Role.STAFF)
    someone = make_user(Role.TRUSTEE)
    other = app.test_client()
    other.post("/login", data={"email": someone.email, "password": "not the password"})
    other.post("/login", data={"email": someone.email, "password": TEST_PASSWORD})
    other.post("/logout")
    rows = _rows(client.get(f"/audit?actor={someone.email}").get_data(as_text=True))
    actions = [next(a for a in ("Logout", "Login failed", "Login") if a in row) for row in rows]
    assert actions[:3] == ["Logout", "Login", "Login failed"]


def test_filters_by_action_type_actor_user_and_dates(client, logged_in, session) -> None:
    me = logged_in(Role.STAFF)
    grant = f.grant(session, reference="AUD-1")
    old = record(session, AuditAction.IMPORT, actor="importer@example.org", summary="Old import")
    old.occurred_at = datetime(2001, 5, 4, 12, 0, tzinfo=UTC)
    record(session, AuditAction.DOWNLOAD, actor="reader@example.org", summary="Annual PDF")
    record(
        session,
        AuditAction.UPDATE,
        entity=grant,
        actor="editor@example.org",
        summary="Grant AUD-1 edited",
        changes={"title": ["Before title", "After title"]},
    )
    session.commit()

    def page(query: str) -> str:
        return client.get(f"/audit?{query}").get_data(as_text=True)

    downloads = page("action=download")
    assert "Annual PDF" in downloads and "Old import" not in downloads
    grants = page("entity=grants")
    assert "Grant AUD-1 edited" in grants and "Annual PDF" not in grants
    assert "Before title" in grants and "After title" in grants  # field changes shown
    assert f'href="/grants/{grant.id}"' in grants  # linked to the record's page
    by_actor = page("actor=IMPORTER")
    assert "Old import" in by_actor and "Annual PDF" not in by_actor
    dated = page("from=2001-05-04&to=2001-05-04")
    assert "Old import" in dated and "Annual PDF" not in dated
    assert "Old import" not in page("from=2001-05-05")
    assert "Old import" in page("to=2001-12-31&from=garbage")  # malformed dates ignored
    mine = page(f"user={me.id}")
    assert "Logged in" in mine and "Annual PDF" not in mine
    assert "No events match" in page("action=issue&entity=grants")


def test_log_is_paginated(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    for i in range(5):
        record(session, AuditAction.DOWNLOAD, actor="pager@example.org", summary=f"Dl {i}")
    session.commit()
    first = client.get("/audit?actor=pager&per_page=2").get_data(as_text=True)
    assert "Dl 4" in first and "Dl 3" in first and "Dl 2" not in first and "of 5" in first
    third = client.get("/audit?actor=pager&per_page=2&page=3").get_data(as_text=True)
    assert "Dl 0" in third and "Dl 1" not in third


def test_restore_a_removed_payment_from_its_audit_event(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    grant = f.grant(session)
    payment = grant_services.add_payment(
        session,
        grant,
        date(2011, 3, 31),
        Decimal("12345.67"),
        paid_date=date(2011, 4, 2),
        note="Second instalment",
    )
    payment_id = payment.id
    grant_services.delete_payment(session, payment)
    session.commit()
    deleted = _last_event(session, AuditAction.DELETE, "payments")
    page = client.get("/audit?entity=payments").get_data(as_text=True)
    assert f"/audit/{deleted.id}/restore" in page
    assert f'href="/grants/{grant.id}"' in page  # a payment links to its grant

    response = client.post(f"/audit/{deleted.id}/restore?entity=payments")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/audit?") and "entity=payments" in location  # filters kept
    session.expire_all()
    restored = session.get(Payment, payment_id)
    assert restored is not None and restored.grant_id == grant.id
    assert restored.amount == Decimal("12345.67") and restored.due_date == date(2011, 3, 31)
    assert restored.paid_date == date(2011, 4, 2) and restored.note == "Second instalment"
    assert restored.amount_eur == Decimal("12345.67")
    event = _last_event(session, AuditAction.RESTORE, "payments")
    assert event.entity_id == payment_id and event.changes["amount"] == [None, "12345.67"]
    assert event.changes["restored_from_event"] == [None, deleted.id]

    # Done once: the button goes, and a second attempt is refused.
    page = client.get("/audit?entity=payments").get_data(as_text=True)
    assert f"/audit/{deleted.id}/restore" not in page
    client.post(f"/audit/{deleted.id}/restore")
    assert "already restored" in client.get("/audit").get_data(as_text=True)
    assert (
        session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.grant_id == grant.id))
        == 1
    )


def test_restore_a_soft_deleted_grant_from_its_audit_event(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    grant = f.grant(session, reference="SOFT-1")
    grant_services.delete_grant(session, grant)
    session.commit()
    deleted = _last_event(session, AuditAction.DELETE, "grants")
    assert f"/audit/{deleted.id}/restore" in client.get("/audit").get_data(as_text=True)
    assert client.post(f"/audit/{deleted.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Grant, grant.id).deleted_at is None
    restored = _last_event(session, AuditAction.RESTORE, "grants")
    assert restored.entity_id == grant.id and restored.changes["deleted_at"][1] is None
    page = client.get("/audit").get_data(as_text=True)
    assert f"/audit/{deleted.id}/restore" not in page
    client.post(f"/audit/{deleted.id}/restore")
    assert "is not deleted" in client.get("/audit").get_data(as_text=True)


def test_restore_refuses_when_the_parent_is_gone(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    grant = f.grant(session)
    payment = grant_services.add_payment(session, grant, date(2012, 1, 1), Decimal("10.00"))
    grant_services.delete_payment(session, payment)
    session.delete(grant)
    session.commit()
    deleted = _last_event(session, AuditAction.DELETE, "payments")
    client.post(f"/audit/{deleted.id}/restore")
    page = client.get("/audit").get_data(as_text=True)
    assert f"the grant it belongs to (#{grant.id}) no longer exists" in page
    assert session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_restore_refuses_a_unique_clash(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    grant = f.grant(session)
    funder = f.organisation(session, name="Co-funder Trust")
    co = grant_services.add_co_funding(session, grant, funder.id, Decimal("500.00"), "EUR")
    grant_services.delete_co_funding(session, co)
    session.commit()
    session.expire_all()  # as between two requests: the grant's co-fundings are reloaded
    grant_services.add_co_funding(session, grant, funder.id, Decimal("700.00"), "EUR")
    session.commit()
    deleted = _last_event(session, AuditAction.DELETE, "co_fundings")
    client.post(f"/audit/{deleted.id}/restore")
    assert "already has grant_id" in client.get("/audit").get_data(as_text=True)
    amounts = session.scalars(sa.select(CoFunding.amount).where(CoFunding.grant_id == grant.id))
    assert list(amounts) == [Decimal("700.00")]


def test_only_deletions_can_be_restored(session) -> None:
    grant = f.grant(session)
    event = record(session, AuditAction.UPDATE, entity=grant, summary="edit")
    session.flush()
    try:
        restore_deleted(session, event)
    except RestoreRefused as refusal:
        assert "Only deletions" in str(refusal)
    else:
        raise AssertionError("an update was 'restored'")


def test_log_query_count_does_not_grow(client, logged_in, session, count_queries) -> None:
    logged_in(Role.STAFF)

    def add_events(n: int) -> None:
        for _ in range(n):
            grant = f.grant(session)
            payment = grant_services.add_payment(session, grant, date(2011, 1, 1), Decimal(1))
            grant_services.delete_payment(session, payment)
            grant_services.delete_grant(session, grant)
        session.commit()

    add_events(2)
    with count_queries() as few:
        assert client.get("/audit?per_page=10").status_code == 200
    add_events(12)
    with count_queries() as many:
        assert client.get("/audit?per_page=60").status_code == 200
    assert many.count == few.count
