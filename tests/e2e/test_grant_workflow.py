"""A staff member keeps grants in the browser; a trustee only reads."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.models import Role


def _seed_institution(live_server) -> None:
    from app.extensions import db
    from app.models import Organisation, OrganisationKind

    with live_server.app.app_context():
        db.session.add(Organisation(name="Istituto Browser di Neuroscienze",
                                    kind=OrganisationKind.RESEARCH_INSTITUTE, country="IT"))
        db.session.commit()


def test_staff_creates_a_grant_with_typeahead(live_server, new_page, screenshot) -> None:
    _seed_institution(live_server)
    email = live_server.make_user("staff.e2e@example.org", Role.STAFF)
    page: Page = new_page(email)
    screenshot(page, "home")
    page.get_by_role("link", name="Grants").first.click()
    page.get_by_role("link", name="New grant").click()
    page.get_by_label("Reference").fill("E2E-1998-001")
    page.get_by_label("Title").fill("Neurosphere transplantation in chronic EAE")
    page.get_by_label("Host institution").press_sequentially("Browser di", delay=30)
    option = page.get_by_role("option", name=re.compile("Istituto Browser"))
    option.click()
    expect(page.locator("#host_id")).to_have_value(re.compile(r"^\d+$"))
    page.get_by_label("Amount awarded").fill("150.000.000")
    page.get_by_label("Currency").select_option("ITL")
    page.get_by_label("Award date").fill("1998-03-01")
    screenshot(page, "grant-form")
    page.get_by_role("button", name="Create grant").click()
    screenshot(page, "grant-created")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Neurosphere transplantation in chronic EAE")
    expect(page.get_by_text("150,000,000 ITL")).to_be_visible()
    expect(page.get_by_text("77,469 EUR")).to_be_visible()
    screenshot(page, "grant-detail")
    page.goto("/grants")
    expect(page.get_by_role("link", name="E2E-1998-001")).to_be_visible()
    screenshot(page, "grant-list")


def test_two_editors_see_the_conflict(live_server, new_page, screenshot) -> None:
    first = new_page(live_server.make_user("editor.one@example.org", Role.STAFF))
    second = new_page(live_server.make_user("editor.two@example.org", Role.STAFF))
    first.goto("/grants")
    first.get_by_role("link", name="E2E-1998-001").click()
    grant_url = first.url
    first.get_by_role("link", name="Edit").click()
    second.goto(grant_url + "/edit")
    first.get_by_label("Title").fill("Title saved by editor one")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_text("saved.")).to_be_visible()
    second.get_by_label("Title").fill("Title from editor two")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("alert").first).to_contain_text("editor.one@example.org")
    expect(second.get_by_role("heading", name="Changed meanwhile")).to_be_visible()
    expect(second.locator(".conflict")).to_contain_text("Title saved by editor one")
    screenshot(second, "grant-edit-conflict")
    second.goto(grant_url)
    expect(second.get_by_role("heading", level=1)).to_have_text("Title saved by editor one")


def test_trustee_cannot_edit(live_server, new_page, screenshot) -> None:
    page: Page = new_page(live_server.make_user("trustee.e2e@example.org", Role.TRUSTEE))
    page.goto("/grants")
    page.get_by_role("link", name="E2E-1998-001").click()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    response = page.goto(page.url + "/edit")
    assert response is not None and response.status == 403
    screenshot(page, "trustee-forbidden")
