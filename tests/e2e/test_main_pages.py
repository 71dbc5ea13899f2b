"""Every main page, with the demo foundation loaded, renders and is kept as a screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.demo import STEMS_NCT, find_trial, load_foundation
from app.models import Role

PAGES = [
    ("/", "Portfolio at a glance"),
    ("/grants", "Grants"),
    ("/outputs", "Outputs"),
    ("/organisations", "Organisations"),
    ("/people", "People"),
    ("/programmes", "Programmes"),
    ("/areas", "Research areas"),
    ("/funds", "Funds"),
    ("/donors", "Donors"),
    ("/donations", "Donations"),
    ("/audit", "Audit"),
    ("/admin/users", "Users"),
]


@pytest.fixture(scope="module")
def demo(live_server):
    live_server.run(lambda session: load_foundation(session, echo=lambda *a, **k: None))
    return live_server


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_main_page(demo, new_page, screenshot, path: str, heading: str) -> None:
    page: Page = new_page(demo.make_user(f"admin{len(path)}{path.count('/')}"
                                         f"{abs(hash(path)) % 10_000}@example.org", Role.ADMIN))
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, "page overflows"
    screenshot(page, "page" + (path.replace("/", "-") if path != "/" else "-home"))


def test_detail_pages_of_the_stems_pathway(demo, new_page, screenshot) -> None:
    page: Page = new_page(demo.make_user("stems.reader@example.org", Role.TRUSTEE))
    trial_id = demo.run(lambda session: find_trial(session, STEMS_NCT))
    page.goto(f"/outputs/{trial_id}")
    screenshot(page, "page-trial-stems")
    page.goto(f"/outputs/{trial_id}/pathway")
    expect(page.get_by_role("heading", level=1)).to_have_text("From funding to STEMS")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, "page overflows"
    screenshot(page, "page-pathway-stems")
    page.get_by_role("link", name="FMR-1988-001").click()
    expect(page.get_by_text("Clinical trials downstream")).to_be_visible()
    screenshot(page, "page-grant-1988")


FORM_PAGES = [
    "/grants/new", "/outputs/new?type=publication", "/outputs/new?type=medical_product",
    "/organisations/new", "/people/new", "/programmes/new", "/funds/new", "/donors/new",
    "/donations/new", "/admin/users/new", "/grants", "/outputs",
]

UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]), select, textarea')]
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


@pytest.mark.parametrize("path", FORM_PAGES)
def test_every_control_has_a_label(demo, new_page, path: str) -> None:
    page: Page = new_page(demo.make_user(f"a11y{abs(hash(path)) % 100_000}@example.org",
                                         Role.ADMIN))
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert page.evaluate(UNLABELLED) == []
    # Keyboard users can reach the main action.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
