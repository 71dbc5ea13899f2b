"""Reports: the annual impact report and the trial pathway report, opened as PDFs.

The figures printed in the PDF are checked against SQL aggregates computed
here independently of ``reports.annual_data``; pages are also rendered to PNG
in ``test-artifacts/reports/`` for people to look at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import orm as so

from app.demo import STEMS_NCT, find_stems_trial
from app.lineage.queries import lineage
from app.models import (
    ClinicalTrial,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    Fund,
    Grant,
    GrantStatus,
    Output,
    OutputType,
    Role,
)
from reports.annual import (
    TRUSTEE_LEVELS,
    annual_html,
    annual_pdf,
    build_annual_report,
    period_from_text,
)
from reports.annual_data import Period
from reports.trial import build_trial_report, trial_pdf

from . import factories

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reports"
FOUNDATION = "Fondazione di prova"
YEAR = 2023


def quiet(_: str) -> None:
    """An echo that prints nothing."""


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def outline_titles(outline: Any) -> list[str]:
    titles: list[str] = []
    for item in outline:
        if isinstance(item, list):
            titles += outline_titles(item)
        else:
            titles.append(item.title)
    return titles


def euros(value: Decimal) -> str:
    """The report's money format, written independently: 'EUR 1,234.50'."""
    return f"EUR {value:,.2f}"


def save_artifacts(name: str, pdf: bytes) -> None:
    """Keep the PDF and PNGs of its pages for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        for old in ARTIFACTS.glob(f"{name}-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / name)], check=True
        )


# --------------------------------------------------------------------------- SQL, independently

VISIBLE = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
FIRST, LAST = date(YEAR, 1, 1), date(YEAR, 12, 31)


def counted_grant() -> sa.ColumnElement[bool]:
    return sa.and_(
        Grant.deleted_at.is_(None),
        Grant.confidentiality.in_(VISIBLE),
        Grant.status != GrantStatus.WITHDRAWN,
    )


def expected_figures(session: so.Session) -> dict[str, Any]:
    in_year = Grant.award_date.between(FIRST, LAST)
    count, total, institutions = session.execute(
        sa.select(
            sa.func.count(Grant.id),
            sa.func.sum(Grant.amount_eur),
            sa.func.count(sa.distinct(Grant.host_organisation_id)),
        ).where(counted_grant(), in_year)
    ).one()
    active = session.scalar(
        sa.select(sa.func.count(Grant.id)).where(
            counted_grant(),
            sa.func.coalesce(Grant.start_date, Grant.award_date) <= LAST,
            sa.or_(
                Grant.end_date >= FIRST,
                sa.and_(
                    Grant.end_date.is_(None),
                    Grant.status.in_([GrantStatus.AWARDED, GrantStatus.ACTIVE]),
                ),
            ),
        )
    )
    cumulative_count, cumulative = session.execute(
        sa.select(sa.func.count(Grant.id), sa.func.sum(Grant.amount_eur)).where(
            counted_grant(), Grant.award_date <= LAST
        )
    ).one()
    live_output = sa.and_(Output.deleted_at.is_(None), Output.confidentiality.in_(VISIBLE))
    publications = session.execute(
        sa.select(
            sa.func.count(Output.id).filter(Output.output_date.between(FIRST, LAST)),
            sa.func.count(Output.id),
        ).where(live_output, Output.type == OutputType.PUBLICATION, Output.output_date <= LAST)
    ).one()
    trials_to_date = session.scalar(
        sa.select(sa.func.count(Output.id))
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(
            live_output,
            sa.func.coalesce(
                ClinicalTrial.start_date, ClinicalTrial.first_patient_date, Output.output_date
            )
            <= LAST,
        )
    )
    return {
        "count": count,
        "total": total,
        "institutions": institutions,
        "active": active,
        "cumulative_count": cumulative_count,
        "cumulative": cumulative,
        "publications": tuple(publications),
        "trials_to_date": trials_to_date,
    }


# --------------------------------------------------------------------------- the annual PDF


def test_annual_report_pdf_matches_the_database(demo: so.Session) -> None:
    report = build_annual_report(demo, Period(YEAR, YEAR), foundation=FOUNDATION)
    pdf = annual_pdf(report)
    save_artifacts(f"annual-{YEAR}", pdf)
    pages = pdf_pages(pdf)
    text = " ".join(pages)
    want = expected_figures(demo)

    assert 8 <= len(pages) <= 30
    # Key figures: the summary sentence and the boxes carry every one of them.
    key_page = next(page for page in pages if "Key figures" in page and "Outputs by type" in page)
    assert (
        f"In {YEAR} the foundation awarded {want['count']} grants worth {euros(want['total'])} "
        f"to {want['institutions']} institutions; {want['active']} grants were active"
    ) in key_page
    assert (
        f"it has awarded {want['cumulative_count']} grants worth {euros(want['cumulative'])}"
        in key_page
    )
    in_year, to_date = want["publications"]
    assert f"Publication {in_year} {to_date}" in key_page
    assert re.search(rf"All trials \d+ {want['trials_to_date']}\b", key_page)

    # The STEMS pathway, with the lineage's own figures.
    stems = lineage(demo, find_stems_trial(demo), TRUSTEE_LEVELS).summary
    assert f"The {stems.grant_count} grants behind STEMS" in text
    assert (
        f"Total funding behind STEMS ({stems.grant_count} grants) {euros(stems.total_awarded_eur)}"
    ) in text
    assert STEMS_NCT in text

    # The register appendix lists every grant of the year.
    references = demo.scalars(
        sa.select(Grant.reference).where(counted_grant(), Grant.award_date.between(FIRST, LAST))
    ).all()
    register = " ".join(page for page in pages if f"Appendix: grants awarded in {YEAR}" in page)
    assert all(reference in register for reference in references)

    # Demo data say so on every page; a draft says so on every page.
    assert all("Fictional" in page for page in pages)
    assert all("DRAFT" in page.upper() for page in pages)

    reader = PdfReader(io.BytesIO(pdf))
    titles = outline_titles(reader.outline)
    for expected in (
        "Contents",
        "Key figures",
        "Funding",
        "From funding to trials",
        "STEMS",
        "Funds and donations",
        "Method notes",
        f"Appendix: grants awarded in {YEAR}",
    ):
        assert expected in titles
    info = reader.metadata
    assert info is not None
    assert info.title == f"Annual impact report {YEAR} · {FOUNDATION}"
    assert info.author == FOUNDATION
    assert info.subject and str(YEAR) in info.subject
    assert "annual impact report" in str(info.get("/Keywords"))
    assert info.creation_date is not None
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_contents_page_numbers_point_at_the_sections(demo: so.Session) -> None:
    report = build_annual_report(
        demo, Period(YEAR, YEAR), foundation=FOUNDATION, include_register=False
    )
    pages = pdf_pages(annual_pdf(report))
    contents = pages[1]
    for title in ("Key figures", "Funds and donations", "Method notes"):
        number = int(re.search(rf"{title}[ .]*(\d+)", contents).group(1))  # type: ignore[union-attr]
        assert pages[number - 1].split(" ")[:6] != [] and title in pages[number - 1]


def test_an_issued_report_has_no_draft_mark_and_the_register_is_optional(
    demo: so.Session,
) -> None:
    report = build_annual_report(
        demo, Period(YEAR, YEAR), foundation=FOUNDATION, include_register=False, is_draft=False
    )
    pdf = annual_pdf(report)
    pages = pdf_pages(pdf)
    assert not any("DRAFT" in page.upper() for page in pages)
    titles = outline_titles(PdfReader(io.BytesIO(pdf)).outline)
    assert not any(title.startswith("Appendix") for title in titles)


def test_a_range_of_years(demo: so.Session) -> None:
    report = build_annual_report(
        demo, period_from_text("2015-2024"), foundation=FOUNDATION, include_register=False
    )
    assert report.period.label == "2015–2024"
    in_range = demo.scalar(
        sa.select(sa.func.count(Grant.id)).where(
            counted_grant(), Grant.award_date.between(date(2015, 1, 1), date(2024, 12, 31))
        )
    )
    assert report.grants.awarded_count == in_range
    # Across years programmes are grouped by kind.
    assert {row.label for row in report.by_programme} <= {
        "Annual call",
        "Pilot",
        "Fellowship",
        "Special project",
        "Other",
        "No programme",
    }
    assert "STEMS" in [p.name for p in report.pathways]


def test_no_data_still_makes_a_report(session: so.Session) -> None:
    report = build_annual_report(session, Period(1990, 1990), foundation=FOUNDATION)
    pages = pdf_pages(annual_pdf(report))
    assert report.grants.awarded_count == 0
    assert "No grants were awarded in 1990" in " ".join(pages)
    assert not any("Fictional" in page for page in pages)


def test_anonymous_donors_and_internal_records_stay_out(demo: so.Session) -> None:
    fund = demo.scalars(sa.select(Fund).limit(1)).one()
    donor = Donor(name="Zebedeo Secretissimo", kind=DonorKind.INDIVIDUAL, is_anonymous=True)
    demo.add(donor)
    demo.flush()
    demo.add(
        Donation(
            donor_id=donor.id,
            fund_id=fund.id,
            received_on=date(YEAR, 5, 5),
            amount=Decimal("9999999.00"),
            currency="EUR",
            amount_eur=Decimal("9999999.00"),
        )
    )
    factories.grant(
        demo,
        title="Internal-only pilot on Xylophone cells",
        award_date=date(YEAR, 3, 3),
        confidentiality=Confidentiality.INTERNAL,
        amount_awarded=Decimal("5000.00"),
        amount_eur=Decimal("5000.00"),
    )
    demo.flush()
    report = build_annual_report(demo, Period(YEAR, YEAR), foundation=FOUNDATION)
    html = annual_html(report)
    assert "Secretissimo" not in html
    assert report.donations.top_donors[0].name == "Anonymous donor"
    assert report.donations.top_donors[0].amount_eur == Decimal("9999999.00")
    assert "Xylophone" not in html
    assert report.grants.awarded_count == expected_figures(demo)["count"]


def test_report_queries_do_not_grow_with_the_grants(demo: so.Session, count_queries: Any) -> None:
    period = Period(YEAR, YEAR)
    with count_queries() as before:
        build_annual_report(demo, period, foundation=FOUNDATION)
    for n in range(25):
        factories.grant(demo, award_date=date(YEAR, 2, 1 + n), title=f"Extra grant {n}")
    demo.flush()
    with count_queries() as after:
        report = build_annual_report(demo, period, foundation=FOUNDATION)

    def selects(counter: Any) -> int:  # savepoints depend on the session's state, not on us
        return sum(1 for statement in counter.statements if not statement.startswith("SAVEPOINT"))

    assert selects(after) == selects(before) <= 40
    assert report.register is not None and len(report.register) >= 25


def test_period_from_text() -> None:
    assert period_from_text("2023") == Period(2023, 2023)
    assert period_from_text("2015-2024") == Period(2015, 2024)
    assert period_from_text("2015–2024").label == "2015–2024"
    for bad in ("20x3", "2024-2015", "1-2", "2020-2021-2022", ""):
        with pytest.raises(ValueError):
            period_from_text(bad)


# --------------------------------------------------------------------------- one definition


def test_annual_figures_equal_portfolio_figures_every_year(demo: so.Session) -> None:
    from app.portfolio.queries import portfolio_figures

    first = demo.scalar(sa.select(sa.func.min(Grant.award_date)))
    assert first is not None
    differences = []
    for year in range(first.year, date.today().year + 1):
        r = build_annual_report(
            demo, Period(year, year), foundation=FOUNDATION, include_register=False
        )
        p = portfolio_figures(demo, year, year, TRUSTEE_LEVELS)
        last_award = max((y.year for y in p.funding_by_year_all), default=year)
        pairs = {
            "grants awarded": (r.grants.awarded_count, p.grant_count),
            "euro awarded": (r.grants.awarded_eur, p.total_awarded_eur),
            "without euro": (r.grants.awarded_unconverted, p.unconverted_grant_count),
            "institutions": (r.grants.institution_count, p.institution_count),
            "outputs": (r.outputs_in_period, p.output_count),
            "outputs by type": (
                {row.label: row.in_period for row in r.outputs_by_type if row.in_period},
                {row.label: row.count for row in p.outputs_by_type},
            ),
            "trials active": (r.trials_active, p.trial_count),
            "trials by phase": (
                {row.label: row.in_period for row in r.trials_by_phase if row.in_period},
                {row.label: row.count for row in p.trials_by_phase},
            ),
            "funding by year": (
                [
                    (y.year, y.count, y.amount_eur)
                    for y in r.funding_by_year
                    if y.year <= last_award
                ],
                [
                    (y.year, y.grant_count, y.amount_eur)
                    for y in p.funding_by_year_all
                    if y.year <= year
                ],
            ),
            "by programme": (
                {row.label: (row.count, row.amount_eur) for row in r.by_programme},
                {g.label: (g.grant_count, g.amount_eur) for g in p.by_programme},
            ),
            "by area": (
                {row.label: (row.count, row.amount_eur) for row in r.by_area},
                {g.label: (g.grant_count, g.amount_eur) for g in p.by_area},
            ),
            "by institution": (
                [(row.label, row.count, row.amount_eur) for row in r.by_institution],
                [(g.label, g.grant_count, g.amount_eur) for g in p.by_institution],
            ),
            "other institutions": (
                r.other_institutions
                and (
                    r.other_institutions.label,
                    r.other_institutions.count,
                    r.other_institutions.amount_eur,
                ),
                p.other_institutions
                and (
                    p.other_institutions.label,
                    p.other_institutions.grant_count,
                    p.other_institutions.amount_eur,
                ),
            ),
        }
        differences += [(year, name, a, b) for name, (a, b) in pairs.items() if a != b]
    assert differences == []


# --------------------------------------------------------------------------- trial report


def test_trial_pathway_report(demo: so.Session) -> None:
    stems_id = find_stems_trial(demo)
    assert stems_id is not None
    report = build_trial_report(demo, stems_id, foundation=FOUNDATION)
    pdf = trial_pdf(report)
    save_artifacts("trial-stems", pdf)
    text = " ".join(pdf_pages(pdf))
    summary = lineage(demo, stems_id, TRUSTEE_LEVELS).summary
    assert f"The {summary.grant_count} grants behind STEMS" in text
    assert euros(summary.total_awarded_eur) in text
    assert "From funding to STEMS" in outline_titles(PdfReader(io.BytesIO(pdf)).outline)
    assert "Each grant attributed to any output of the pathway is counted once" in text


def test_pathway_timelines_are_drawn_at_the_width_of_the_text_block(demo: so.Session) -> None:
    from reports.pathway import PRINT_MAX_HEIGHT, PRINT_WIDTH, pathway_timeline, print_timeline

    found = lineage(demo, find_stems_trial(demo), TRUSTEE_LEVELS)

    def inches(svg: str, attribute: str) -> float:
        match = re.search(rf'{attribute}="([0-9.]+)pt"', svg)
        assert match, attribute
        return float(match.group(1)) / 72

    printed = print_timeline(found)
    assert inches(printed, "width") == pytest.approx(PRINT_WIDTH)
    assert inches(printed, "height") <= PRINT_MAX_HEIGHT + 0.01  # fits below the pathway's head
    assert inches(pathway_timeline(found), "width") == pytest.approx(10)  # the web page's
    report = build_annual_report(demo, Period(YEAR, YEAR), foundation=FOUNDATION)
    stems = next(p for p in report.pathways if p.name == "STEMS")
    assert stems.timeline_svg == printed


# --------------------------------------------------------------------------- web and CLI


def test_reports_page_lists_issued_reports_and_offers_the_form_to_staff(
    demo: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    logged_in(Role.STAFF)
    staff = client
    page = staff.get("/reports")
    assert page.status_code == 200
    assert b"No report has been issued yet" in page.data
    assert b'name="start"' in page.data and b'name="end"' in page.data
    response = staff.get("/reports/annual?year=2023&format=pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/annual/2023.pdf")
    response = staff.get("/reports/annual?year=2023&format=html")
    assert response.headers["Location"].endswith("/reports/annual/2023/preview")
    bad = staff.get("/reports/annual?year=1700")
    assert bad.status_code == 400
    assert b"field-error" in bad.data


def test_trustees_see_the_list_and_the_preview_but_not_the_pdf(
    demo: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    logged_in(Role.TRUSTEE)
    trustee = client
    page = trustee.get("/reports")
    assert page.status_code == 200
    assert b'name="year"' not in page.data
    preview = trustee.get(f"/reports/annual/{YEAR}/preview")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert 'href="/reports/assets/print.css"' in html
    assert "Download PDF" not in html
    assert "Key figures" in html and "STEMS" in html
    for url, status in (
        ("/reports/assets/print.css", 200),
        ("/reports/assets/fonts/DejaVuSansCondensed.ttf", 200),
        ("/reports/assets/../pdf.py", 404),
    ):
        with trustee.get(url) as response:  # files are streamed: close them
            assert response.status_code == status, url
    assert trustee.get(f"/reports/annual/{YEAR}.pdf").status_code == 403


def test_staff_download_the_pdf(demo: so.Session, client: FlaskClient, logged_in: Any) -> None:
    logged_in(Role.STAFF)
    staff = client
    # Draft PDFs are made by a background job (immediate in tests): the job page links the file.
    queued = staff.get(f"/reports/annual/{YEAR}.pdf")
    assert queued.status_code == 302 and "/reports/jobs/" in queued.headers["Location"]
    job_page = staff.get(queued.headers["Location"]).get_data(as_text=True)
    download = re.search(r'href="(/reports/jobs/\d+/draft\.pdf)"', job_page)
    assert download, job_page
    response = staff.get(download.group(1))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert f"annual-report-{YEAR}-draft.pdf" in response.headers["Content-Disposition"]
    from app.models import AuditAction, AuditEvent

    downloads = demo.scalars(
        sa.select(AuditEvent.summary).where(AuditEvent.action == AuditAction.DOWNLOAD)
    ).all()
    assert f"Draft annual report {YEAR} (PDF)" in downloads
    assert "Download PDF" in staff.get(f"/reports/annual/{YEAR}/preview").get_data(as_text=True)
    assert staff.get("/reports/annual/1.pdf").status_code == 404
    assert staff.get("/reports/annual/3000/preview").status_code == 404


def test_reports_page_query_count(
    demo: so.Session, client: FlaskClient, logged_in: Any, count_queries: Any
) -> None:
    logged_in(Role.STAFF)
    staff = client
    with count_queries() as counter:
        assert staff.get("/reports").status_code == 200
    assert counter.count <= 6


def test_cli_writes_pdf_html_and_trial_reports(
    app: Flask, demo: so.Session, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "annual.pdf"
    result = runner.invoke(args=["report", "annual", str(YEAR), "-o", str(target), "--no-register"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")
    html = tmp_path / "annual.html"
    result = runner.invoke(args=["report", "annual", "2022-2023", "--html", "-o", str(html)])
    assert result.exit_code == 0, result.output
    assert "Annual impact report 2022–2023" in html.read_text()
    assert (
        Path(__file__).resolve().parent.parent / "reports" / "assets"
    ).as_uri() in html.read_text()
    trial = tmp_path / "stems.pdf"
    result = runner.invoke(args=["report", "trial", STEMS_NCT, "-o", str(trial)])
    assert result.exit_code == 0, result.output
    assert "STEMS" in " ".join(pdf_pages(trial.read_bytes()))
    archive = tmp_path / "stems-pdfa.pdf"
    result = runner.invoke(args=["report", "trial", STEMS_NCT, "--archive", "-o", str(archive)])
    assert result.exit_code == 0, result.output
    attached = PdfReader(io.BytesIO(archive.read_bytes())).attachments
    assert attached and all(name.endswith(".csv") for name in attached)
    result = runner.invoke(args=["report", "annual", "2024-2015"])
    assert result.exit_code != 0 and "ends before it starts" in result.output
    result = runner.invoke(args=["report", "trial", "NCT99999999"])
    assert result.exit_code != 0 and "No trial" in result.output
