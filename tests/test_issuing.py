"""Issuing reports: stored PDFs, versions, byte-identical downloads, fingerprints, the list."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import orm as so

from app.models import AuditAction, AuditEvent, IssuedReport, Role, User
from app.reports import issuing
from app.reports.issuing import ANNUAL, fingerprint, issue_report, parameters_key
from reports.annual import build_annual_report, default_foundation_name
from reports.annual_data import Period

from . import factories

YEAR = 2023
FOUNDATION = "Fondazione di prova"
# Every byte value, NUL and invalid UTF-8 included: storage must not touch any of them.
BINARY_TAIL = bytes(range(256)) * 4


def fake_pdf(label: str) -> bytes:
    """Bytes that pass for a PDF and exercise binary storage; distinct per label."""
    return b"%PDF-1.7\n%" + label.encode() + b"\n" + BINARY_TAIL + b"\n%%EOF\n"


@dataclass(frozen=True)
class Figures:
    """A stand-in for a report's plain data object."""

    year: int
    total: Decimal
    generated_at: datetime
    is_draft: bool


def figures(total: str = "1000.00", **overrides: Any) -> Figures:
    values: dict[str, Any] = {
        "year": YEAR,
        "total": Decimal(total),
        "generated_at": datetime(2024, 1, 1, tzinfo=UTC),
        "is_draft": True,
    }
    values.update(overrides)
    return Figures(**values)


def issue(
    session: so.Session, user: User, start: int = YEAR, end: int | None = None, label: str = "x"
) -> IssuedReport:
    """Issue fake bytes as the annual report of a year or range."""
    end = end or start
    params = {"start_year": start, "end_year": end}
    title = f"Annual impact report {start}" + ("" if start == end else f"–{end}")
    return issue_report(
        session, ANNUAL, params, fake_pdf(label), title=title, year=end, user=user, data=figures()
    )


@pytest.fixture
def year_with_data(session: so.Session) -> so.Session:
    """Two grants awarded in YEAR: a year the annual report can be issued for."""
    host = factories.organisation(session, name="Istituto di prova")
    for day in (1, 2):
        factories.grant(session, award_date=date(YEAR, 3, day), host=host)
    session.commit()
    return session


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- through the web


def test_issue_twice_keeps_both_versions_downloadable_byte_for_byte(
    app: Flask, year_with_data: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    session = year_with_data
    staff = logged_in(Role.STAFF)
    for expected in (1, 2):
        # Issuing runs as a background job (immediate in tests); its page tells the version.
        response = client.post(f"/reports/annual/{YEAR}/issue")
        assert response.status_code == 302
        assert "/reports/jobs/" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"Annual impact report {YEAR} issued as version {expected}." in page

    session.expire_all()
    issued = session.scalars(sa.select(IssuedReport).order_by(IssuedReport.version)).all()
    assert [r.version for r in issued] == [1, 2]
    for report in issued:
        assert report.kind == ANNUAL and report.parameters_key == f"annual:{YEAR}"
        assert report.parameters["start_year"] == report.parameters["end_year"] == YEAR
        assert report.title == f"Annual impact report {YEAR}" and report.year == YEAR
        assert report.filename == f"annual-report-{YEAR}-v{report.version}.pdf"
        assert (report.issued_by_id, report.issued_by) == (staff.id, staff.email)
        assert report.size_bytes == len(report.pdf) and report.sha256 == sha256(report.pdf)
    # Nothing changed in between: the same data, whatever the PDFs' timestamps.
    assert issued[0].data_fingerprint == issued[1].data_fingerprint
    foundation = default_foundation_name(session, app.config["FOUNDATION_NAME"])
    rebuilt = build_annual_report(session, Period(YEAR, YEAR), foundation=foundation)
    assert issued[0].data_fingerprint == fingerprint(rebuilt)

    for report in issued:
        response = client.get(f"/reports/issued/{report.id}.pdf")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert sha256(response.data) == report.sha256 == sha256(report.pdf)
        assert response.data == report.pdf
        disposition = response.headers["Content-Disposition"]
        assert disposition == f'attachment; filename="{report.filename}"'
        assert response.headers["ETag"] == f'"{report.sha256}"'
        assert response.headers["Cache-Control"] == "private"
        # The browser's copy is still good: no body resent.
        again = client.get(
            f"/reports/issued/{report.id}.pdf", headers={"If-None-Match": response.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b""

        # The archive copy (PDF/A-3u with the figures as CSV) is linked and downloads exactly.
        assert report.archive_pdf and report.archive_sha256 == sha256(report.archive_pdf)
        archive = client.get(f"/reports/issued/{report.id}-pdfa.pdf")
        assert archive.status_code == 200 and archive.data == report.archive_pdf
        assert archive.headers["ETag"] == f'"{report.archive_sha256}"'
        attached = PdfReader(io.BytesIO(archive.data)).attachments
        assert attached and all(name.endswith(".csv") for name in attached)
    listing = client.get("/reports").get_data(as_text=True)
    assert f"/reports/issued/{issued[1].id}-pdfa.pdf" in listing
    assert client.get("/reports/issued/999999-pdfa.pdf").status_code == 404

    text = " ".join(
        (page.extract_text() or "") for page in PdfReader(io.BytesIO(issued[1].pdf)).pages
    )
    assert f"Annual impact report {YEAR}" in " ".join(text.split())
    assert "DRAFT" not in text.upper()

    events = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.ISSUE).order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_type, e.entity_id, e.user_id) for e in events] == [
        ("issued_reports", r.id, staff.id) for r in issued
    ]
    assert events[1].changes["sha256"] == [None, issued[1].sha256]


def test_the_draft_download_still_carries_the_draft_mark(
    year_with_data: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    logged_in(Role.STAFF)
    job_page = client.get(f"/reports/annual/{YEAR}.pdf", follow_redirects=True)
    download = re.search(r'href="(/reports/jobs/\d+/draft\.pdf)"', job_page.get_data(as_text=True))
    assert download
    draft = client.get(download.group(1)).data
    pages = PdfReader(io.BytesIO(draft)).pages
    assert all("DRAFT" in (page.extract_text() or "").upper() for page in pages)


def test_trustees_download_issued_reports_but_cannot_issue(
    session: so.Session, client: FlaskClient, logged_in: Any, make_user: Any
) -> None:
    staff = make_user(Role.STAFF)
    factories.grant(session, award_date=date(YEAR, 5, 5))
    report = issue(session, staff, label="trustees")
    session.commit()
    trustee = logged_in(Role.TRUSTEE)

    page = client.get("/reports").get_data(as_text=True)
    assert f"/reports/issued/{report.id}.pdf" in page
    assert 'name="year"' not in page and "Issue the report" not in page
    response = client.get(f"/reports/issued/{report.id}.pdf")
    assert response.status_code == 200
    assert response.data == fake_pdf("trustees")
    assert sha256(response.data) == report.sha256 == sha256(fake_pdf("trustees"))

    assert client.post(f"/reports/annual/{YEAR}/issue").status_code == 403
    assert client.get(f"/reports/annual/{YEAR}/issue").status_code == 403
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(IssuedReport.id))) == 1

    downloads = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DOWNLOAD)
    ).all()
    assert [(e.entity_type, e.entity_id, e.user_id) for e in downloads] == [
        ("issued_reports", report.id, trustee.id)
    ]
    assert downloads[0].summary == f"Annual impact report {YEAR}, version 1 (issued PDF)"


def test_downloads_need_a_login_and_an_existing_report(
    session: so.Session, client: FlaskClient, logged_in: Any, make_user: Any
) -> None:
    report = issue(session, make_user(Role.STAFF))
    session.commit()
    response = client.get(f"/reports/issued/{report.id}.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    logged_in(Role.TRUSTEE)
    assert client.get(f"/reports/issued/{report.id + 1}.pdf").status_code == 404


def test_the_form_asks_before_issuing(
    year_with_data: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    session = year_with_data
    staff = logged_in(Role.STAFF)
    index = client.get("/reports").get_data(as_text=True)
    assert 'name="format" value="issue"' in index
    response = client.get(f"/reports/annual?year={YEAR}&format=issue")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reports/annual/{YEAR}/issue")
    page = client.get(f"/reports/annual/{YEAR}/issue").get_data(as_text=True)
    assert f"Issue the {YEAR} report" in page
    assert f'action="/reports/annual/{YEAR}/issue"' in page
    assert "it will be version 1" in page

    issue(session, staff, label="earlier")
    session.commit()
    page = client.get(f"/reports/annual/{YEAR}/issue").get_data(as_text=True)
    assert "Issuing it again adds version 2" in page
    assert "/reports/issued/" in page
    preview = client.get(f"/reports/annual/{YEAR}/preview").get_data(as_text=True)
    assert f'href="/reports/annual/{YEAR}/issue"' in preview

    # Years before the first grant (or in the future) cannot be issued.
    for year in (YEAR - 1, date.today().year + 1):
        assert client.get(f"/reports/annual/{year}/issue").status_code == 404
        assert client.post(f"/reports/annual/{year}/issue").status_code == 404
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(IssuedReport.id))) == 1


# --------------------------------------------------------------------------- the list


def test_the_list_groups_reports_by_year_with_older_versions_under_the_newest(
    session: so.Session, client: FlaskClient, logged_in: Any, make_user: Any
) -> None:
    staff = make_user(Role.STAFF)
    older = issue(session, staff, 2022, label="2022")
    first = issue(session, staff, 2023, label="2023 v1")
    second = issue(session, staff, 2023, label="2023 v2")
    decade = issue(session, staff, 2014, 2023, label="decade")
    session.commit()
    logged_in(Role.TRUSTEE)
    page = client.get("/reports").get_data(as_text=True)

    def at(text: str) -> int:
        assert text in page, text
        return page.index(text)

    def link(report: IssuedReport) -> int:
        return at(f'href="/reports/issued/{report.id}.pdf"')

    assert at('id="issued-2023"') < at('id="issued-2022"')
    # 2023: the range first (by key), then the year's report: newest version, earlier below.
    assert at('id="issued-2023"') < link(decade) < link(second) < link(first)
    assert link(first) < at('id="issued-2022"') < link(older)
    assert page.count("Earlier version") == 1
    assert "Annual impact report 2014–2023" in page
    assert f"{second.sha256[:12]}…" in page and second.sha256 in page  # prefix, full in title
    assert f'download="{second.filename}"' in page
    assert staff.email in page


def test_the_list_does_not_grow_in_queries_nor_load_the_pdfs(
    session: so.Session, client: FlaskClient, logged_in: Any, make_user: Any, count_queries: Any
) -> None:
    staff = make_user(Role.STAFF)
    factories.grant(session, award_date=date(2010, 1, 1))
    issue(session, staff, 2020)
    session.commit()
    logged_in(Role.STAFF)
    with count_queries() as few:
        assert client.get("/reports").status_code == 200
    for year in range(2010, 2020):
        for _ in range(3):
            issue(session, staff, year, label=str(year))
    session.commit()
    with count_queries() as many:
        page = client.get("/reports")
    assert (
        page.status_code == 200
        and page.get_data(as_text=True).count('href="/reports/issued/') == 31
    )
    assert many.count == few.count <= 6
    listing = [s for s in many.statements if "FROM issued_reports" in s]
    assert listing, many.statements
    # IssuedReport.pdf is deferred and the listing names its columns: the bytes stay put.
    assert not any(re.search(r"issued_reports\.pdf\b", s) for s in many.statements)
    with count_queries() as form:
        assert client.get("/reports/annual/2019/issue").status_code == 200
    assert not any(re.search(r"issued_reports\.pdf\b", s) for s in form.statements)


# --------------------------------------------------------------------------- services


def test_versions_count_per_report(session: so.Session, make_user: Any) -> None:
    staff = make_user(Role.STAFF)
    a1 = issue(session, staff, 2023, label="a1")
    b1 = issue(session, staff, 2022, label="b1")
    a2 = issue(session, staff, 2023, label="a2")
    r1 = issue(session, staff, 2015, 2024, label="r1")
    assert (a1.version, b1.version, a2.version, r1.version) == (1, 1, 2, 1)
    assert r1.parameters_key == "annual:2015-2024"
    assert r1.filename == "annual-report-2015-2024-v1.pdf"
    assert a1.pdf == fake_pdf("a1") and a1.sha256 == sha256(fake_pdf("a1"))
    assert a1.size_bytes == len(fake_pdf("a1"))
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == AuditAction.ISSUE, AuditEvent.entity_id == a2.id
        )
    )
    assert event is not None and event.entity_type == "issued_reports"
    assert event.entity_version == 2 and event.actor == staff.email
    assert event.changes["data_fingerprint"] == [None, fingerprint(figures())]


def test_parameters_key() -> None:
    assert parameters_key(ANNUAL, {"start_year": 2023, "end_year": 2023}) == "annual:2023"
    assert parameters_key(ANNUAL, {"start_year": 2015, "end_year": 2024}) == "annual:2015-2024"
    assert parameters_key("trial", {"id": 12}) == "trial:12"
    assert issuing.annual_key(Period(2015, 2024)) == "annual:2015-2024"


def test_only_pdfs_are_issued(session: so.Session, make_user: Any) -> None:
    with pytest.raises(ValueError, match="PDF"):
        issue_report(
            session,
            ANNUAL,
            {"start_year": YEAR, "end_year": YEAR},
            b"<html>not a pdf</html>",
            title="x",
            year=YEAR,
            user=make_user(Role.STAFF),
            data=figures(),
        )


def test_a_version_taken_meanwhile_is_retried(
    session: so.Session, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = make_user(Role.STAFF)
    issue(session, staff, label="first")
    real = issuing.next_version
    stale = iter([1])  # what a concurrent request read before the first one committed

    def racing(*args: Any) -> int:
        return next(stale, None) or real(*args)

    monkeypatch.setattr(issuing, "next_version", racing)
    again = issue(session, staff, label="second")
    assert again.version == 2
    versions = session.scalars(sa.select(IssuedReport.version).order_by(IssuedReport.version))
    assert list(versions) == [1, 2]


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_canonical_json_of_the_data_only() -> None:
    base = fingerprint(figures())
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    # When and in which state the object was built is not data.
    later = figures(generated_at=datetime(2030, 6, 1, tzinfo=UTC), is_draft=False)
    assert fingerprint(later) == base
    assert fingerprint(figures("1000.01")) != base
    assert fingerprint(figures(year=YEAR + 1)) != base


def test_fingerprint_changes_when_a_grant_is_added_and_not_otherwise(
    year_with_data: so.Session,
) -> None:
    session = year_with_data
    period = Period(YEAR, YEAR)

    def build(**options: Any) -> str:
        return fingerprint(build_annual_report(session, period, foundation=FOUNDATION, **options))

    before = build()
    assert build(is_draft=False, now=datetime(2031, 1, 1, tzinfo=UTC)) == before
    factories.grant(session, award_date=date(YEAR, 7, 1), amount_eur=Decimal("12345.67"))
    session.flush()
    after = build()
    assert after != before
    assert build() == after
