"""Funds, donors, donations and fund allocations: pages, rules, audit and anonymity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import (
    AuditAction,
    AuditEvent,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    Fund,
    FundAllocation,
    Role,
    utcnow,
)

from . import factories as f
from .conftest import TEST_PASSWORD

_seq = count(1)

SECRET_NAME = "Contessa Serbelloni"


def _fund(session: so.Session, **fields: Any) -> Fund:
    values: dict[str, Any] = {"name": f"Test fund {next(_seq)}"}
    values.update(fields)
    fund = Fund(**values)
    session.add(fund)
    session.flush()
    return fund


def _donor(session: so.Session, **fields: Any) -> Donor:
    values: dict[str, Any] = {"name": f"Donor {next(_seq)}", "kind": DonorKind.INDIVIDUAL}
    values.update(fields)
    donor = Donor(**values)
    session.add(donor)
    session.flush()
    return donor


def _donation(session: so.Session, donor: Donor, fund: Fund, **fields: Any) -> Donation:
    values: dict[str, Any] = {
        "donor": donor,
        "fund": fund,
        "received_on": date(2010, 5, 1),
        "amount": Decimal("100.00"),
        "currency": "EUR",
        "amount_eur": Decimal("100.00"),
    }
    values.update(fields)
    donation = Donation(**values)
    session.add(donation)
    session.flush()
    return donation


def _events(session: so.Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id)
        )
    )


def _second_staff_client(app, session: so.Session, email: str):
    from app.auth.services import create_user

    create_user(session, email, TEST_PASSWORD, Role.STAFF)
    session.commit()
    other = app.test_client()
    other.post("/login", data={"email": email, "password": TEST_PASSWORD})
    return other


# Funds -------------------------------------------------------------------------------


def test_fund_create_edit_delete_restore_history(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    response = client.post(
        "/funds/new", data={"name": "Stem cell fund", "is_restricted": "y", "purpose": "NSC work"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    fund = session.scalar(sa.select(Fund).where(Fund.name == "Stem cell fund"))
    assert fund.is_restricted and fund.purpose == "NSC work"
    assert _events(session, "funds", fund.id)[0].action == AuditAction.CREATE

    response = client.post(
        f"/funds/{fund.id}/edit",
        data={"name": "Stem cell research fund", "purpose": "", "version": str(fund.version)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    fund = session.get(Fund, fund.id)
    assert fund.name == "Stem cell research fund" and not fund.is_restricted
    assert fund.purpose is None

    assert client.post(f"/funds/{fund.id}/delete").status_code == 302
    client.get(f"/funds/{fund.id}")  # uses up the flash message
    assert "Stem cell research fund" not in client.get("/funds").get_data(as_text=True)
    assert "Stem cell research fund" in client.get("/funds?deleted=1").get_data(as_text=True)
    assert client.post(f"/funds/{fund.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Fund, fund.id).deleted_at is None
    history = client.get(f"/funds/{fund.id}/history").get_data(as_text=True)
    assert all(word in history for word in ("Create", "Update", "Delete", "Restore"))


def test_fund_name_must_be_unique(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _fund(session, name="General fund")
    session.commit()
    response = client.post("/funds/new", data={"name": "general FUND"})
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(Fund.id))) == 1


def test_fund_stale_edit_is_refused(client, logged_in, session, app) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session, name="Original fund")
    session.commit()
    form = {"name": "Mine", "purpose": "", "version": str(fund.version)}
    other = _second_staff_client(app, session, "colleague-fund@example.org")
    assert other.post(f"/funds/{fund.id}/edit", data={**form, "name": "Theirs"}).status_code == 302
    response = client.post(f"/funds/{fund.id}/edit", data=form)
    assert response.status_code == 409
    assert "colleague-fund@example.org" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Fund, fund.id).name == "Theirs"


def test_fund_list_totals_filter_sort_and_pages(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    donor = _donor(session)
    rich = _fund(session, name="Alpha restricted", is_restricted=True)
    poor = _fund(session, name="Beta general")
    _donation(session, donor, rich, amount=Decimal("5000"), amount_eur=Decimal("5000"))
    _donation(session, donor, rich, amount=Decimal("2500"), amount_eur=Decimal("2500"))
    _donation(session, donor, poor, amount=Decimal("300"), amount_eur=Decimal("300"))
    grant = f.grant(session)
    session.add(
        FundAllocation(
            fund=rich, grant=grant, amount=Decimal(1000), currency="EUR", amount_eur=Decimal(1000)
        )
    )
    session.commit()
    page = client.get("/funds").get_data(as_text=True)
    assert "7,500 EUR" in page and "1,000 EUR" in page and "6,500 EUR" in page
    assert 'href="/donors"' in page and 'href="/donations"' in page  # sub-navigation
    restricted = client.get("/funds?restricted=restricted").get_data(as_text=True)
    assert "Alpha restricted" in restricted and "Beta general" not in restricted
    general = client.get("/funds?restricted=general").get_data(as_text=True)
    assert "Beta general" in general and "Alpha restricted" not in general
    by_balance = client.get("/funds?sort=balance&dir=asc").get_data(as_text=True)
    assert by_balance.index("Beta general") < by_balance.index("Alpha restricted")
    by_balance = client.get("/funds?sort=balance&dir=desc").get_data(as_text=True)
    assert by_balance.index("Alpha restricted") < by_balance.index("Beta general")
    first = client.get("/funds?sort=name&per_page=1").get_data(as_text=True)
    assert "Alpha restricted" in first and "Beta general" not in first and "of 2" in first
    assert "Beta general" in client.get("/funds?q=beta").get_data(as_text=True)


def test_fund_detail_shows_donations_allocations_and_totals(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session, name="Detail fund")
    donor = _donor(session, name="Giulia Bianchi")
    for day in range(1, 26):
        _donation(session, donor, fund, received_on=date(2011, 1, day), reference=f"R-{day:03d}")
    grant = f.grant(session, reference="FM-2011-001")
    session.add(
        FundAllocation(
            fund=fund, grant=grant, amount=Decimal(700), currency="EUR", amount_eur=Decimal(700)
        )
    )
    session.commit()
    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "2,500 EUR" in page and "1,800 EUR" in page  # received, balance
    assert "The latest 20 of 25 donations" in page
    assert "R-025" in page and "R-001" not in page  # latest first, capped
    assert f'href="/donations?fund={fund.id}"' in page
    assert f'href="/grants/{grant.id}"' in page and "FM-2011-001" in page
    assert "Giulia Bianchi" in page


def test_trustee_cannot_write_funds(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    fund = _fund(session)
    grant = f.grant(session)
    allocation = FundAllocation(
        fund=fund, grant=grant, amount=Decimal(1), currency="EUR", amount_eur=Decimal(1)
    )
    session.add(allocation)
    session.commit()
    assert client.get("/funds").status_code == 200
    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "/edit" not in page and "Allocate to a grant" not in page
    assert client.get("/funds/new").status_code == 403
    assert client.post("/funds/new", data={"name": "X"}).status_code == 403
    assert client.get(f"/funds/{fund.id}/edit").status_code == 403
    assert client.post(f"/funds/{fund.id}/delete").status_code == 403
    assert client.post(f"/funds/{fund.id}/restore").status_code == 403
    data = {"grant_id": str(grant.id), "amount": "5", "currency": ""}
    assert client.post(f"/funds/{fund.id}/allocations", data=data).status_code == 403
    assert client.post(f"/funds/{fund.id}/allocations/{allocation.id}/delete").status_code == 403
    assert session.scalar(sa.select(sa.func.count(FundAllocation.id))) == 1


def test_trustee_does_not_see_allocations_to_internal_grants(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    fund = _fund(session)
    secret = f.grant(session, title="Secret deal", confidentiality=Confidentiality.INTERNAL)
    session.add(
        FundAllocation(
            fund=fund, grant=secret, amount=Decimal(900), currency="EUR", amount_eur=Decimal(900)
        )
    )
    session.commit()
    page = client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "Secret deal" not in page and "900 EUR" not in page


# Fund allocations --------------------------------------------------------------------


def test_allocation_in_grant_currency_with_euro_value(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session)
    grant = f.grant(
        session,
        award_date=date(1995, 5, 1),
        amount_awarded=Decimal("193627000"),
        currency="ITL",
        amount_eur=Decimal("100000.00"),
    )
    session.commit()
    response = client.post(
        f"/funds/{fund.id}/allocations",
        data={"grant_id": str(grant.id), "grant_label": "", "amount": "96.813.500", "currency": ""},
    )
    assert response.status_code == 302
    allocation = session.scalar(sa.select(FundAllocation).where(FundAllocation.fund_id == fund.id))
    assert allocation.currency == "ITL"  # defaults to the grant's currency
    assert allocation.amount == Decimal("96813500") and allocation.amount_eur == Decimal("50000.00")
    event = _events(session, "fund_allocations", allocation.id)[0]
    assert event.action == AuditAction.CREATE


def test_duplicate_allocation_is_refused_with_a_message(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session, name="Dup fund")
    grant = f.grant(session, reference="DUP-1")
    session.commit()
    data = {"grant_id": str(grant.id), "grant_label": "", "amount": "100", "currency": "EUR"}
    assert client.post(f"/funds/{fund.id}/allocations", data=data).status_code == 302
    response = client.post(f"/funds/{fund.id}/allocations", data={**data, "amount": "200"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dup fund already pays towards grant DUP-1" in page
    amounts = session.scalars(
        sa.select(FundAllocation.amount).where(FundAllocation.fund_id == fund.id)
    )
    assert list(amounts) == [Decimal("100.00")]


def test_over_allocation_warns_but_is_saved(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    first, second = _fund(session), _fund(session)
    grant = f.grant(session, reference="OVER-1")  # 1,000 EUR
    session.add(
        FundAllocation(
            fund=first, grant=grant, amount=Decimal(800), currency="EUR", amount_eur=Decimal(800)
        )
    )
    session.commit()
    response = client.post(
        f"/funds/{second.id}/allocations",
        data={"grant_id": str(grant.id), "amount": "500", "currency": "EUR"},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Allocation added" in page
    assert "1,300.00 EUR towards grant OVER-1, more than its 1,000.00 EUR" in page
    assert (
        session.scalar(sa.select(sa.func.count()).where(FundAllocation.grant_id == grant.id)) == 2
    )


def test_bad_allocation_is_refused(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session)
    grant = f.grant(session)
    session.commit()
    response = client.post(
        f"/funds/{fund.id}/allocations", data={"grant_id": "", "amount": "10", "currency": ""}
    )
    assert "Choose the grant" in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(
        f"/funds/{fund.id}/allocations",
        data={"grant_id": str(grant.id), "amount": "-5", "currency": ""},
    )
    assert "cannot be negative" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(FundAllocation.id))) == 0


def test_allocation_removed_with_snapshot_in_audit(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session)
    grant = f.grant(session)
    allocation = FundAllocation(
        fund=fund,
        grant=grant,
        amount=Decimal("250.50"),
        currency="EUR",
        amount_eur=Decimal("250.50"),
    )
    session.add(allocation)
    session.commit()
    allocation_id = allocation.id
    response = client.post(f"/funds/{fund.id}/allocations/{allocation_id}/delete")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(FundAllocation, allocation_id) is None
    event = _events(session, "fund_allocations", allocation_id)[-1]
    assert event.action == AuditAction.DELETE
    assert event.changes["amount"] == ["250.50", None]
    assert event.changes["grant_id"] == [grant.id, None]
    other = _fund(session)
    session.commit()
    assert client.post(f"/funds/{other.id}/allocations/{allocation_id}/delete").status_code == 404


# Donors ------------------------------------------------------------------------------


def test_donor_create_edit_delete_restore_history(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    response = client.post("/donors/new", data={"name": "Fondazione Rossi", "kind": "trust"})
    assert response.status_code == 302, response.get_data(as_text=True)
    donor = session.scalar(sa.select(Donor).where(Donor.name == "Fondazione Rossi"))
    assert donor.kind == DonorKind.TRUST and not donor.is_anonymous
    response = client.post(
        f"/donors/{donor.id}/edit",
        data={"name": "Fondazione Rossi Onlus", "kind": "trust", "version": str(donor.version)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Donor, donor.id).name == "Fondazione Rossi Onlus"
    assert client.post(f"/donors/{donor.id}/delete").status_code == 302
    client.get(f"/donors/{donor.id}")
    assert "Fondazione Rossi" not in client.get("/donors").get_data(as_text=True)
    assert "Fondazione Rossi" in client.get("/donors?deleted=1").get_data(as_text=True)
    assert client.post(f"/donors/{donor.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Donor, donor.id).deleted_at is None
    history = client.get(f"/donors/{donor.id}/history").get_data(as_text=True)
    assert all(word in history for word in ("Create", "Update", "Delete", "Restore"))
    assert "Fondazione Rossi Onlus" in history  # staff see the changed name


def test_donor_stale_edit_is_refused(client, logged_in, session, app) -> None:
    logged_in(Role.STAFF)
    donor = _donor(session, name="Before")
    session.commit()
    form = {"name": "Mine", "kind": "individual", "version": str(donor.version)}
    other = _second_staff_client(app, session, "colleague-donor@example.org")
    assert (
        other.post(f"/donors/{donor.id}/edit", data={**form, "name": "Theirs"}).status_code == 302
    )
    response = client.post(f"/donors/{donor.id}/edit", data=form)
    assert response.status_code == 409
    session.expire_all()
    assert session.get(Donor, donor.id).name == "Theirs"


def test_donor_list_filters_sort_and_totals(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund = _fund(session)
    big = _donor(session, name="Acme SpA", kind=DonorKind.COMPANY)
    small = _donor(session, name="Zeno Verdi", kind=DonorKind.INDIVIDUAL)
    quiet = _donor(session, name="Quiet Trust", kind=DonorKind.TRUST, is_anonymous=True)
    _donation(session, big, fund, amount=Decimal(9000), amount_eur=Decimal(9000))
    _donation(session, small, fund, amount=Decimal(10), amount_eur=Decimal(10))
    _donation(session, quiet, fund, amount=Decimal(500), amount_eur=Decimal(500))
    session.commit()
    page = client.get("/donors").get_data(as_text=True)
    assert "9,000 EUR" in page and "Quiet Trust" in page and ">anonymous<" in page
    companies = client.get("/donors?kind=company").get_data(as_text=True)
    assert "Acme SpA" in companies and "Zeno Verdi" not in companies
    anonymous = client.get("/donors?anonymous=yes").get_data(as_text=True)
    assert "Quiet Trust" in anonymous and "Acme SpA" not in anonymous
    named = client.get("/donors?anonymous=no").get_data(as_text=True)
    assert "Quiet Trust" not in named and "Acme SpA" in named
    by_total = client.get("/donors?sort=total&dir=desc").get_data(as_text=True)
    assert by_total.index("Acme SpA") < by_total.index("Quiet Trust") < by_total.index("Zeno")
    assert "Zeno Verdi" in client.get("/donors?q=zeno").get_data(as_text=True)
    paged = client.get("/donors?sort=name&per_page=2").get_data(as_text=True)
    assert "Acme SpA" in paged and "Zeno Verdi" not in paged and "of 3" in paged


def test_donor_detail_shows_totals_and_donations(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    general, restricted = _fund(session, name="General"), _fund(session, name="Restricted")
    donor = _donor(session, name="Marta Neri")
    _donation(session, donor, general, received_on=date(1998, 3, 1), amount_eur=Decimal(100))
    _donation(session, donor, restricted, received_on=date(2005, 3, 1), amount_eur=Decimal(400))
    session.commit()
    page = client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "Marta Neri" in page and "500 EUR" in page and "400 EUR" in page
    assert "1 Mar 1998" in page and "1 Mar 2005" in page
    assert f'href="/funds/{general.id}"' in page


def test_donor_lookup_is_json_for_staff_only(client, logged_in, session, make_user, app) -> None:
    logged_in(Role.STAFF)
    _donor(session, name="Lookup Person", is_anonymous=True)
    _donor(session, name="Lookup Gone", deleted_at=utcnow())
    session.commit()
    options = client.get("/donors/lookup?q=lookup").get_json()
    assert [o["label"] for o in options] == ["Lookup Person (Individual, anonymous)"]
    assert client.get("/donors/lookup?q=l").get_json() == []
    trustee = make_user(Role.TRUSTEE)
    other = app.test_client()
    other.post("/login", data={"email": trustee.email, "password": TEST_PASSWORD})
    assert other.get("/donors/lookup?q=lookup").status_code == 403


def test_trustee_cannot_write_donors(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    donor = _donor(session)
    session.commit()
    assert client.get(f"/donors/{donor.id}").status_code == 200
    assert client.get("/donors/new").status_code == 403
    assert client.post("/donors/new", data={"name": "X", "kind": "trust"}).status_code == 403
    assert client.get(f"/donors/{donor.id}/edit").status_code == 403
    assert client.post(f"/donors/{donor.id}/delete").status_code == 403
    assert client.post(f"/donors/{donor.id}/restore").status_code == 403


# Anonymous donors --------------------------------------------------------------------


def _anonymous_setup(session: so.Session) -> tuple[Fund, Donor, Donation]:
    fund = _fund(session, name="Visible fund")
    donor = _donor(session, name=SECRET_NAME, kind=DonorKind.BEQUEST, is_anonymous=True)
    donation = _donation(session, donor, fund, reference="ANON-1", amount_eur=Decimal(777))
    session.commit()
    return fund, donor, donation


def _trustee_pages(fund: Fund, donor: Donor) -> list[str]:
    return [
        "/donors",
        "/donors?sort=name",
        f"/donors/{donor.id}",
        f"/donors/{donor.id}/history",
        f"/funds/{fund.id}",
        "/funds",
        "/donations",
        f"/donations?donor={donor.id}",
        f"/donations?fund={fund.id}&kind=bequest",
    ]


def test_anonymous_donor_is_never_named_to_trustees(client, logged_in, session) -> None:
    fund, donor, _ = _anonymous_setup(session)
    logged_in(Role.TRUSTEE)
    for url in _trustee_pages(fund, donor):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert "Serbelloni" not in page, url
    assert "Anonymous donor" in client.get("/donors").get_data(as_text=True)
    assert "Anonymous donor" in client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert "Anonymous donor" in client.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "Anonymous donor" in client.get("/donations").get_data(as_text=True)
    # A search on the hidden name must not find the donor either.
    found = client.get("/donors?q=serbelloni").get_data(as_text=True)
    assert "No donors match" in found


def test_anonymous_donor_stays_hidden_after_renaming(client, logged_in, session, app) -> None:
    fund, donor, _ = _anonymous_setup(session)
    staff = _second_staff_client(app, session, "renamer@example.org")
    response = staff.post(
        f"/donors/{donor.id}/edit",
        data={
            "name": "Serbelloni heirs",
            "kind": "bequest",
            "is_anonymous": "y",
            "version": str(donor.version),
        },
    )
    assert response.status_code == 302
    logged_in(Role.TRUSTEE)
    history = client.get(f"/donors/{donor.id}/history").get_data(as_text=True)
    assert "Serbelloni" not in history and "(hidden)" in history


def test_staff_see_anonymous_donor_names_with_a_badge(client, logged_in, session) -> None:
    fund, donor, _ = _anonymous_setup(session)
    logged_in(Role.STAFF)
    for url in ("/donors", f"/donors/{donor.id}", f"/funds/{fund.id}", "/donations"):
        page = client.get(url).get_data(as_text=True)
        assert SECRET_NAME in page and ">anonymous<" in page, url
    assert SECRET_NAME in client.get("/donors?q=serbelloni").get_data(as_text=True)


# Donations ---------------------------------------------------------------------------


def _donation_form(donor: Donor, fund: Fund, **overrides: str) -> dict[str, str]:
    data = {
        "donor_id": str(donor.id),
        "donor_label": "",
        "fund_id": str(fund.id),
        "received_on": "1998-06-15",
        "amount": "1.936.270",
        "currency": "ITL",
        "reference": "LIRE-1",
    }
    data.update(overrides)
    return data


def test_lire_donation_gets_its_euro_value(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund, donor = _fund(session), _donor(session)
    session.commit()
    response = client.post("/donations/new", data=_donation_form(donor, fund))
    assert response.status_code == 302, response.get_data(as_text=True)
    donation = session.scalar(sa.select(Donation).where(Donation.reference == "LIRE-1"))
    assert donation.amount == Decimal("1936270.00") and donation.currency == "ITL"
    assert donation.amount_eur == Decimal("1000.00")
    event = _events(session, "donations", donation.id)[0]
    assert event.action == AuditAction.CREATE and event.changes["amount_eur"] == [None, "1000.00"]
    assert "1,000.00 EUR" in client.get("/donations").get_data(as_text=True)


def test_donation_bad_input_rerenders_and_writes_nothing(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund, donor = _fund(session), _donor(session)
    _donation(session, donor, fund, reference="TAKEN")
    session.commit()
    response = client.post(
        "/donations/new", data=_donation_form(donor, fund, amount="0", reference="TAKEN")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "more than zero" in page and "already used" in page
    response = client.post(
        "/donations/new", data=_donation_form(donor, fund, donor_id="", amount="12abc")
    )
    assert "is not an amount" in response.get_data(as_text=True)
    response = client.post("/donations/new", data=_donation_form(donor, fund, donor_id=""))
    assert "Choose the donor" in response.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count(Donation.id))) == 1


def test_donation_edit_and_stale_edit(client, logged_in, session, app) -> None:
    logged_in(Role.STAFF)
    fund, donor = _fund(session), _donor(session)
    donation = _donation(session, donor, fund, reference="ED-1")
    session.commit()
    form_page = client.get(f"/donations/{donation.id}/edit").get_data(as_text=True)
    assert 'data-typeahead="/donors/lookup"' in form_page
    form = _donation_form(
        donor,
        fund,
        received_on="2010-05-01",
        amount="150",
        currency="EUR",
        reference="ED-1",
        version=str(donation.version),
    )
    response = client.post(f"/donations/{donation.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Donation, donation.id).amount_eur == Decimal("150.00")
    # The form above was based on the old version: a second save is refused.
    response = client.post(f"/donations/{donation.id}/edit", data={**form, "amount": "999"})
    assert response.status_code == 409
    session.expire_all()
    assert session.get(Donation, donation.id).amount == Decimal("150.00")


def test_donation_delete_keeps_snapshot(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    fund, donor = _fund(session), _donor(session)
    donation = _donation(session, donor, fund, reference="DEL-1", amount=Decimal("42.50"))
    session.commit()
    donation_id = donation.id
    assert client.post(f"/donations/{donation_id}/delete").status_code == 302
    session.expire_all()
    assert session.get(Donation, donation_id) is None
    event = _events(session, "donations", donation_id)[-1]
    assert event.action == AuditAction.DELETE
    assert event.changes["reference"] == ["DEL-1", None]
    assert event.changes["amount"] == ["42.50", None]
    assert event.changes["donor_id"] == [donor.id, None]


def test_trustee_cannot_write_donations(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    fund, donor = _fund(session), _donor(session)
    donation = _donation(session, donor, fund)
    session.commit()
    assert client.get("/donations").status_code == 200
    assert "/edit" not in client.get("/donations").get_data(as_text=True)
    assert client.get("/donations/new").status_code == 403
    assert client.post("/donations/new", data=_donation_form(donor, fund)).status_code == 403
    assert client.get(f"/donations/{donation.id}/edit").status_code == 403
    assert client.post(f"/donations/{donation.id}/delete").status_code == 403
    assert session.scalar(sa.select(sa.func.count(Donation.id))) == 1


def test_donation_list_filters_and_sort(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    one, two = _fund(session), _fund(session)
    person = _donor(session, kind=DonorKind.INDIVIDUAL)
    company = _donor(session, kind=DonorKind.COMPANY)
    _donation(
        session,
        person,
        one,
        received_on=date(1999, 1, 1),
        reference="D-1999",
        amount_eur=Decimal(50),
    )
    _donation(
        session,
        company,
        two,
        received_on=date(2005, 1, 1),
        reference="D-2005",
        amount_eur=Decimal(5000),
    )
    _donation(
        session,
        person,
        two,
        received_on=date(2012, 1, 1),
        reference="D-2012",
        amount_eur=Decimal(700),
    )
    session.commit()
    default = client.get("/donations").get_data(as_text=True)
    assert default.index("D-2012") < default.index("D-2005") < default.index("D-1999")
    assert "5,750.00 EUR" in default
    by_year = client.get("/donations?year=2005").get_data(as_text=True)
    assert "D-2005" in by_year and "D-1999" not in by_year and "D-2012" not in by_year
    by_fund = client.get(f"/donations?fund={two.id}").get_data(as_text=True)
    assert "D-1999" not in by_fund and "D-2005" in by_fund and "5,700.00 EUR" in by_fund
    by_kind = client.get("/donations?kind=individual").get_data(as_text=True)
    assert "D-2005" not in by_kind and "D-1999" in by_kind
    by_amount = client.get("/donations?sort=amount&dir=desc").get_data(as_text=True)
    assert by_amount.index("D-2005") < by_amount.index("D-2012") < by_amount.index("D-1999")
    paged = client.get("/donations?sort=received_on&dir=asc&per_page=2").get_data(as_text=True)
    assert "D-1999" in paged and "D-2012" not in paged and "of 3" in paged


# Query counts ------------------------------------------------------------------------


def _many(session: so.Session, n: int) -> tuple[Fund, Donor]:
    fund, donor = _fund(session), _donor(session)
    for i in range(n):
        other_fund = _fund(session)
        other_donor = _donor(session, is_anonymous=i % 2 == 0)
        _donation(session, other_donor, other_fund)
        _donation(session, donor, fund)
        _donation(session, other_donor, fund)
        session.add(
            FundAllocation(
                fund=fund,
                grant=f.grant(session),
                amount=Decimal(1),
                currency="EUR",
                amount_eur=Decimal(1),
            )
        )
    session.commit()
    return fund, donor


def test_list_and_detail_query_counts_do_not_grow(
    client, logged_in, session, count_queries
) -> None:
    logged_in(Role.STAFF)
    small_fund, small_donor = _many(session, 2)
    urls = lambda fund, donor: [  # noqa: E731
        "/funds",
        "/donors",
        "/donations",
        f"/funds/{fund.id}",
        f"/donors/{donor.id}",
    ]
    few = {}
    for url in urls(small_fund, small_donor):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        few[url.split("/")[1] + ("-detail" if url.count("/") > 1 else "")] = counter.count
    big_fund, big_donor = _many(session, 25)
    for url in urls(big_fund, big_donor):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        key = url.split("/")[1] + ("-detail" if url.count("/") > 1 else "")
        assert counter.count == few[key], (url, counter.statements)
        assert counter.count <= 8, url


def test_pickers_render_their_hidden_id_once(client, logged_in, session) -> None:
    # A second, empty copy from hidden_tag() would be submitted first and win
    # (the picker id fields are PickerIdField for that reason).
    logged_in(Role.STAFF)
    fund = _fund(session)
    session.commit()
    assert client.get(f"/funds/{fund.id}").get_data(as_text=True).count('name="grant_id"') == 1
    assert client.get("/donations/new").get_data(as_text=True).count('name="donor_id"') == 1
