"""Programme and research area pages: list, detail, create, edit, delete, history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from app.auth.services import create_user
from app.models import (
    AuditAction,
    AuditEvent,
    Confidentiality,
    Programme,
    ProgrammeKind,
    ResearchArea,
    Role,
    utcnow,
)

from . import factories as f
from .conftest import TEST_PASSWORD


def _form(**overrides: str) -> dict[str, str]:
    data = {"name": "Annual call 2004", "kind": "annual_call", "year": "2004", "description": ""}
    data.update(overrides)
    return data


def _programme(session: so.Session, **fields: object) -> Programme:
    values: dict[str, object] = {"name": "Test programme", "kind": ProgrammeKind.ANNUAL_CALL}
    values.update(fields)
    programme = Programme(**values)
    session.add(programme)
    session.flush()
    return programme


def _area(session: so.Session, name: str, **fields: object) -> ResearchArea:
    area = ResearchArea(name=name, **fields)
    session.add(area)
    session.flush()
    return area


def _colleague(app: Flask, session: so.Session) -> FlaskClient:
    """A second staff member, logged in on a client of their own."""
    create_user(session, "colleague@example.org", TEST_PASSWORD, Role.STAFF)
    session.commit()
    other = app.test_client()
    other.post("/login", data={"email": "colleague@example.org", "password": TEST_PASSWORD})
    return other


def _events(session: so.Session, table: str, entity_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == table, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id)
        )
    )


# --------------------------------------------------------------------------- programmes


def test_staff_creates_a_programme(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    response = client.post("/programmes/new", data=_form(description="  Open call.  "))
    assert response.status_code == 302, response.get_data(as_text=True)
    programme = session.scalar(sa.select(Programme).where(Programme.name == "Annual call 2004"))
    assert programme.year == 2004 and programme.description == "Open call."
    assert response.headers["Location"] == f"/programmes/{programme.id}"
    [event] = _events(session, "programmes", programme.id)
    assert event.action == AuditAction.CREATE
    assert event.changes["name"] == [None, "Annual call 2004"]
    assert "Annual call 2004" in client.get("/programmes").get_data(as_text=True)


def test_bad_programme_input_is_refused(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _programme(session, name="Special projects", kind=ProgrammeKind.SPECIAL_PROJECT)
    session.commit()
    before = session.scalar(sa.select(sa.func.count(Programme.id)))
    page = client.post("/programmes/new", data=_form(name="special PROJECTS", year="1899"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "A programme called special PROJECTS already exists." in text
    assert "Give a year between 1900 and 2100" in text
    text = client.post("/programmes/new", data=_form(year="MMIV")).get_data(as_text=True)
    assert "Not a valid integer value" in text
    text = client.post("/programmes/new", data=_form(name="")).get_data(as_text=True)
    assert "This field is required" in text
    assert session.scalar(sa.select(sa.func.count(Programme.id))) == before


def test_programme_year_is_optional(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    response = client.post(
        "/programmes/new", data=_form(name="Fellowships", kind="fellowship", year="")
    )
    assert response.status_code == 302
    programme = session.scalar(sa.select(Programme).where(Programme.name == "Fellowships"))
    assert programme.year is None and programme.kind == ProgrammeKind.FELLOWSHIP


def test_programme_list_counts_totals_sort_and_filter(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    big = _programme(session, name="Zz big call", year=2010)
    small = _programme(session, name="Zz pilot", kind=ProgrammeKind.PILOT, year=2012)
    for amount in ("100000.00", "250000.00"):
        f.grant(session, programme=big, amount_eur=Decimal(amount))
    f.grant(session, programme=big, confidentiality=Confidentiality.INTERNAL)
    f.grant(session, programme=big, deleted_at=utcnow())
    f.grant(session, programme=small, amount_eur=Decimal("30000.00"))
    _programme(session, name="Zz withdrawn", deleted_at=utcnow())
    session.commit()
    page = client.get("/programmes?q=zz&sort=grants&dir=desc").get_data(as_text=True)
    assert page.index("Zz big call") < page.index("Zz pilot")
    assert "350,000 EUR" in page and "30,000 EUR" in page  # internal and deleted left out
    assert f'href="/grants?programme={big.id}">2</a>' in page
    assert "Zz withdrawn" not in page
    pilots = client.get("/programmes?q=zz&kind=pilot").get_data(as_text=True)
    assert "Zz pilot" in pilots and "Zz big call" not in pilots
    by_year = client.get("/programmes?q=zz&sort=year&dir=desc").get_data(as_text=True)
    assert by_year.index("Zz pilot") < by_year.index("Zz big call")
    paged = client.get("/programmes?q=zz&sort=name&per_page=1&page=2").get_data(as_text=True)
    assert "Zz pilot" in paged and "Zz big call" not in paged
    assert "Zz withdrawn" in client.get("/programmes?q=zz&deleted=1").get_data(as_text=True)


def test_programme_detail_figures_and_paginated_grants(client, logged_in, session, app) -> None:
    logged_in(Role.STAFF)
    programme = _programme(session, name="Annual call", description="Our yearly call.")
    for i in range(5):
        f.grant(
            session,
            programme=programme,
            reference=f"AC-{i}",
            award_date=date(2000 + i, 6, 1),
            amount_eur=Decimal("1000.00"),
        )
    f.grant(session, programme=programme, reference="AC-LIRE", amount_eur=None)
    session.commit()
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "Our yearly call." in page
    assert "5,000 EUR" in page and "1 grant without a euro amount" in page
    assert "2000–2010" in page  # first to last award year
    app.config["PAGE_SIZE"], size = 2, app.config["PAGE_SIZE"]
    try:
        first = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
        second = client.get(f"/programmes/{programme.id}?page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = size
    assert "AC-LIRE" in first and "AC-4" in first and "AC-3" not in first
    assert "AC-3" in second and "AC-2" in second and "Page 2 of 3" in second
    assert f'href="/programmes/{programme.id}?page=3#grants"' in second


def test_trustee_does_not_see_internal_grants_of_a_programme(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    programme = _programme(session)
    f.grant(session, programme=programme, reference="VISIBLE-1")
    f.grant(
        session,
        programme=programme,
        reference="SECRET-1",
        confidentiality=Confidentiality.INTERNAL,
    )
    session.commit()
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "VISIBLE-1" in page and "SECRET-1" not in page


def test_stale_programme_edit_is_refused_with_the_change(client, logged_in, app, session):
    logged_in(Role.STAFF)
    programme = _programme(session, name="Original call")
    session.commit()
    form = _form(name="My call", version=str(programme.version))
    other = _colleague(app, session)
    first = other.post(f"/programmes/{programme.id}/edit", data={**form, "name": "Their call"})
    assert first.status_code == 302, first.get_data(as_text=True)
    second = client.post(f"/programmes/{programme.id}/edit", data=form)
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "colleague@example.org" in page and "Their call" in page
    session.expire_all()
    assert session.get(Programme, programme.id).name == "Their call"


def test_programme_edit_delete_restore_and_history(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    programme = _programme(session, name="Pilot grants", kind=ProgrammeKind.PILOT)
    session.commit()
    edit = client.get(f"/programmes/{programme.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{programme.version}"' in edit
    response = client.post(
        f"/programmes/{programme.id}/edit",
        data=_form(name="Pilot grants", kind="pilot", year="2015", version=str(programme.version)),
    )
    assert response.status_code == 302
    assert client.post(f"/programmes/{programme.id}/delete").status_code == 302
    client.get(f"/programmes/{programme.id}")
    assert "Pilot grants" not in client.get("/programmes").get_data(as_text=True)
    assert client.post(f"/programmes/{programme.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Programme, programme.id).deleted_at is None
    history = client.get(f"/programmes/{programme.id}/history").get_data(as_text=True)
    assert "Update" in history and "Delete" in history and "Restore" in history
    assert [e.action for e in _events(session, "programmes", programme.id)] == [
        AuditAction.UPDATE,
        AuditAction.DELETE,
        AuditAction.RESTORE,
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/programmes/new"),
        ("post", "/programmes/new"),
        ("get", "/programmes/{id}/edit"),
        ("post", "/programmes/{id}/edit"),
        ("post", "/programmes/{id}/delete"),
        ("post", "/programmes/{id}/restore"),
        ("get", "/areas/new"),
        ("post", "/areas/new"),
        ("get", "/areas/{area}/edit"),
        ("post", "/areas/{area}/edit"),
        ("post", "/areas/{area}/delete"),
    ],
)
def test_trustee_cannot_write(client, logged_in, session, method, path) -> None:
    logged_in(Role.TRUSTEE)
    programme = _programme(session)
    area = _area(session, "Trustee-proof area")
    session.commit()
    url = path.format(id=programme.id, area=area.id)
    assert getattr(client, method)(url, data=_form()).status_code == 403
    assert client.get(f"/programmes/{programme.id}").status_code == 200
    assert client.get("/areas").status_code == 200
    session.expire_all()
    assert session.get(ResearchArea, area.id) is not None


@pytest.mark.parametrize("sort", ["name", "kind", "year", "grants", "total_eur"])
def test_programme_list_query_count_does_not_grow(
    client, logged_in, session, count_queries, sort
):
    logged_in(Role.STAFF)
    for i in range(3):
        f.grant(session, programme=_programme(session, name=f"Few {i}"))
    session.commit()
    with count_queries() as few:
        client.get(f"/programmes?per_page=3&sort={sort}")
    for i in range(30):
        f.grant(session, programme=_programme(session, name=f"Many {i}"))
    session.commit()
    with count_queries() as many:
        client.get(f"/programmes?per_page=30&sort={sort}")
    assert many.count == few.count


def test_programme_detail_query_count_does_not_grow(client, logged_in, session, count_queries):
    logged_in(Role.STAFF)
    programme = _programme(session)
    f.grant(session, programme=programme)
    session.commit()
    with count_queries() as few:
        client.get(f"/programmes/{programme.id}")
    for _ in range(30):
        f.grant(session, programme=programme)
    session.commit()
    with count_queries() as many:
        client.get(f"/programmes/{programme.id}")
    assert many.count == few.count


# --------------------------------------------------------------------------- research areas


def test_areas_listed_with_grant_counts(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    used = _area(session, "Neural stem cells")
    _area(session, "Remyelination")
    for _ in range(2):
        f.grant(session, areas=[used])
    f.grant(session, confidentiality=Confidentiality.INTERNAL, areas=[used])
    session.commit()
    page = client.get("/areas").get_data(as_text=True)
    assert f'href="/grants?area={used.id}">2</a>' in page  # internal grant not counted
    assert page.index("Neural stem cells") < page.index("Remyelination")
    assert "New research area" not in page


def test_staff_creates_and_edits_an_area(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    response = client.post("/areas/new", data={"name": " aHSCT ", "description": ""})
    assert response.status_code == 302
    area = session.scalar(sa.select(ResearchArea).where(ResearchArea.name == "aHSCT"))
    response = client.post(
        f"/areas/{area.id}/edit",
        data={"name": "aHSCT", "description": "Autologous haematopoietic stem cells"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ResearchArea, area.id).description.startswith("Autologous")
    actions = [e.action for e in _events(session, "research_areas", area.id)]
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]
    history = client.get(f"/areas/{area.id}/history").get_data(as_text=True)
    assert "Autologous haematopoietic stem cells" in history


def test_duplicate_area_name_is_refused(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _area(session, "Mesenchymal stem cells")
    other = _area(session, "MSC")
    session.commit()
    page = client.post("/areas/new", data={"name": "mesenchymal stem cells", "description": ""})
    assert "already exists" in page.get_data(as_text=True)
    page = client.post(
        f"/areas/{other.id}/edit", data={"name": "Mesenchymal Stem Cells", "description": ""}
    )
    assert "already exists" in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(ResearchArea, other.id).name == "MSC"
    page = client.post("/areas/new", data={"name": "", "description": ""})
    assert "This field is required" in page.get_data(as_text=True)


def test_area_in_use_cannot_be_deleted(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    area = _area(session, "Neural stem cells")
    f.grant(session, deleted_at=utcnow(), areas=[area])
    session.commit()
    response = client.post(f"/areas/{area.id}/delete", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Research area Neural stem cells tags 1 grant (deleted grants included)" in page
    session.expire_all()
    assert session.get(ResearchArea, area.id) is not None


def test_unused_area_is_deleted_with_a_snapshot_and_history_survives(
    client, logged_in, session
) -> None:
    logged_in(Role.STAFF)
    area = _area(session, "Gene therapy", description="Viral vectors")
    session.commit()
    area_id = area.id
    response = client.post(f"/areas/{area_id}/delete", follow_redirects=True)
    assert "Research area Gene therapy deleted." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(ResearchArea, area_id) is None
    [event] = _events(session, "research_areas", area_id)
    assert event.action == AuditAction.DELETE
    assert event.changes["name"] == ["Gene therapy", None]
    assert event.changes["description"] == ["Viral vectors", None]
    history = client.get(f"/areas/{area_id}/history").get_data(as_text=True)
    assert "Research area Gene therapy (deleted)" in history and "Viral vectors" in history
    assert client.get("/areas/999999/history").status_code == 404


def test_area_list_query_count_does_not_grow(client, logged_in, session, count_queries) -> None:
    logged_in(Role.STAFF)
    for i in range(2):
        f.grant(session, areas=[_area(session, f"Few area {i}")])
    session.commit()
    with count_queries() as few:
        client.get("/areas")
    for i in range(20):
        f.grant(session, areas=[_area(session, f"Many area {i}")])
    session.commit()
    with count_queries() as many:
        client.get("/areas")
    assert many.count == few.count
