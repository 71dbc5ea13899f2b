"""Organisation and people pages: list, detail, create, edit with locking, delete, history."""

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
    Grant,
    GrantInvestigator,
    InvestigatorRole,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    utcnow,
)
from app.organisations.services import COUNTRIES

from . import factories as f
from .conftest import TEST_PASSWORD

VALID_ORCID = "0000-0002-1825-0097"
BAD_CHECK_DIGIT_ORCID = "0000-0002-1825-0098"
SAN_RAFFAELE_ROR = "05gq02987"  # a real, valid ROR ID


def _org_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Università Vita-Salute San Raffaele",
        "kind": "university",
        "country": "IT",
        "city": "Milan",
        "ror_id": "",
        "crossref_funder_id": "",
        "org_id": "",
        "website": "",
    }
    data.update(overrides)
    return data


def _person_form(**overrides: str) -> dict[str, str]:
    data = {
        "family_name": "Carberry",
        "given_names": "Josiah",
        "orcid": "",
        "email": "",
        "organisation_id": "",
        "organisation_label": "",
    }
    data.update(overrides)
    return data


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


# --------------------------------------------------------------------------- organisations


def test_countries_are_exactly_iso_3166_1() -> None:
    assert len(COUNTRIES) == 249
    assert COUNTRIES["IT"] == "Italy"
    assert not {"EU", "UN", "XK", "ZZ"} & set(COUNTRIES)


def test_staff_creates_an_organisation_with_normalised_identifiers(
    client, logged_in, session
) -> None:
    logged_in(Role.STAFF)
    response = client.post(
        "/organisations/new",
        data=_org_form(
            country="it",
            ror_id=f"https://ror.org/{SAN_RAFFAELE_ROR.upper()}",
            crossref_funder_id="https://doi.org/10.13039/501100004462",
            org_id="it-cf-80012650158",
            website="https://www.unisr.it",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    org = session.scalar(sa.select(Organisation).where(Organisation.city == "Milan"))
    assert org.country == "IT"
    assert org.ror_id == SAN_RAFFAELE_ROR
    assert org.crossref_funder_id == "501100004462"
    assert org.org_id == "IT-CF-80012650158"
    assert response.headers["Location"] == f"/organisations/{org.id}"
    [event] = _events(session, "organisations", org.id)
    assert event.action == AuditAction.CREATE and event.changes["ror_id"] == [
        None,
        SAN_RAFFAELE_ROR,
    ]
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert f'href="https://ror.org/{SAN_RAFFAELE_ROR}"' in page
    assert f">https://ror.org/{SAN_RAFFAELE_ROR}</a>" in page
    assert '<a href="https://www.unisr.it" rel="noopener noreferrer">' in page
    assert "10.13039/501100004462" in page


def test_bad_organisation_input_rerenders_with_field_errors(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    before = session.scalar(sa.select(sa.func.count(Organisation.id)))
    response = client.post(
        "/organisations/new",
        data=_org_form(
            country="EU",
            ror_id="05gq02988",
            crossref_funder_id="funder-42",
            org_id="not an org id",
            website="javascript:alert(1)",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "not an ISO 3166-1 country code" in page
    assert "wrong checksum (expected 87)" in page
    assert "is not a Crossref Funder ID" in page
    assert "is not an org-id" in page
    assert "starting with http:// or https://" in page
    response = client.post("/organisations/new", data=_org_form(name="", country=""))
    assert response.get_data(as_text=True).count('class="field-error"') == 2
    assert session.scalar(sa.select(sa.func.count(Organisation.id))) == before


def test_identifier_clash_names_and_links_the_other_organisation(
    client, logged_in, session
) -> None:
    logged_in(Role.STAFF)
    holder = f.organisation(
        session, name="Ospedale San Raffaele", ror_id=SAN_RAFFAELE_ROR, crossref_funder_id="42"
    )
    other = f.organisation(session, name="Another place")
    session.commit()
    response = client.post(
        f"/organisations/{other.id}/edit",
        data=_org_form(
            name="Another place",
            ror_id=SAN_RAFFAELE_ROR,
            crossref_funder_id="10.13039/42",
            version=str(other.version),
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"ROR ID {SAN_RAFFAELE_ROR} is already used by Ospedale San Raffaele." in page
    assert "Crossref Funder ID 42 is already used by Ospedale San Raffaele." in page
    assert f'href="/organisations/{holder.id}"' in page
    session.expire_all()
    assert session.get(Organisation, other.id).ror_id is None
    # Editing the holder itself with its own identifiers is not a clash.
    response = client.post(
        f"/organisations/{holder.id}/edit",
        data=_org_form(
            name="Ospedale San Raffaele",
            ror_id=SAN_RAFFAELE_ROR,
            crossref_funder_id="42",
            version=str(holder.version),
        ),
    )
    assert response.status_code == 302


def test_clash_with_a_deleted_organisation_suggests_restoring(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    f.organisation(session, name="Gone Institute", org_id="GB-CHC-1234567", deleted_at=utcnow())
    session.commit()
    page = client.post("/organisations/new", data=_org_form(org_id="GB-CHC-1234567"))
    assert "already used by Gone Institute (deleted; restore it instead)" in page.get_data(
        as_text=True
    )


def test_legacy_website_is_only_linked_when_http(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    org = f.organisation(session, website="javascript:alert(1)")
    session.commit()
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert 'href="javascript' not in page
    assert "javascript:alert(1)" in page


def test_organisation_list_search_filters_sort_and_pages(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    busy = f.organisation(session, name="Zeta Listing Hospital", kind=OrganisationKind.HOSPITAL)
    for _ in range(3):
        f.grant(session, host=busy)
    f.organisation(session, name="Alpha Listing University", country="DE")
    f.organisation(session, name="Beta Listing Charity", kind=OrganisationKind.CHARITY)
    f.organisation(session, name="Gamma Listing Gone", deleted_at=utcnow())
    session.commit()
    page = client.get("/organisations?q=listing&sort=name&dir=asc").get_data(as_text=True)
    assert page.index("Alpha Listing") < page.index("Beta Listing") < page.index("Zeta Listing")
    assert "Gamma Listing" not in page
    by_grants = client.get("/organisations?q=listing&sort=grants&dir=desc").get_data(as_text=True)
    assert by_grants.index("Zeta Listing") < by_grants.index("Alpha Listing")
    assert f'href="/grants?institution={busy.id}">3</a>' in by_grants
    hospitals = client.get("/organisations?q=listing&kind=hospital").get_data(as_text=True)
    assert "Zeta Listing" in hospitals and "Beta Listing" not in hospitals
    german = client.get("/organisations?q=listing&country=de").get_data(as_text=True)
    assert "Alpha Listing" in german and "Zeta Listing" not in german
    paged = client.get("/organisations?q=listing&sort=name&per_page=2&page=2").get_data(
        as_text=True
    )
    assert "Zeta Listing" in paged and "Alpha Listing" not in paged and "of 3" in paged
    deleted = client.get("/organisations?q=listing&deleted=1").get_data(as_text=True)
    assert "Gamma Listing" in deleted and "Zeta Listing" not in deleted


def test_organisation_detail_shows_hosted_grants_and_people(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    org = f.organisation(session, name="Host Institute")
    for year in (2001, 2005, 2009):
        f.grant(
            session,
            host=org,
            reference=f"HOST-{year}",
            award_date=date(year, 1, 1),
            amount_eur=Decimal("1000.00"),
        )
    f.grant(
        session,
        host=org,
        reference="HOST-SECRET",
        confidentiality=Confidentiality.INTERNAL,
        amount_eur=Decimal("99999.00"),
    )
    f.grant(session, host=org, reference="HOST-GONE", deleted_at=utcnow())
    people = [
        f.person(session, family_name=f"Affiliated{i:02d}", organisation=org) for i in range(22)
    ]
    session.commit()
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "3,000 EUR" in page  # internal and deleted grants left out for a trustee
    assert "HOST-SECRET" not in page and "HOST-GONE" not in page
    assert page.index("HOST-2009") < page.index("HOST-2001")
    grant_id = session.scalar(sa.select(Grant.id).where(Grant.reference == "HOST-2009"))
    assert f'href="/grants/{grant_id}"' in page
    assert f'href="/grants?institution={org.id}"' in page
    assert "People (22)" in page and "Showing 20 of 22" in page
    assert f'href="/people/{people[0].id}"' in page and "Affiliated21" not in page
    assert f'href="/people?organisation={org.id}"' in page


def test_stale_organisation_edit_is_refused_with_the_change(client, logged_in, app, session):
    logged_in(Role.STAFF)
    org = f.organisation(session, name="Original name")
    session.commit()
    form = _org_form(name="My name", version=str(org.version))
    other = _colleague(app, session)
    first = other.post(f"/organisations/{org.id}/edit", data={**form, "name": "Colleague's name"})
    assert first.status_code == 302, first.get_data(as_text=True)
    second = client.post(f"/organisations/{org.id}/edit", data=form)
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "colleague@example.org" in page and "Colleague&#39;s name" in page
    session.expire_all()
    assert session.get(Organisation, org.id).name == "Colleague's name"


def test_organisation_delete_restore_and_history(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    org = f.organisation(session, name="Deletable Institute")
    session.commit()
    assert client.post(f"/organisations/{org.id}/delete").status_code == 302
    client.get(f"/organisations/{org.id}")  # uses up the flash message
    assert "Deletable Institute" not in client.get("/organisations?q=deletable").get_data(
        as_text=True
    )
    assert client.post(f"/organisations/{org.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Organisation, org.id).deleted_at is None
    history = client.get(f"/organisations/{org.id}/history").get_data(as_text=True)
    assert "Delete" in history and "Restore" in history
    actions = [e.action for e in _events(session, "organisations", org.id)]
    assert actions == [AuditAction.DELETE, AuditAction.RESTORE]


def test_trustee_reads_organisations_but_cannot_write(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    org = f.organisation(session)
    session.commit()
    assert client.get("/organisations").status_code == 200
    assert client.get(f"/organisations/{org.id}").status_code == 200
    assert client.get(f"/organisations/{org.id}/history").status_code == 200
    assert client.get("/organisations/new").status_code == 403
    assert client.post("/organisations/new", data=_org_form()).status_code == 403
    assert client.get(f"/organisations/{org.id}/edit").status_code == 403
    assert client.post(f"/organisations/{org.id}/delete").status_code == 403
    assert client.post(f"/organisations/{org.id}/restore").status_code == 403
    page = client.get(f"/organisations/{org.id}").get_data(as_text=True)
    assert "/edit" not in page and "/delete" not in page


@pytest.mark.parametrize("sort", ["name", "country", "kind", "grants"])
def test_organisation_list_query_count_does_not_grow(
    client, logged_in, session, count_queries, sort
):
    logged_in(Role.STAFF)
    for _ in range(3):
        f.grant(session)
    session.commit()
    with count_queries() as few:
        client.get(f"/organisations?per_page=3&sort={sort}")
    for _ in range(30):
        f.grant(session, host=f.organisation(session))
    session.commit()
    with count_queries() as many:
        client.get(f"/organisations?per_page=30&sort={sort}")
    assert many.count == few.count


def test_organisation_detail_query_count_does_not_grow(
    client, logged_in, session, count_queries
) -> None:
    logged_in(Role.STAFF)
    org = f.organisation(session)
    f.grant(session, host=org)
    f.person(session, organisation=org)
    session.commit()
    with count_queries() as few:
        client.get(f"/organisations/{org.id}")
    for _ in range(30):
        f.grant(session, host=org)
        f.person(session, organisation=org)
    session.commit()
    with count_queries() as many:
        client.get(f"/organisations/{org.id}")
    assert many.count == few.count


# --------------------------------------------------------------------------- people


def test_orcid_with_a_wrong_check_digit_is_refused_on_the_field(client, logged_in, session):
    logged_in(Role.STAFF)
    response = client.post("/people/new", data=_person_form(orcid=BAD_CHECK_DIGIT_ORCID))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"ORCID {BAD_CHECK_DIGIT_ORCID} has a wrong check digit (expected 7)" in page
    assert 'id="orcid-error"' in page and 'aria-invalid="true"' in page
    assert session.scalar(sa.select(Person).where(Person.family_name == "Carberry")) is None


def test_valid_orcid_is_accepted_normalised_and_linked(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    org = f.organisation(session, name="Brown University")
    session.commit()
    response = client.post(
        "/people/new",
        data=_person_form(
            orcid=f"https://orcid.org/{VALID_ORCID}",
            email="josiah@example.org",
            organisation_id=str(org.id),
            organisation_label="Brown University (IT)",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    person = session.scalar(sa.select(Person).where(Person.family_name == "Carberry"))
    assert person.orcid == VALID_ORCID and person.organisation_id == org.id
    assert _events(session, "people", person.id)[0].action == AuditAction.CREATE
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert f'href="https://orcid.org/{VALID_ORCID}"' in page
    assert f'href="/organisations/{org.id}"' in page
    edit = client.get(f"/people/{person.id}/edit").get_data(as_text=True)
    assert 'value="Brown University (IT)"' in edit  # the picker shows the chosen organisation


def test_duplicate_orcid_names_the_existing_person(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    existing = f.person(session, given_names="Josiah", family_name="Carberry", orcid=VALID_ORCID)
    session.commit()
    response = client.post(
        "/people/new", data=_person_form(family_name="Impostor", orcid=VALID_ORCID)
    )
    page = response.get_data(as_text=True)
    assert f"ORCID {VALID_ORCID} already belongs to Josiah Carberry." in page
    assert f'href="/people/{existing.id}"' in page
    assert session.scalar(sa.select(Person).where(Person.family_name == "Impostor")) is None


def test_person_bad_email_and_unpicked_affiliation(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    page = client.post(
        "/people/new",
        data=_person_form(email="not-an-address", organisation_label="Some place I typed"),
    ).get_data(as_text=True)
    assert "is not an e-mail address" in page
    assert "Choose the organisation from the list" in page
    page = client.post(
        "/people/new", data=_person_form(organisation_id="999999", organisation_label="x")
    ).get_data(as_text=True)
    assert "Choose the organisation from the list." in page


def test_people_list_search_filter_sort_and_pages(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    lab = f.organisation(session, name="Neuro Lab")
    pi = f.person(session, family_name="Zzmartino", given_names="Gianvito", organisation=lab)
    f.person(session, family_name="Zzpluchino", given_names="Stefano", orcid=VALID_ORCID)
    f.person(session, family_name="Zzgenchi", given_names="Angela", organisation=lab)
    f.grant(session, principal_investigator=pi)
    session.commit()
    page = client.get("/people?q=zz&sort=name").get_data(as_text=True)
    assert page.index("Zzgenchi") < page.index("Zzmartino") < page.index("Zzpluchino")
    assert "Zzpluchino" in client.get(f"/people?q=orcid.org/{VALID_ORCID}").get_data(as_text=True)
    assert "Zzmartino" in client.get("/people?q=gianvito zzmart").get_data(as_text=True)
    at_lab = client.get(f"/people?q=zz&organisation={lab.id}").get_data(as_text=True)
    assert "Zzgenchi" in at_lab and "Zzpluchino" not in at_lab and "Affiliated with" in at_lab
    by_grants = client.get("/people?q=zz&sort=grants&dir=desc").get_data(as_text=True)
    assert by_grants.index("Zzmartino") < by_grants.index("Zzgenchi")
    paged = client.get("/people?q=zz&sort=name&per_page=2&page=2").get_data(as_text=True)
    assert "Zzpluchino" in paged and "Zzgenchi" not in paged and "of 3" in paged


def test_person_detail_lists_grants_led_and_co_investigated(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    person = f.person(session, family_name="Martino")
    led = f.grant(session, reference="LED-1", principal_investigator=person)
    f.grant(
        session,
        reference="LED-SECRET",
        principal_investigator=person,
        confidentiality=Confidentiality.INTERNAL,
    )
    co = f.grant(session, reference="CO-1")
    session.add(GrantInvestigator(grant=co, person=person, role=InvestigatorRole.SUPERVISOR))
    session.commit()
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert f'href="/grants/{led.id}"' in page and f'href="/grants/{co.id}"' in page
    assert "Supervisor" in page and "LED-SECRET" not in page
    assert "principal investigator (1)" in page


def test_stale_person_edit_is_refused_with_the_change(client, logged_in, app, session) -> None:
    logged_in(Role.STAFF)
    person = f.person(session, family_name="Original")
    session.commit()
    form = _person_form(family_name="Mine", version=str(person.version))
    other = _colleague(app, session)
    first = other.post(f"/people/{person.id}/edit", data={**form, "family_name": "Theirs"})
    assert first.status_code == 302, first.get_data(as_text=True)
    second = client.post(f"/people/{person.id}/edit", data=form)
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "colleague@example.org" in page and "Theirs" in page and "family_name" in page
    session.expire_all()
    assert session.get(Person, person.id).family_name == "Theirs"


def test_person_edit_is_audited(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    person = f.person(session, family_name="Before")
    session.commit()
    response = client.post(
        f"/people/{person.id}/edit",
        data=_person_form(family_name="After", orcid=VALID_ORCID, version=str(person.version)),
    )
    assert response.status_code == 302
    [event] = _events(session, "people", person.id)
    assert event.action == AuditAction.UPDATE
    assert event.changes["family_name"] == ["Before", "After"]
    assert event.changes["orcid"] == [None, VALID_ORCID]


def test_person_delete_restore_and_history(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    person = f.person(session, family_name="Removable")
    session.commit()
    assert client.post(f"/people/{person.id}/delete").status_code == 302
    client.get(f"/people/{person.id}")
    assert "Removable" not in client.get("/people?q=removable").get_data(as_text=True)
    assert "Removable" in client.get("/people?q=removable&deleted=1").get_data(as_text=True)
    assert client.post(f"/people/{person.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Person, person.id).deleted_at is None
    history = client.get(f"/people/{person.id}/history").get_data(as_text=True)
    assert "Delete" in history and "Restore" in history


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/people/new"),
        ("post", "/people/new"),
        ("get", "/people/{id}/edit"),
        ("post", "/people/{id}/edit"),
        ("post", "/people/{id}/delete"),
        ("post", "/people/{id}/restore"),
    ],
)
def test_trustee_cannot_write_people(client, logged_in, session, method, path) -> None:
    logged_in(Role.TRUSTEE)
    person = f.person(session)
    session.commit()
    url = path.format(id=person.id)
    assert getattr(client, method)(url, data=_person_form()).status_code == 403
    assert client.get(f"/people/{person.id}").status_code == 200
    assert "E-mail" not in client.get(f"/people/{person.id}").get_data(as_text=True)


@pytest.mark.parametrize("sort", ["name", "organisation", "orcid", "grants"])
def test_people_list_query_count_does_not_grow(
    client, logged_in, session, count_queries, sort
) -> None:
    logged_in(Role.STAFF)
    for _ in range(3):
        f.person(session, organisation=f.organisation(session))
    session.commit()
    with count_queries() as few:
        client.get(f"/people?per_page=3&sort={sort}")
    for _ in range(30):
        pi = f.person(session, organisation=f.organisation(session))
        f.grant(session, principal_investigator=pi)
    session.commit()
    with count_queries() as many:
        client.get(f"/people?per_page=30&sort={sort}")
    assert many.count == few.count


def test_person_detail_query_count_does_not_grow(client, logged_in, session, count_queries):
    logged_in(Role.STAFF)
    person = f.person(session, organisation=f.organisation(session))
    session.commit()
    with count_queries() as few:
        client.get(f"/people/{person.id}")
    for _ in range(15):
        f.grant(session, principal_investigator=person)
        session.add(GrantInvestigator(grant=f.grant(session), person=person))
    session.commit()
    with count_queries() as many:
        client.get(f"/people/{person.id}")
    assert many.count == few.count
