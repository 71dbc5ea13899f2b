"""Downloads of every list page as CSV and XLSX: filters, visibility, formulas, access, cost."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from app.exports.formulas import safe_text
from app.exports.lists import BY_NAME, EXPORTS
from app.models import (
    AuditAction,
    AuditEvent,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    Fund,
    GrantStatus,
    ImportRun,
    ImportStatus,
    Programme,
    ProgrammeKind,
    ResearchArea,
    Role,
    TrialRegistry,
    TrialRegistryId,
)

from . import factories as f

_seq = count(1)
SECRET_DONOR = "Contessa Serbelloni"
HOSTILE = ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


def _fund(session: so.Session, name: str | None = None) -> Fund:
    fund = Fund(name=name or f"Fund {next(_seq)}")
    session.add(fund)
    session.flush()
    return fund


def _donor(session: so.Session, name: str, anonymous: bool = False) -> Donor:
    donor = Donor(name=name, kind=DonorKind.INDIVIDUAL, is_anonymous=anonymous)
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


def _world(session: so.Session, grants: int = 3) -> dict[str, Any]:
    """A little of everything every list shows, committed for the requests to see."""
    programme = Programme(name=f"Annual call {next(_seq)}", kind=ProgrammeKind.ANNUAL_CALL)
    area = ResearchArea(name=f"Area {next(_seq)}")
    session.add_all([programme, area])
    session.flush()
    host = f.organisation(session)
    pi = f.person(session, organisation_id=host.id)
    made = [
        f.grant(
            session,
            host=host,
            programme=programme,
            principal_investigator=pi,
            award_date=date(2000 + i % 5, 3, 1),
            areas=[area],
        )
        for i in range(grants)
    ]
    f.grant(
        session,
        host=host,
        status=GrantStatus.COMPLETED,
        award_date=date(2004, 1, 1),
        amount_awarded=Decimal("150000000"),
        currency="ITL",
        amount_eur=Decimal("77468.53"),
    )
    f.grant(
        session, host=host, title="Internal only grant", confidentiality=Confidentiality.INTERNAL
    )
    trial = f.trial(session, title="STEMS")
    session.add(
        TrialRegistryId(
            trial_output_id=trial.id,
            scheme=TrialRegistry.NCT,
            value=f"NCT{3269071 + next(_seq):08d}",
        )
    )
    for i in range(grants):
        f.output(session, title=f"Paper {i}")
    fund = _fund(session)
    named = _donor(session, "Mario Bianchi")
    hidden = _donor(session, SECRET_DONOR, anonymous=True)
    _donation(session, named, fund)
    _donation(
        session,
        hidden,
        fund,
        received_on=date(2011, 2, 3),
        amount=Decimal("2500.50"),
        amount_eur=Decimal("2500.50"),
    )
    session.add(
        ImportRun(
            kind="grants",
            filename="grants.csv",
            sha256="0" * 64,
            status=ImportStatus.APPLIED,
            counts={"created": 3},
        )
    )
    session.commit()
    return {"programme": programme, "area": area, "host": host, "grants": made}


def _csv(response: Any) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte order mark for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _xlsx(response: Any) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def _url(name: str, fmt: str, query: str = "") -> str:
    return BY_NAME[name].url + f".{fmt}" + (f"?{query}" if query else "")


def _page_total(client: Any, url: str) -> int:
    """The total the list page's pager shows ("1–50 of 1,234")."""
    html = client.get(url).get_data(as_text=True)
    found = re.search(r"of ([\d,]+)</span>", html)
    assert found, f"no pager total on {url}"
    return int(found.group(1).replace(",", ""))


# --------------------------------------------------------------------------- every list


@pytest.mark.parametrize("name", [e.name for e in EXPORTS])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_list_downloads(client, logged_in, session, name: str, fmt: str) -> None:
    logged_in(Role.STAFF)
    _world(session)
    response = client.get(_url(name, fmt))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{name}-" in disposition
    assert re.search(rf"{name}-\d{{4}}-\d\d-\d\d\.{fmt}", disposition), disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = _csv(response) if fmt == "csv" else _xlsx(response)
    headings = [c.heading for c in BY_NAME[name].columns]
    assert list(rows[0]) == headings
    assert len(rows) > 1 or name == "audit-log", "every list has rows in this world"


@pytest.mark.parametrize("name", [e.name for e in EXPORTS])
def test_every_list_page_links_to_its_downloads(client, logged_in, session, name: str) -> None:
    logged_in(Role.STAFF)
    _world(session)
    pages = {"research-areas": "/areas", "import-runs": "/imports", "audit-log": "/audit"}
    page_url = pages.get(name, BY_NAME[name].url.removesuffix("/export"))
    html = client.get(page_url).get_data(as_text=True)
    assert f'href="{BY_NAME[name].url}.csv' in html and f'href="{BY_NAME[name].url}.xlsx' in html


def test_links_carry_filters_and_sort_but_not_the_page(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session)
    html = client.get("/grants?status=active&sort=title&dir=asc&page=2&q=Test").get_data(
        as_text=True
    )
    link = re.search(r'href="(/grants/export\.csv\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "status=active" in link and "sort=title" in link and "dir=asc" in link
    assert "q=Test" in link and "page=" not in link


def test_xlsx_cells_are_typed(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session)
    rows = _xlsx(client.get(_url("grants", "xlsx", "sort=reference&dir=asc")))
    headings = rows[0]
    lira = next(r for r in rows[1:] if r[headings.index("Currency")] == "ITL")
    assert lira[headings.index("Amount")] == 150000000
    assert lira[headings.index("Amount (EUR)")] == pytest.approx(77468.53)
    assert lira[headings.index("Award date")] == datetime(2004, 1, 1)
    assert lira[headings.index("Status")] == "Completed"
    assert isinstance(lira[headings.index("ID")], int)
    book = openpyxl.load_workbook(io.BytesIO(client.get(_url("grants", "xlsx")).get_data()))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(row=2, column=headings.index("Award date") + 1).is_date
    assert sheet.cell(row=2, column=headings.index("Amount") + 1).number_format == "#,##0.00"


def test_csv_values_are_plain(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session)
    rows = _csv(client.get(_url("grants", "csv", "sort=reference&dir=asc")))
    headings = rows[0]
    lira = next(r for r in rows[1:] if r[headings.index("Currency")] == "ITL")
    assert lira[headings.index("Amount")] == "150000000.00"
    assert lira[headings.index("Amount (EUR)")] == "77468.53"
    assert lira[headings.index("Award date")] == "2004-01-01"
    trial = next(r for r in _csv(client.get(_url("outputs", "csv")))[1:] if r[2] == "STEMS")
    assert trial[7].startswith("NCT") and trial[6] == "Phase 1"


# --------------------------------------------------------------------------- filters, order


@pytest.mark.parametrize(
    ("list_url", "name", "query"),
    [
        ("/grants", "grants", "status=completed"),
        ("/grants", "grants", "year=2001&sort=title&dir=desc"),
        ("/grants", "grants", "q=test+grant"),
        ("/outputs", "outputs", "type=publication"),
        ("/organisations", "organisations", "kind=university"),
        ("/people", "people", "q=Anna"),
        ("/programmes", "programmes", "kind=annual_call"),
        ("/funds", "funds", "restricted=general"),
        ("/donors", "donors", "anonymous=yes"),
        ("/donations", "donations", "year=2011"),
        ("/audit", "audit-log", "action=login"),
    ],
)
def test_filtered_export_has_exactly_the_pages_rows(
    client, logged_in, session, list_url: str, name: str, query: str
) -> None:
    logged_in(Role.STAFF)
    _world(session, grants=60)  # more than one page of grants and outputs
    total = _page_total(client, f"{list_url}?{query}&page=2")
    unfiltered = _page_total(client, list_url)
    rows = _csv(client.get(_url(name, "csv", query)))[1:]
    assert len(rows) == total
    assert len(_xlsx(client.get(_url(name, "xlsx", query)))) - 1 == total
    if name in ("grants", "outputs", "donors", "donations"):  # the filter leaves some out
        assert total < unfiltered


def test_export_keeps_the_lists_order(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session, grants=12)
    rows = _csv(client.get(_url("grants", "csv", "sort=reference&dir=desc")))[1:]
    references = [r[1] for r in rows]
    assert references == sorted(references, reverse=True)
    html = client.get("/grants?sort=reference&dir=desc").get_data(as_text=True)
    assert html.index(references[0]) < html.index(references[1])


def test_the_default_order_is_the_pages_newest_first(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session, grants=6)
    dates = [r[5] for r in _csv(client.get(_url("grants", "csv")))[1:]]
    assert dates == sorted(dates, reverse=True)


def test_deleted_only_exports_the_deleted(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    world = _world(session)
    world["grants"][0].deleted_at = datetime(2020, 1, 1, tzinfo=UTC)
    session.commit()
    rows = _csv(client.get(_url("grants", "csv", "deleted=1")))[1:]
    assert [r[1] for r in rows] == [world["grants"][0].reference]


# --------------------------------------------------------------------------- formulas


def test_formulas_are_neutralised_in_csv_and_xlsx(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    host = f.organisation(session, name="=cmd|' /C calc'!A0")
    for text in HOSTILE:
        f.grant(session, host=host, title=text)
    session.commit()
    csv_rows = _csv(client.get(_url("grants", "csv")))
    xlsx_rows = _xlsx(client.get(_url("grants", "xlsx")))
    book = openpyxl.load_workbook(io.BytesIO(client.get(_url("grants", "xlsx")).get_data()))
    titles_csv = {r[2] for r in csv_rows[1:]}
    # XML reads a carriage return back as a line feed.
    titles_xlsx = {r[2].replace("\n", "\r") for r in xlsx_rows[1:]}
    for text in HOSTILE:
        assert "'" + text in titles_csv and "'" + text in titles_xlsx
    assert all(r[4] == "'=cmd|' /C calc'!A0" for r in csv_rows[1:])
    for row in book.active.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)


def test_control_characters_cannot_hide_a_formula() -> None:
    assert safe_text("\x00=1+1") == "'=1+1"
    assert safe_text("\x01=1+1") == "'=1+1"
    assert safe_text("plain, with \x0b a vertical tab") == "plain, with  a vertical tab"
    assert safe_text("a\tb\r\nc") == "a\tb\r\nc"


# --------------------------------------------------------------------------- visibility


def test_trustees_get_what_their_pages_show(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    _world(session)
    grants = _csv(client.get(_url("grants", "csv")))
    assert all("Internal only grant" not in r for r in grants)
    assert len(grants) - 1 == _page_total(client, "/grants")
    for name in ("donors", "donations"):
        for response in (client.get(_url(name, "csv")), client.get(_url(name, "xlsx"))):
            text = response.get_data()
            assert SECRET_DONOR.encode() not in text
        rows = _csv(client.get(_url(name, "csv")))
        assert "Anonymous" not in rows[0]
        assert any("Anonymous donor" in r for r in rows[1:])
    assert len(_csv(client.get(_url("donors", "csv", "q=Contessa")))) == 1  # heading only


def test_staff_see_anonymous_donors_named_and_marked(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    _world(session)
    rows = _csv(client.get(_url("donors", "csv", "anonymous=yes")))
    assert rows[0][3] == "Anonymous"
    assert [(r[1], r[3]) for r in rows[1:]] == [(SECRET_DONOR, "Yes")]
    grants = _csv(client.get(_url("grants", "csv")))
    assert any("Internal only grant" in r for r in grants)


# --------------------------------------------------------------------------- access, audit


@pytest.mark.parametrize("name", [e.name for e in EXPORTS])
def test_access_follows_the_list_page(client, logged_in, session, name: str) -> None:
    anonymous = client.get(_url(name, "csv"))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    logged_in(Role.TRUSTEE)
    expected = 200 if BY_NAME[name].access == "reader" else 403
    assert client.get(_url(name, "csv")).status_code == expected
    assert client.get(_url(name, "xlsx")).status_code == expected


def test_downloads_are_audited_with_their_filters(client, logged_in, session) -> None:
    user = logged_in(Role.TRUSTEE)
    _world(session)
    client.get(_url("grants", "xlsx", "status=active&sort=title&page=3"))
    event = session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == AuditAction.DOWNLOAD)
        .order_by(AuditEvent.id.desc())
    )
    assert event.user_id == user.id
    assert event.summary == "Export of the grants list (XLSX): status=active"


# --------------------------------------------------------------------------- cost


@pytest.mark.parametrize("name", [e.name for e in EXPORTS])
def test_query_count_does_not_grow_with_rows(
    client, logged_in, session, count_queries, name: str
) -> None:
    logged_in(Role.STAFF)
    _world(session, grants=2)
    client.get(_url(name, "csv"))  # warm up (first-request work, audit rows in the log)
    with count_queries() as few:
        small = client.get(_url(name, "csv")).get_data()
    _world(session, grants=25)
    client.get(_url(name, "csv"))  # the page's cached count is read again after a change
    with count_queries() as many:
        large = client.get(_url(name, "csv")).get_data()
    assert len(large) > len(small)
    assert many.count == few.count, many.statements


# --------------------------------------------------------------------------- grant list plans
# The grant list reads a page in one of three ways depending on how many grants match (see
# grants.queries.LARGE); whichever it takes, the rows and their order must be the same.


def _expected(grants: list[Any], sort: str, descending: bool) -> list[int]:
    def key(g: Any) -> tuple[Any, ...]:
        if sort == "institution":
            return (g.host.name, g.host.id, g.id)
        if sort == "status":
            return (g.status.value, g.award_date, g.id)
        if sort == "amount_eur":
            # Empty amounts last in both directions.
            missing = g.amount_eur is None
            amount = g.amount_eur or Decimal(0)
            return (missing, -amount if descending else amount, -g.id if descending else g.id)
        return (getattr(g, sort), g.id)

    ordered = sorted(grants, key=key, reverse=descending and sort != "amount_eur")
    return [g.id for g in ordered]


@pytest.mark.parametrize("large", [0, 10_000], ids=["large-plan", "small-plans"])
def test_grant_list_plans_agree(app, session, monkeypatch, large: int) -> None:
    from app.extensions import db
    from app.grants import queries
    from app.records.listing import ListParams
    from app.visibility import ALL_LEVELS

    monkeypatch.setattr(queries, "LARGE", large)
    hosts = [f.organisation(session, name=name) for name in ("Beta", "Alpha", "Alpha", "Gamma")]
    programme = Programme(name=f"Plans {next(_seq)}", kind=ProgrammeKind.PILOT)
    session.add(programme)
    session.flush()
    made = []
    for i in range(23):
        made.append(
            f.grant(
                session,
                host=hosts[i % 4],
                title=f"Title {(i * 7) % 23:02d}",
                status=[GrantStatus.ACTIVE, GrantStatus.COMPLETED, GrantStatus.AWARDED][i % 3],
                award_date=date(2001 + i % 4, 1 + i % 12, 1),
                amount_eur=None if i % 5 == 0 else Decimal(1000 + (i * 37) % 500),
                programme=programme if i % 2 else None,
            )
        )
    session.commit()
    with app.app_context():
        for sort in queries.SORTS:
            for descending in (False, True):
                for filters in ({}, {"status": "active"}, {"year": "2002"}, {"programme": ""}):
                    wanted = dict(filters)
                    if "programme" in wanted:
                        wanted["programme"] = str(programme.id)
                    chosen = [
                        g
                        for g in made
                        if ("status" not in wanted or g.status.value == wanted["status"])
                        and ("year" not in wanted or g.award_date.year == int(wanted["year"]))
                        and ("programme" not in wanted or g.programme_id == programme.id)
                    ]
                    expected = _expected(chosen, sort, descending)
                    got = []
                    for page in (1, 2, 3, 4):
                        params = ListParams(
                            sort=sort,
                            descending=descending,
                            page=page,
                            per_page=6,
                            filters=wanted,
                        )
                        result = queries.grant_list(db.session, params, ALL_LEVELS)
                        assert result.total == len(chosen)
                        if page <= result.pages:
                            got.extend(row.id for row in result.items)
                    assert got == expected, (sort, descending, wanted)
                    params = ListParams(sort=sort, descending=descending, filters=wanted)
                    exported = [
                        row.id for row in queries.grant_rows(db.session, params, ALL_LEVELS)
                    ]
                    assert exported == expected, ("export", sort, descending, wanted)
        db.session.rollback()


def test_filter_years_are_exact(app, session) -> None:
    from app.extensions import db
    from app.grants.queries import filter_choices

    kept = [f.grant(session, award_date=date(year, 6, 1)) for year in (1988, 1990, 1990, 2025)]
    gone = f.grant(session, award_date=date(1999, 1, 1))
    gone.deleted_at = datetime(2020, 1, 1, tzinfo=UTC)
    session.commit()
    with app.app_context():
        assert filter_choices(db.session).years == [2025, 1990, 1988]
        db.session.rollback()
    assert kept
