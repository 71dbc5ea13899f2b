"""Highlights: list by year, create, edit with optimistic locking, delete, restore, history,
and their section in the annual impact report (escaped, paragraphs kept, in order)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import orm as so

from app.auth.services import create_user
from app.highlights.queries import paragraphs
from app.models import AuditAction, AuditEvent, Confidentiality, Highlight, Role, User
from reports.annual import annual_html, annual_pdf, build_annual_report
from reports.annual_data import Period

from . import factories as f
from .conftest import TEST_PASSWORD

DELETED = datetime(2024, 1, 1, tzinfo=UTC)
HOSTILE = '<img src="file:///etc/passwd"> <link rel="attachment" href="file:///etc/hostname">'


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "year": "2023",
        "title": "STEMS results published",
        "body": "The phase 1 trial reported.\n\nTwelve people were treated.",
        "output_id": "",
        "output_label": "",
        "grant_id": "",
        "grant_label": "",
        "position": "",
    }
    data.update(overrides)
    return data


def _highlight(session: so.Session, **fields: Any) -> Highlight:
    values: dict[str, Any] = {"year": 2023, "title": "A highlight", "body": "Text.", "position": 1}
    values.update(fields)
    highlight = Highlight(**values)
    session.add(highlight)
    session.flush()
    return highlight


def _count(session: so.Session) -> int:
    return session.scalar(sa.select(sa.func.count(Highlight.id))) or 0


# --------------------------------------------------------------------------- pages


def test_staff_write_a_highlight_audited_with_its_author(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    user = logged_in(Role.STAFF)
    trial = f.trial(session, title="STEMS: intrathecal neural precursor cells")
    _highlight(session, title="Earlier one", position=1)
    session.commit()
    response = client.post(
        "/highlights/new",
        data=_form(title=f"Results {HOSTILE}", output_id=str(trial.id), body="One.\n\nTwo\nlines."),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    highlight = session.scalar(sa.select(Highlight).where(Highlight.title.like("Results%")))
    assert highlight is not None
    assert (highlight.author_id, highlight.output_id, highlight.year) == (user.id, trial.id, 2023)
    assert highlight.position == 2  # after the year's others
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "highlights", AuditEvent.entity_id == highlight.id
        )
    )
    assert event is not None and event.action == AuditAction.CREATE
    assert event.changes["title"] == [None, f"Results {HOSTILE}"]

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in page and HOSTILE not in page
    assert '<p class="prose">One.</p>' in page and "Two\nlines." in page
    assert "Clinical trial" in page and "STEMS: intrathecal" in page
    listing = client.get("/highlights").get_data(as_text=True)
    assert listing.index("Earlier one") < listing.index("Results &lt;img")


def test_bad_input_rerenders_with_field_errors_and_writes_nothing(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    grant = f.grant(session)
    output = f.output(session)
    gone = f.output(session, deleted_at=DELETED)
    session.commit()
    before = _count(session)
    cases = [
        (_form(title="", body=""), ["This field is required."]),
        (_form(year="1850"), ["Give a year between 1900"]),
        (_form(year="abc"), ["Not a valid integer value"]),
        (_form(position="0"), ["Use 1 for the first highlight"]),
        (
            _form(output_id=str(output.id), grant_id=str(grant.id)),
            ["A highlight is about one record at most"],
        ),
        (_form(output_id=str(gone.id)), ["Choose the trial or output from the list."]),
        (_form(grant_id="999999"), ["Choose the grant from the list."]),
        (_form(body="Bad \x07 bell"), ["Remove the invisible control characters"]),
    ]
    for data, messages in cases:
        response = client.post("/highlights/new", data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, data
        for message in messages:
            assert message in page, (data, message)
    assert _count(session) == before


def test_stale_edit_is_refused_with_what_changed(
    app: Flask, client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    highlight = _highlight(session, title="Original")
    create_user(session, "colleague@example.org", TEST_PASSWORD, Role.STAFF)
    session.commit()
    form = _form(title="Mine", version=str(highlight.version), position="1")
    other = app.test_client()
    other.post("/login", data={"email": "colleague@example.org", "password": TEST_PASSWORD})
    first = other.post(f"/highlights/{highlight.id}/edit", data={**form, "title": "Theirs"})
    assert first.status_code == 302
    second = client.post(f"/highlights/{highlight.id}/edit", data=form)
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "colleague@example.org" in page and "Theirs" in page
    session.expire_all()
    assert session.get(Highlight, highlight.id).title == "Theirs"  # type: ignore[union-attr]
    shown = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert shown and shown.group(1) == "2"
    third = client.post(f"/highlights/{highlight.id}/edit", data={**form, "version": "2"})
    assert third.status_code == 302
    session.expire_all()
    assert session.get(Highlight, highlight.id).title == "Mine"  # type: ignore[union-attr]


def test_moving_to_another_year_puts_it_last_there(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    _highlight(session, year=2022, position=1)
    _highlight(session, year=2022, position=5)
    moving = _highlight(session, year=2023, position=1)
    session.commit()
    response = client.post(
        f"/highlights/{moving.id}/edit",
        data=_form(year="2022", position="", version=str(moving.version)),
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Highlight, moving.id).position == 6  # type: ignore[union-attr]


def test_trustees_read_but_never_write(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.TRUSTEE)
    highlight = _highlight(session, title="For the trustees")
    session.commit()
    assert "For the trustees" in client.get("/highlights").get_data(as_text=True)
    page = client.get(f"/highlights/{highlight.id}").get_data(as_text=True)
    assert "For the trustees" in page and "/edit" not in page and "New highlight" not in page
    assert client.get(f"/highlights/{highlight.id}/history").status_code == 200
    assert client.get("/highlights/new").status_code == 403
    assert client.post("/highlights/new", data=_form()).status_code == 403
    assert client.get(f"/highlights/{highlight.id}/edit").status_code == 403
    assert client.post(f"/highlights/{highlight.id}/delete").status_code == 403
    assert client.post(f"/highlights/{highlight.id}/restore").status_code == 403
    assert client.get("/highlights/999999").status_code == 404


def test_a_subject_readers_may_not_see_is_not_shown(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.TRUSTEE)
    secret = f.grant(
        session,
        reference="SECRET-1",
        title="Secret talks",
        confidentiality=Confidentiality.INTERNAL,
    )
    highlight = _highlight(session, title="Negotiations", grant_id=secret.id)
    session.commit()
    for url in ("/highlights", f"/highlights/{highlight.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "Negotiations" in page and "SECRET-1" not in page and "Secret talks" not in page


def test_delete_restore_and_history(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    highlight = _highlight(session, title="Soon gone")
    session.commit()
    assert client.post(f"/highlights/{highlight.id}/delete").status_code == 302
    client.get(f"/highlights/{highlight.id}")  # uses up the flash message
    assert "Soon gone" not in client.get("/highlights").get_data(as_text=True)
    assert "Soon gone" in client.get("/highlights?deleted=1").get_data(as_text=True)
    assert "Deleted" in client.get(f"/highlights/{highlight.id}").get_data(as_text=True)
    assert client.post(f"/highlights/{highlight.id}/restore").status_code == 302
    session.expire_all()
    assert session.get(Highlight, highlight.id).deleted_at is None  # type: ignore[union-attr]
    history = client.get(f"/highlights/{highlight.id}/history").get_data(as_text=True)
    assert "Delete" in history and "Restore" in history


def test_list_filters_by_year_and_searches(
    client: FlaskClient, logged_in: Any, session: so.Session
) -> None:
    logged_in(Role.STAFF)
    _highlight(session, year=2021, title="Biobank anniversary")
    _highlight(session, year=2023, title="Pilot call opened", body="Thirty-one applications")
    session.commit()
    in_2021 = client.get("/highlights?year=2021").get_data(as_text=True)
    assert "Biobank anniversary" in in_2021 and "Pilot call" not in in_2021
    found = client.get("/highlights?q=thirty-one").get_data(as_text=True)
    assert "Pilot call opened" in found and "Biobank" not in found
    everything = client.get("/highlights").get_data(as_text=True)
    assert everything.index("Pilot call opened") < everything.index("Biobank anniversary")


def test_list_and_detail_query_counts_do_not_grow(
    client: FlaskClient, logged_in: Any, session: so.Session, count_queries: Any
) -> None:
    user: User = logged_in(Role.STAFF)

    def add(n: int) -> Highlight:
        last = None
        for i in range(n):
            grant = f.grant(session)
            trial = f.trial(session)
            last = _highlight(
                session,
                year=2010 + i % 7,
                position=i + 1,
                author_id=user.id,
                **({"grant_id": grant.id} if i % 2 else {"output_id": trial.id}),
            )
        session.commit()
        assert last is not None
        return last

    first = add(2)
    with count_queries() as few:
        client.get("/highlights")
    with count_queries() as one:
        client.get(f"/highlights/{first.id}")
    add(20)
    with count_queries() as many:
        client.get("/highlights")
    with count_queries() as again:
        client.get(f"/highlights/{first.id}")
    assert many.count == few.count <= 8
    assert again.count == one.count <= 6


def test_paragraphs_split_at_blank_lines_and_keep_line_breaks() -> None:
    text = "  First paragraph\r\nstill first.  \r\n \t\r\nSecond.\n\n\n\nThird\n"
    assert paragraphs(text) == ("First paragraph\nstill first.", "Second.", "Third")
    assert paragraphs("   \n\n ") == ()


# --------------------------------------------------------------------------- the report


@pytest.fixture
def report_highlights(session: so.Session) -> dict[str, Any]:
    trial = f.trial(session, title="A phase 1 trial of neural precursors")
    trial.trial.acronym = "NEURO-1"  # type: ignore[union-attr]
    internal = f.grant(session, reference="HIDDEN-9", confidentiality=Confidentiality.INTERNAL)
    _highlight(
        session,
        year=2023,
        position=2,
        title=f"Second {HOSTILE}",
        body=f"Body with markup {HOSTILE}.\n\nAnother paragraph\nwith a line break.",
        output_id=trial.id,
    )
    _highlight(session, year=2023, position=1, title="First of the year", grant_id=internal.id)
    _highlight(session, year=2022, position=1, title="Last year's story")
    _highlight(session, year=2023, position=3, title="Deleted story", deleted_at=DELETED)
    session.commit()
    return {"trial": trial}


def test_the_annual_report_prints_the_highlights_of_its_year_in_order(
    session: so.Session, report_highlights: dict[str, Any]
) -> None:
    report = build_annual_report(
        session, Period(2023, 2023), foundation="F", include_register=False
    )
    assert [h.title for h in report.highlights] == ["First of the year", f"Second {HOSTILE}"]
    second = report.highlights[1]
    assert second.paragraphs == (
        f"Body with markup {HOSTILE}.",
        "Another paragraph\nwith a line break.",
    )
    assert (second.about, second.about_kind) == ("NEURO-1", "Clinical trial")
    assert report.highlights[0].about is None  # an internal grant stays out of trustee reports

    html = annual_html(report)
    assert HOSTILE not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert '<a href="#highlights">Highlights</a>' in html
    assert "HIDDEN-9" not in html and "Deleted story" not in html

    pdf = annual_pdf(report)
    reader = PdfReader(io.BytesIO(pdf))
    assert "/EmbeddedFiles" not in (reader.trailer["/Root"].get("/Names") or {})
    pages = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    page = next(p for p in pages if "Highlights Written by the foundation's staff" in p)
    assert page.index("First of the year") < page.index("Second <img")
    assert "Clinical trial: NEURO-1" in page
    assert "Another paragraph with a line break." in page

    def titles(outline: Any) -> list[str]:
        found: list[str] = []
        for item in outline:
            found += titles(item) if isinstance(item, list) else [item.title]
        return found

    assert {"Highlights", "First of the year"} <= set(titles(reader.outline))


def test_a_range_groups_highlights_by_year_and_no_highlights_means_no_section(
    session: so.Session, report_highlights: dict[str, Any]
) -> None:
    report = build_annual_report(
        session, Period(2022, 2023), foundation="F", include_register=False
    )
    assert [(year, [h.title for h in items]) for year, items in report.highlight_years] == [
        (2022, ["Last year's story"]),
        (2023, ["First of the year", f"Second {HOSTILE}"]),
    ]
    assert '<p class="highlight-year">2022</p>' in annual_html(report)
    empty = build_annual_report(session, Period(2020, 2020), foundation="F")
    assert empty.highlights == ()
    assert 'id="highlights"' not in annual_html(empty)


def test_highlights_are_part_of_the_report_fingerprint(
    session: so.Session, report_highlights: dict[str, Any]
) -> None:
    from app.reports.issuing import fingerprint

    period = Period(2023, 2023)
    before = fingerprint(build_annual_report(session, period, foundation="F"))
    highlight = session.scalar(sa.select(Highlight).where(Highlight.title == "First of the year"))
    assert highlight is not None
    highlight.body = "Changed."
    session.flush()
    assert fingerprint(build_annual_report(session, period, foundation="F")) != before
