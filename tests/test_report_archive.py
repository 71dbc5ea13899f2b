"""Archive copies: PDF/A-3u with the report's figures attached as CSV, stored when issuing.

Each archive PDF is opened with pypdf: it must declare PDF/A-3u in its XMP,
embed one CSV file per figure table (associated with the document as its
data), and every figure in those files must equal the figure printed in the
PDF and the SQL aggregate computed here independently of the report code.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import re
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy import orm as so

from app.demo import find_stems_trial
from app.lineage.queries import lineage
from app.models import (
    Confidentiality,
    Donor,
    Fund,
    Grant,
    GrantStatus,
    Highlight,
    IssuedReport,
    Role,
    User,
)
from app.reports.issuing import archive_download, issue_annual_report, issue_report
from reports.annual import TRUSTEE_LEVELS, annual_archive_pdf, annual_figures, build_annual_report
from reports.annual_data import Period
from reports.archive import FigureTable, csv_text, plain_cell
from reports.dossier import build_dossier, dossier_archive_pdf, dossier_figures
from reports.statement import (
    build_donor_statement,
    build_fund_statement,
    statement_archive_pdf,
    statement_figures,
)
from reports.trial import build_trial_report, trial_archive_pdf, trial_figures

from . import factories

YEAR = 2023
FIRST, LAST = date(YEAR, 1, 1), date(YEAR, 12, 31)
VISIBLE = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)


def quiet(_: str) -> None:
    """An echo that prints nothing."""


def euros(value: Decimal) -> str:
    """The report's money format, written independently: 'EUR 1,234.50'."""
    return f"EUR {value:,.2f}"


def pdf_text(reader: PdfReader) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def attached(reader: PdfReader) -> dict[str, list[dict[str, str]]]:
    """Every embedded CSV file, parsed: {file name: rows as dicts}."""
    files = {}
    for name, contents in reader.attachments.items():
        assert len(contents) == 1, name
        files[name] = list(csv.DictReader(io.StringIO(contents[0].decode("utf-8"))))
    return files


def check_pdfa3u(reader: PdfReader, names: list[str]) -> None:
    """PDF/A-3u as declared in the XMP, and each file associated with the document as data."""
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    part = re.search(r'pdfaid:part(?:="|>)(\d)', xmp)
    conformance = re.search(r'pdfaid:conformance(?:="|>)([A-Za-z])', xmp)
    assert part and part.group(1) == "3", xmp[:500]
    assert conformance and conformance.group(1) == "U"
    assert reader.pdf_header == "%PDF-1.7"
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert "/Encrypt" not in reader.trailer
    specs = [reference.get_object() for reference in root["/AF"]]
    assert sorted(spec["/UF"] for spec in specs) == sorted(names)  # each file listed once
    for spec in specs:
        assert spec["/AFRelationship"] == "/Data"
        assert spec["/Desc"]
        stream = spec["/EF"]["/F"].get_object()
        assert stream["/Subtype"] == "/text/csv"
        assert stream["/Params"]["/ModDate"]


# --------------------------------------------------------------------------- annual report


def sql_figures(session: so.Session) -> dict[str, Any]:
    counted = sa.and_(
        Grant.deleted_at.is_(None),
        Grant.confidentiality.in_(VISIBLE),
        Grant.status != GrantStatus.WITHDRAWN,
    )
    in_year = Grant.award_date.between(FIRST, LAST)
    count, total, institutions = session.execute(
        sa.select(
            sa.func.count(Grant.id),
            sa.func.sum(Grant.amount_eur),
            sa.func.count(sa.distinct(Grant.host_organisation_id)),
        ).where(counted, in_year)
    ).one()
    cumulative_count, cumulative = session.execute(
        sa.select(sa.func.count(Grant.id), sa.func.sum(Grant.amount_eur)).where(
            counted, Grant.award_date <= LAST
        )
    ).one()
    year = sa.extract("year", Grant.award_date)
    by_year = {
        int(y): (n, amount)
        for y, n, amount in session.execute(
            sa.select(year, sa.func.count(Grant.id), sa.func.sum(Grant.amount_eur))
            .where(counted, Grant.award_date <= LAST)
            .group_by(year)
        )
    }
    references = session.scalars(
        sa.select(Grant.reference).where(counted, in_year).order_by(Grant.reference)
    ).all()
    return {
        "count": count,
        "total": total,
        "institutions": institutions,
        "cumulative_count": cumulative_count,
        "cumulative": cumulative,
        "by_year": by_year,
        "references": list(references),
    }


def test_annual_archive_is_pdfa3u_and_its_csv_figures_are_the_pdfs(demo: so.Session) -> None:
    report = build_annual_report(demo, Period(YEAR, YEAR), foundation="F", is_draft=False)
    pdf = annual_archive_pdf(report)
    reader = PdfReader(io.BytesIO(pdf))
    names = [table.filename for table in annual_figures(report)]
    check_pdfa3u(reader, names)
    files = attached(reader)
    assert sorted(files) == sorted(names)
    assert {"key-figures.csv", "funding-by-year.csv", "trial-pathways.csv", "register.csv"} <= set(
        files
    )
    text = pdf_text(reader)
    want = sql_figures(demo)

    key = {row["figure"]: row["value"] for row in files["key-figures.csv"]}
    assert int(key["grants_awarded"]) == want["count"]
    assert Decimal(key["awarded_eur"]) == want["total"]
    assert int(key["institutions_funded"]) == want["institutions"]
    assert int(key["grants_to_date"]) == want["cumulative_count"]
    assert Decimal(key["cumulative_eur"]) == want["cumulative"]
    lede = (
        f"In {YEAR} the foundation awarded {key['grants_awarded']} grants worth "
        f"{euros(Decimal(key['awarded_eur']))} to {key['institutions_funded']} institutions; "
        f"{key['grants_active']} grants were active"
    )
    assert lede in text
    assert f"grants worth {euros(Decimal(key['cumulative_eur']))}" in text
    assert f"Clinical trials active in {YEAR} {key['trials_active']}" in text

    years = {int(row["year"]): row for row in files["funding-by-year.csv"]}
    assert sorted(years) == list(range(min(want["by_year"]), YEAR + 1))  # gaps as zero rows
    for year, (count, amount) in want["by_year"].items():
        assert (int(years[year]["grants"]), Decimal(years[year]["amount_eur"])) == (count, amount)
    for year in range(YEAR - 4, YEAR + 1):  # the years the PDF's table prints
        row = years[year]
        assert f"{year} {row['grants']} {euros(Decimal(row['amount_eur']))}" in text
    assert [row["in_period"] for row in files["funding-by-year.csv"]].count("true") == 1

    for name in ("funding-by-programme.csv", "funding-by-area.csv", "funding-by-institution.csv"):
        rows = files[name]
        assert rows, name
        if name != "funding-by-area.csv":  # a grant with several areas counts in each
            assert sum(Decimal(row["amount_eur"]) for row in rows) == want["total"], name
            assert sum(int(row["grants"]) for row in rows) == want["count"], name
        for row in rows:  # each bar of the chart is labelled with its amount
            assert f"EUR {Decimal(row['amount_eur']):,.0f}" in text, (name, row)

    stems = lineage(demo, find_stems_trial(demo), TRUSTEE_LEVELS).summary
    pathway = next(row for row in files["trial-pathways.csv"] if row["trial"] == "STEMS")
    assert int(pathway["grants"]) == stems.grant_count
    assert Decimal(pathway["total_awarded_eur"]) == stems.total_awarded_eur
    assert (
        f"Total funding behind STEMS ({pathway['grants']} grants) "
        f"{euros(Decimal(pathway['total_awarded_eur']))}"
    ) in text
    stems_grants = [row for row in files["trial-pathway-grants.csv"] if row["trial"] == "STEMS"]
    assert len(stems_grants) == stems.grant_count
    assert all(row["grant"] in text for row in stems_grants)

    register = files["register.csv"]
    assert sorted(row["reference"] for row in register) == want["references"]
    assert sum(Decimal(row["amount_eur"]) for row in register) == want["total"]
    assert all(row["reference"] in text for row in register)

    outputs = {row["type"]: row for row in files["outputs-by-type.csv"]}
    publication = outputs["Publication"]
    assert f"Publication {publication['in_period']} {publication['to_end_of_period']}" in text


def test_an_archive_without_the_register_attaches_no_register(demo: so.Session) -> None:
    report = build_annual_report(
        demo, Period(2015, 2024), foundation="F", include_register=False, is_draft=False
    )
    names = [table.filename for table in annual_figures(report)]
    assert "register.csv" not in names and "funding-by-programme.csv" in names
    programme = next(t for t in annual_figures(report) if t.filename == "funding-by-programme.csv")
    assert programme.header[0] == "programme_kind"  # across years, programmes by kind


# --------------------------------------------------------------------------- other reports


def test_trial_archive(demo: so.Session) -> None:
    report = build_trial_report(demo, find_stems_trial(demo), foundation="F", is_draft=False)
    reader = PdfReader(io.BytesIO(trial_archive_pdf(report)))
    names = [table.filename for table in trial_figures(report)]
    check_pdfa3u(reader, names)
    files = attached(reader)
    text = pdf_text(reader)
    (pathway,) = files["trial-pathways.csv"]
    assert euros(Decimal(pathway["total_awarded_eur"])) in text
    assert f"The {pathway['grants']} grants behind STEMS" in text
    assert len(files["earlier-outputs.csv"]) == len(report.upstream)


def test_dossier_archive(demo: so.Session) -> None:
    grant = demo.scalars(
        sa.select(Grant).where(Grant.reference == "FMR-2014-001", Grant.deleted_at.is_(None))
    ).one()
    dossier = build_dossier(demo, grant.id, foundation="F", is_draft=False)
    reader = PdfReader(io.BytesIO(dossier_archive_pdf(dossier)))
    check_pdfa3u(reader, [table.filename for table in dossier_figures(dossier)])
    files = attached(reader)
    text = pdf_text(reader)
    facts = {row["field"]: row["value"] for row in files["grant.csv"]}
    assert facts["reference"] == "FMR-2014-001"
    assert Decimal(facts["amount_eur"]) == grant.amount_eur
    assert euros(Decimal(facts["paid_eur"])) in text
    assert len(files["payments.csv"]) == len(dossier.money.payments)
    trials = {row["trial"] for row in files["trials-downstream.csv"]}
    assert "STEMS" in trials


def test_statement_archives(demo: so.Session) -> None:
    donor_id = demo.scalar(
        sa.select(Donor.id).where(Donor.is_anonymous.is_(True), Donor.deleted_at.is_(None))
    )
    fund_id = demo.scalar(sa.select(Fund.id).where(Fund.deleted_at.is_(None)).order_by(Fund.id))
    assert donor_id is not None and fund_id is not None
    donor = build_donor_statement(demo, donor_id, foundation="F", is_draft=False)
    fund = build_fund_statement(demo, fund_id, foundation="F", is_draft=False)
    for statement in (donor, fund):
        reader = PdfReader(io.BytesIO(statement_archive_pdf(statement)))
        check_pdfa3u(reader, [table.filename for table in statement_figures(statement)])
        files = attached(reader)
        summary = {row["figure"]: row["value"] for row in files["summary.csv"]}
        assert int(summary["grants"]) == statement.totals.grants
        assert euros(Decimal(summary["grants_total_awarded_eur"])) in pdf_text(reader)
    donor_files = {table.filename: table for table in statement_figures(donor)}
    assert "funds.csv" in donor_files
    # The anonymous donor is unnamed in the statement, so in its CSV files too.
    assert all(
        donor.name not in csv_text(t) or donor.name == "Anonymous donor"
        for t in donor_files.values()
    )


# --------------------------------------------------------------------------- CSV text


def test_csv_cells_are_exact_and_text_cannot_become_a_formula() -> None:
    assert plain_cell(Decimal("1E+3")) == "1000"
    assert plain_cell(Decimal("1234.50")) == "1234.50"
    assert plain_cell(None) == "" and plain_cell(True) == "true" and plain_cell(-5) == "-5"
    assert plain_cell(date(2023, 1, 11)) == "2023-01-11"
    for hostile in ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx"):
        assert plain_cell(hostile) == "'" + hostile
    table = FigureTable("t.csv", "d", ("a", "b"), (("x, y", 'say "hi"'),))
    assert csv_text(table) == 'a,b\r\n"x, y","say ""hi"""\r\n'


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_hostile_text_attaches_nothing_and_stays_inert_in_the_csv(
    session: so.Session, server: tuple[str, list[str]]
) -> None:
    base, seen = server
    attachment = '<link rel="attachment" href="file:///etc/hostname">'
    factories.grant(
        session,
        reference="EVIL-1",
        title=f'=HYPERLINK("{base}/x") {attachment} <img src="{base}/p.png">',
        award_date=date(YEAR, 5, 5),
        amount_eur=Decimal("10.00"),
    )
    session.add(Highlight(year=YEAR, position=1, title=attachment, body=f"@import url({base})"))
    session.flush()
    report = build_annual_report(session, Period(YEAR, YEAR), foundation=attachment)
    reader = PdfReader(io.BytesIO(annual_archive_pdf(report)))
    assert seen == []
    assert sorted(reader.attachments) == sorted(t.filename for t in annual_figures(report))
    (row,) = attached(reader)["register.csv"]
    assert row["title"].startswith("'=HYPERLINK(")
    assert attachment in " ".join((p.extract_text() or "") for p in reader.pages)


# --------------------------------------------------------------------------- issuing


def test_issuing_stores_the_archive_copy_beside_the_pdf(demo: so.Session, make_user: Any) -> None:
    staff: User = make_user(Role.STAFF)
    user = demo.get(User, staff.id)
    assert user is not None
    issued = issue_annual_report(
        demo, Period(YEAR, YEAR), foundation="F", user=user, include_register=False
    )
    demo.commit()
    demo.expire_all()
    row = demo.get(IssuedReport, issued.id)
    assert row is not None and row.archive_pdf is not None
    assert row.archive_sha256 == hashlib.sha256(row.archive_pdf).hexdigest()
    assert row.archive_size_bytes == len(row.archive_pdf)
    assert row.archive_pdf != row.pdf
    archive = archive_download(demo, issued.id)
    assert archive is not None
    assert archive.filename == f"annual-report-{YEAR}-v1-pdfa.pdf"
    assert archive.pdf == row.archive_pdf and archive.sha256 == row.archive_sha256
    reader = PdfReader(io.BytesIO(archive.pdf))
    assert "key-figures.csv" in reader.attachments
    assert not any("DRAFT" in (page.extract_text() or "").upper() for page in reader.pages)
    # The stored PDF trustees download is the plain one: no embedded files.
    assert not PdfReader(io.BytesIO(row.pdf)).attachments
    assert archive_download(demo, 999_999) is None


def test_reports_issued_without_an_archive_have_none(session: so.Session, make_user: Any) -> None:
    staff: User = make_user(Role.STAFF)
    user = session.get(User, staff.id)
    assert user is not None
    issued = issue_report(
        session,
        "trial",
        {"id": 1},
        b"%PDF-1.7 minimal",
        title="From funding to X",
        year=None,
        user=user,
        data={"x": 1},
    )
    session.flush()
    assert issued.archive_pdf is None and issued.archive_sha256 is None
    assert archive_download(session, issued.id) is None
    with pytest.raises(ValueError, match="archive copy must be a PDF"):
        issue_report(
            session,
            "trial",
            {"id": 1},
            b"%PDF-1.7 minimal",
            title="From funding to X",
            year=None,
            user=user,
            data={"x": 1},
            archive_bytes=b"<html>",
        )
