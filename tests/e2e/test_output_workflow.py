"""Staff record a publication and a trial, link them, credit a grant, see the pathway."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from playwright.sync_api import Page, expect

from app.models import Grant, GrantStatus, Organisation, OrganisationKind, Role


def _grant(session) -> None:
    host = Organisation(name="Istituto di Neuroscienze Sperimentali",
                        kind=OrganisationKind.RESEARCH_INSTITUTE, country="IT")
    session.add(Grant(reference="E2E-2001-007", title="Neurospheres as immunomodulators",
                      host=host, status=GrantStatus.COMPLETED, award_date=date(2001, 6, 1),
                      amount_awarded=Decimal("300000000"), currency="ITL",
                      amount_eur=Decimal("154937.07")))


def _pick(page: Page, label: str, typed: str, option: str) -> None:
    page.get_by_label(label).press_sequentially(typed, delay=30)
    page.get_by_role("option", name=re.compile(option)).first.click()


def test_publication_and_trial_linked_to_a_grant(live_server, new_page, screenshot) -> None:
    live_server.run(_grant)
    page: Page = new_page(live_server.make_user("outputs.e2e@example.org", Role.STAFF))

    page.goto("/outputs/new?type=publication")
    page.get_by_label("Title").fill(
        "Neurosphere-derived multipotent precursors promote neuroprotection")
    page.get_by_label("Date").first.fill("2005")
    page.get_by_label("DOI").fill("https://doi.org/10.1038/NATURE03889")
    page.get_by_label("Journal").fill("Nature")
    screenshot(page, "output-form-publication")
    page.get_by_role("button", name=re.compile("Create|Save")).click()
    expect(page.get_by_text("10.1038/nature03889")).to_be_visible()
    publication_url = page.url

    page.get_by_text("Credit a grant").click()
    _pick(page, "Grant", "E2E-2001", "E2E-2001-007")
    page.get_by_role("button", name="Credit grant").click()
    expect(page.get_by_role("link", name=re.compile("E2E-2001-007"))).to_be_visible()

    page.goto("/outputs/new?type=medical_product")
    page.get_by_label("Title").fill("STEMS: intrathecal neural precursor cells in progressive MS")
    page.get_by_label("This is a clinical trial").check()
    page.get_by_label("Acronym").fill("STEMS")
    page.get_by_label("Phase").select_option(label="Phase 1")
    page.get_by_label("Status", exact=True).select_option(label="Completed")
    page.get_by_label("Registry ids").fill("NCT03269071\n2016-002020-86")
    page.get_by_label("First patient treated").fill("2017-05-01")
    screenshot(page, "output-form-trial")
    page.get_by_role("button", name=re.compile("Create|Save")).click()
    screenshot(page, "output-trial-created")
    expect(page.get_by_text("NCT03269071").first).to_be_visible()
    expect(page.get_by_text("2016-002020-86").first).to_be_visible()

    page.get_by_text("Link to another output").click()
    _pick(page, "Other output", "neuroprotection", "Neurosphere-derived")
    page.get_by_role("button", name="Add link").click()
    expect(page.get_by_role("link", name=re.compile("Neurosphere-derived"))).to_be_visible()
    screenshot(page, "output-detail-trial")

    page.get_by_role("link", name="Pathway").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("From funding to STEMS")
    expect(page.get_by_role("link", name="E2E-2001-007")).to_be_visible()
    screenshot(page, "pathway")

    # A link back from the publication to the trial would close a cycle: refused.
    page.goto(publication_url)
    page.get_by_text("Link to another output").click()
    _pick(page, "Other output", "STEMS", "STEMS")
    page.get_by_role("button", name="Add link").click()
    expect(page.get_by_text(re.compile("cycle|already stands on", re.I)).first).to_be_visible()
    screenshot(page, "output-link-cycle-refused")
