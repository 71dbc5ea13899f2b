"""The grant dossier and the donor and fund impact statements, opened as PDFs.

Figures printed in the PDFs are checked against SQL aggregates computed here
and against a pro-rata example worked by hand; hostile text is shown to stay
text; anonymous donors stay unnamed at trustee levels. Pages are rendered to
PNG in ``test-artifacts/reports/`` for people to look at.
"""

from __future__ import annotations

import io
import re
import time
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

from app.demo import find_stems_trial
from app.impact.queries import donor_impact
from app.lineage.queries import lineage
from app.models import (
    Attribution,
    AuditAction,
    AuditEvent,
    CoFunding,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    EvidenceKind,
    Fund,
    FundAllocation,
    Grant,
    GrantInvestigator,
    LinkRelation,
    OutputLink,
    Payment,
    Role,
)
from app.visibility import ALL_LEVELS
from reports.annual import TRUSTEE_LEVELS
from reports.dossier import GrantNotFound, build_dossier, dossier_html, dossier_pdf, find_grant_id
from reports.pdf import AssetFetcher, render_pdf
from reports.statement import (
    StatementNotFound,
    build_donor_statement,
    build_fund_statement,
    statement_html,
    statement_pdf,
)

from . import factories
from .test_report_safety import hostile, no_embedded_files, server  # noqa: F401 (fixture)
from .test_reports import outline_titles, pdf_pages, save_artifacts

FOUNDATION = "Fondazione di prova"
STEMS_GRANT = "FMR-2014-001"


def quiet(_: str) -> None:
    """An echo that prints nothing."""


def amount(value: Decimal, currency: str = "EUR") -> str:
    """The reports' money format, written independently: 'EUR 1,234.50', 'ITL 45,000,000'."""
    return f"{currency} {value:,.0f}" if currency == "ITL" else f"{currency} {value:,.2f}"


def squeezed(text: str) -> str:
    return "".join(text.split())


def check_document(pdf: bytes, title: str, sections: list[str], fictional: bool = True) -> str:
    """Bookmarks, metadata, the draft mark and the fiction note on every page; returns the text."""
    pages = pdf_pages(pdf)
    if fictional:
        assert all("Fictional demonstration data" in page for page in pages)
    else:
        assert not any("Fictional" in page for page in pages)
    assert all("DRAFT" in page.upper() for page in pages)
    # Running heads: from page 2 on, every page names the document.
    assert all(title in page for page in pages[1:])
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, 1))
    reader = PdfReader(io.BytesIO(pdf))
    titles = outline_titles(reader.outline)
    assert titles[0] == title
    for section in sections:
        assert section in titles, section
    info = reader.metadata
    assert info is not None
    assert info.title == f"{title} · {FOUNDATION}"
    assert info.author == FOUNDATION
    assert info.subject
    assert info.creation_date is not None
    keywords = str(info.get("/Keywords"))
    assert ("fictional demonstration data" in keywords) == fictional
    assert reader.trailer["/Root"]["/Lang"] == "en"
    return " ".join(pages)


# --------------------------------------------------------------------------- grant dossier


def test_dossier_of_the_stems_grant_matches_the_database(demo: so.Session) -> None:
    grant_id = find_grant_id(demo, STEMS_GRANT, TRUSTEE_LEVELS)
    started = time.perf_counter()
    dossier = build_dossier(demo, grant_id, foundation=FOUNDATION)
    pdf = dossier_pdf(dossier)
    elapsed = time.perf_counter() - started
    save_artifacts(f"dossier-{STEMS_GRANT}", pdf)
    text = check_document(
        pdf,
        f"Grant dossier {STEMS_GRANT}",
        [
            "The grant",
            "Money",
            "Investigators",
            "Outputs credited",
            "Clinical trials downstream",
            "STEMS",
            "Record and method",
        ],
    )
    print(f"\ndossier {STEMS_GRANT}: {len(pdf_pages(pdf))} pages in {elapsed:.2f} s")

    awarded, currency, title = demo.execute(
        sa.select(Grant.amount_awarded, Grant.currency, Grant.title).where(Grant.id == grant_id)
    ).one()
    scheduled, paid, count, paid_count = demo.execute(
        sa.select(
            sa.func.sum(Payment.amount),
            sa.func.sum(sa.case((Payment.paid_date.is_not(None), Payment.amount), else_=0)),
            sa.func.count(Payment.id),
            sa.func.count(Payment.paid_date),
        ).where(Payment.grant_id == grant_id)
    ).one()
    assert count > 0
    assert squeezed(title) in squeezed(text)
    assert f"Amount awarded {amount(awarded, currency)}" in text
    assert f"Paid to date ({paid_count} of {count} instalments) {amount(paid, currency)}" in text
    assert f"Scheduled {amount(scheduled, currency)}" in text
    assert f"Still to pay {amount(awarded - paid, currency)}" in text
    allocated = demo.scalar(
        sa.select(sa.func.sum(FundAllocation.amount)).where(FundAllocation.grant_id == grant_id)
    )
    assert amount(allocated) in text

    outputs = demo.scalar(
        sa.select(sa.func.count(Attribution.id)).where(Attribution.grant_id == grant_id)
    )
    assert f"Outputs credited {outputs}" in text
    assert "Listed by the investigator in the final report of FMR-2014-001" in text

    # The STEMS pathway, with the lineage's own figures.
    stems = lineage(demo, find_stems_trial(demo), TRUSTEE_LEVELS).summary
    assert f"It is one of {stems.grant_count} grants of the foundation behind STEMS" in text
    assert amount(stems.total_awarded_eur) in text
    assert "NCT03269071" in text
    assert f"{STEMS_GRANT} is credited with this trial directly" in text
    assert dossier.pathways[0].timeline_svg is not None
    assert "Each grant attributed to any output of the pathway is counted once" in text


def test_dossier_of_a_lira_grant_with_payments_co_funding_and_a_record(
    session: so.Session,
) -> None:
    """Exact lire, several instalments, a co-funder, investigators, and the audit record."""
    pi = factories.person(session, given_names="Lucia", family_name="Ferrante")
    co = factories.person(session, given_names="Marco", family_name="Bellini")
    funder = factories.organisation(session, name="Fondazione Altra")
    grant = factories.grant(
        session,
        reference="OLD-1995-007",
        title="Remyelination in a lira-era pilot",
        award_date=date(1995, 6, 1),
        amount_awarded=Decimal("350000000"),
        currency="ITL",
        amount_eur=Decimal("180759.39"),
        principal_investigator=pi,
    )
    session.add(GrantInvestigator(grant_id=grant.id, person_id=co.id))
    session.add_all(
        [
            Payment(
                grant_id=grant.id,
                due_date=date(1995, 7, 1),
                paid_date=date(1995, 7, 20),
                amount=Decimal("100000000"),
                currency="ITL",
                amount_eur=Decimal("51645.54"),
            ),
            Payment(
                grant_id=grant.id,
                due_date=date(1996, 7, 1),
                amount=Decimal("250000000"),
                currency="ITL",
                amount_eur=Decimal("129113.86"),
            ),
            CoFunding(
                grant_id=grant.id,
                funder_organisation_id=funder.id,
                amount=Decimal("20000.00"),
                currency="EUR",
                amount_eur=Decimal("20000.00"),
            ),
        ]
    )
    session.add(
        AuditEvent(
            action=AuditAction.UPDATE,
            actor="editor@example.org",
            entity_type="grants",
            entity_id=grant.id,
            summary="Changed title",
        )
    )
    session.flush()
    dossier = build_dossier(session, grant.id, foundation=FOUNDATION)
    pdf = dossier_pdf(dossier)
    save_artifacts("dossier-lira", pdf)
    text = check_document(
        pdf, "Grant dossier OLD-1995-007", ["The grant", "Money"], fictional=False
    )
    assert "Amount awarded ITL 350,000,000 EUR 180,759.39" in text
    assert "Scheduled ITL 350,000,000 EUR 180,759.40" in text  # instalments rounded on their own
    assert "Paid to date ITL 100,000,000 EUR 51,645.54" in text
    assert "Still to pay ITL 250,000,000" in text
    assert "not yet paid" in text
    assert "Fondazione Altra EUR 20,000.00" in text
    assert "Lucia Ferrante Principal investigator" in text
    assert "Marco Bellini Co-investigator" in text
    assert "by editor@example.org Changed title" in text
    assert "No clinical trial is yet recorded downstream of this grant" in text
    assert dossier.record.change_count == 1


def test_dossier_levels_and_missing_grants(session: so.Session) -> None:
    internal = factories.grant(session, confidentiality=Confidentiality.INTERNAL)
    hidden_output = factories.output(
        session, title="Internal xylophone output", confidentiality=Confidentiality.INTERNAL
    )
    public = factories.grant(session, reference="PUB-1")
    session.add(
        Attribution(
            grant_id=public.id, output_id=hidden_output.id, evidence=EvidenceKind.ACKNOWLEDGED
        )
    )
    session.flush()
    with pytest.raises(GrantNotFound):
        build_dossier(session, internal.id, foundation=FOUNDATION)
    assert build_dossier(session, internal.id, foundation=FOUNDATION, levels=ALL_LEVELS)
    assert "xylophone" not in dossier_html(build_dossier(session, public.id, foundation=FOUNDATION))
    staff = build_dossier(session, public.id, foundation=FOUNDATION, levels=ALL_LEVELS)
    assert "xylophone" in dossier_html(staff)
    assert staff.audience == "Prepared for staff: includes internal records"
    assert find_grant_id(session, "pub-1", TRUSTEE_LEVELS) == public.id
    assert find_grant_id(session, str(public.id), TRUSTEE_LEVELS) == public.id
    public.deleted_at = public.created_at
    session.flush()
    with pytest.raises(GrantNotFound):
        find_grant_id(session, "PUB-1", TRUSTEE_LEVELS)
    with pytest.raises(GrantNotFound):
        build_dossier(session, public.id, foundation=FOUNDATION)


def test_dossier_queries_do_not_grow_with_the_grant(demo: so.Session, count_queries: Any) -> None:
    grant_id = find_grant_id(demo, STEMS_GRANT, TRUSTEE_LEVELS)
    with count_queries() as before:
        build_dossier(demo, grant_id, foundation=FOUNDATION)
    for n in range(10):
        demo.add(
            Payment(
                grant_id=grant_id,
                due_date=date(2020, 1, 1 + n),
                amount=Decimal("10.00"),
                currency="EUR",
                amount_eur=Decimal("10.00"),
            )
        )
        output = factories.output(demo, title=f"Extra output {n}")
        demo.add(
            Attribution(grant_id=grant_id, output_id=output.id, evidence=EvidenceKind.ACKNOWLEDGED)
        )
    demo.flush()
    with count_queries() as after:
        dossier = build_dossier(demo, grant_id, foundation=FOUNDATION)

    def selects(counter: Any) -> int:
        return sum(1 for statement in counter.statements if not statement.startswith("SAVEPOINT"))

    assert selects(after) == selects(before) <= 35
    assert len(dossier.outputs) >= 14


# --------------------------------------------------------------------------- statements


def _named_demo_donor(session: so.Session) -> int:
    """The named demo donor whose gifts reach the most trials."""
    donor_ids = session.scalars(
        sa.select(Donor.id).where(Donor.is_anonymous.is_(False)).order_by(Donor.id)
    ).all()
    best = max(
        donor_ids,
        key=lambda d: (donor_impact(session, d, TRUSTEE_LEVELS).totals.trials, -d),
    )
    return best


def test_donor_statement_matches_the_database_and_the_impact_query(demo: so.Session) -> None:
    donor_id = _named_demo_donor(demo)
    started = time.perf_counter()
    statement = build_donor_statement(demo, donor_id, foundation=FOUNDATION)
    pdf = statement_pdf(statement)
    elapsed = time.perf_counter() - started
    save_artifacts("statement-donor", pdf)
    name = demo.scalar(sa.select(Donor.name).where(Donor.id == donor_id))
    title = f"Impact statement: {name}"
    text = check_document(
        pdf,
        title,
        [
            "At a glance",
            "Through the foundation's funds",
            "Clinical trials downstream",
            "Research outputs downstream",
            "Grants reached",
            "Method",
        ],
    )
    print(f"\ndonor statement {donor_id}: {len(pdf_pages(pdf))} pages in {elapsed:.2f} s")

    given, gifts = demo.execute(
        sa.select(sa.func.sum(Donation.amount_eur), sa.func.count(Donation.id)).where(
            Donation.donor_id == donor_id
        )
    ).one()
    impact = donor_impact(demo, donor_id, TRUSTEE_LEVELS)
    assert statement.contributed_eur == impact.attributed_eur
    assert f"Given {amount(given)} {gifts} gift{'s' if gifts != 1 else ''}" in text
    assert f"Attributed to grants {amount(impact.attributed_eur)}" in text
    assert f"All {impact.totals.grants} grants {amount(impact.totals.eur)}" in text
    assert f"{amount(impact.attributed_eur)}" in text.split("All funds")[1]
    # The listed grants and the "others" row add up to the total, to the cent.
    shown = sum((g.contributed_eur for g in statement.grants), Decimal("0.00"))
    others = statement.other_grants.contributed_eur if statement.other_grants else Decimal(0)
    assert shown + others == impact.attributed_eur
    assert f"Clinical trials downstream {impact.totals.trials}" in text
    for trial in impact.trials:
        assert squeezed(trial.acronym or trial.title) in squeezed(text)
    assert "Money is followed from donations to funds and from funds to grants, pro rata" in text


def test_pro_rata_example_worked_by_hand(session: so.Session) -> None:
    """Donor A gives 300 of a fund's 1,000: 30% of the fund's allocations is attributed to A."""
    fund = Fund(name="Hand-worked fund", is_restricted=True)
    a = Donor(name="Ada Example", kind=DonorKind.INDIVIDUAL)
    b = Donor(name="Bruno Example", kind=DonorKind.COMPANY)
    session.add_all([fund, a, b])
    session.flush()
    for donor, value, day in ((a, "100.00", 1), (a, "200.00", 2), (b, "700.00", 3)):
        session.add(
            Donation(
                donor_id=donor.id,
                fund_id=fund.id,
                received_on=date(2020, 1, day),
                amount=Decimal(value),
                currency="EUR",
                amount_eur=Decimal(value),
            )
        )
    one = factories.grant(session, reference="HW-1", award_date=date(2020, 3, 1))
    two = factories.grant(
        session,
        reference="HW-2",
        award_date=date(2021, 3, 1),
        amount_awarded=Decimal("5000.00"),
        amount_eur=Decimal("5000.00"),
    )
    for grant, value in ((one, "1000.00"), (two, "333.33")):
        session.add(
            FundAllocation(
                fund_id=fund.id,
                grant_id=grant.id,
                amount=Decimal(value),
                currency="EUR",
                amount_eur=Decimal(value),
            )
        )
    session.flush()
    # By hand: 1,000.00 × 0.3 = 300.00; 333.33 × 0.3 = 99.999 → 100.00; total 400.00.
    statement = build_donor_statement(session, a.id, foundation=FOUNDATION)
    assert statement.contributed_eur == Decimal("400.00")
    assert donor_impact(session, a.id, TRUSTEE_LEVELS).attributed_eur == Decimal("400.00")
    pdf = statement_pdf(statement)
    save_artifacts("statement-pro-rata", pdf)
    text = check_document(pdf, "Impact statement: Ada Example", ["Grants reached"], fictional=False)
    assert "Hand-worked fund EUR 300.00 EUR 1,000.00 30.00% EUR 400.00" in text
    assert "HW-1" in text and "EUR 1,000.00 EUR 300.00" in text
    assert "HW-2" in text and "EUR 5,000.00 EUR 100.00" in text
    assert "All 2 grants EUR 6,000.00 EUR 400.00" in text
    assert "made 2 gifts worth EUR 300.00 to 1 fund" in text

    fund_text = " ".join(
        pdf_pages(statement_pdf(build_fund_statement(session, fund.id, foundation=FOUNDATION)))
    )
    assert "Donations received EUR 1,000.00 3 donations" in fund_text
    assert "Allocated to grants EUR 1,333.33 2 allocations" in fund_text
    assert "Balance EUR -333.33" in fund_text or "Balance EUR −333.33" in fund_text


def test_fund_statement_matches_the_database(demo: so.Session) -> None:
    fund_id, name = demo.execute(
        sa.select(Fund.id, Fund.name).where(Fund.name == "Cell therapy restricted fund")
    ).one()
    started = time.perf_counter()
    pdf = statement_pdf(build_fund_statement(demo, fund_id, foundation=FOUNDATION))
    elapsed = time.perf_counter() - started
    save_artifacts("statement-fund", pdf)
    text = check_document(
        pdf,
        f"Impact statement: {name}",
        ["At a glance", "Clinical trials downstream", "Grants funded", "Method"],
    )
    print(f"\nfund statement {fund_id}: {len(pdf_pages(pdf))} pages in {elapsed:.2f} s")
    received, donations = demo.execute(
        sa.select(sa.func.sum(Donation.amount_eur), sa.func.count(Donation.id)).where(
            Donation.fund_id == fund_id
        )
    ).one()
    allocated, grants = demo.execute(
        sa.select(sa.func.sum(FundAllocation.amount_eur), sa.func.count(FundAllocation.id))
        .join(Grant, Grant.id == FundAllocation.grant_id)
        .where(
            FundAllocation.fund_id == fund_id,
            Grant.deleted_at.is_(None),
            Grant.confidentiality.in_(TRUSTEE_LEVELS),
        )
    ).one()
    assert f"Donations received {amount(received)} {donations} donations" in text
    assert f"Allocated to grants {amount(allocated)} {grants} allocations" in text
    assert f"Balance {amount(received - allocated)}" in text
    assert f"Grants funded {grants}" in text
    assert "STEMS" in text


def test_an_anonymous_donor_is_never_named_at_trustee_levels(demo: so.Session) -> None:
    donor_id, name = demo.execute(
        sa.select(Donor.id, Donor.name)
        .join(Donation, Donation.donor_id == Donor.id)
        .where(Donor.is_anonymous.is_(True))
        .order_by(Donor.id)
        .limit(1)
    ).one()
    family = name.split()[-1]
    statement = build_donor_statement(demo, donor_id, foundation=FOUNDATION)
    html = statement_html(statement)
    pdf = statement_pdf(statement)
    save_artifacts("statement-anonymous", pdf)
    text = " ".join(pdf_pages(pdf))
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None
    for where in (html, text, str(info.title), str(info.subject)):
        assert family not in where
        assert "Anonymous donor" in where
    assert "an anonymous donor (individual) made" in text
    # For staff, the statement is addressed to the donor.
    staff = build_donor_statement(demo, donor_id, foundation=FOUNDATION, levels=ALL_LEVELS)
    assert staff.title == f"Impact statement: {name}"
    assert name in " ".join(pdf_pages(statement_pdf(staff)))


def test_missing_and_deleted_statements(session: so.Session) -> None:
    fund = Fund(name="Closed fund")
    donor = Donor(name="Gone donor", kind=DonorKind.TRUST)
    session.add_all([fund, donor])
    session.flush()
    empty = build_donor_statement(session, donor.id, foundation=FOUNDATION)
    assert "No gift from Gone donor is recorded yet" in statement_html(empty)
    assert "This fund has paid towards no grant yet" in statement_html(
        build_fund_statement(session, fund.id, foundation=FOUNDATION)
    )
    fund.deleted_at = fund.created_at
    donor.deleted_at = donor.created_at
    session.flush()
    for build, record_id in (
        (build_donor_statement, donor.id),
        (build_fund_statement, fund.id),
        (build_donor_statement, 999_999),
        (build_fund_statement, 999_999),
    ):
        with pytest.raises(StatementNotFound):
            build(session, record_id, foundation=FOUNDATION)


# --------------------------------------------------------------------------- safety


def test_hostile_text_in_the_dossier_and_statements_is_inert(
    session: so.Session,
    server: tuple[str, list[str]],  # noqa: F811 (the imported fixture)
) -> None:
    base, seen = server
    h = hostile(base)
    host = factories.organisation(session, name=f"Host {h['attachment']}")
    pi = factories.person(session, given_names=h["img_file"][:120], family_name="Evil")
    grant = factories.grant(
        session,
        reference="EVIL-7",
        title=f"Grant {h['img_file']} {h['img_http']}",
        summary=f"{h['attachment']} {h['import']} {h['stylesheet']}",
        host=host,
        principal_investigator=pi,
    )
    earlier = factories.output(session, title=f"Paper {h['css_url']}")
    trial = factories.trial(session, title=f"Trial {h['import']}", output_date=date(2015, 1, 1))
    session.add_all(
        [
            OutputLink(
                output_id=trial.id, upstream_output_id=earlier.id, relation=LinkRelation.BUILDS_ON
            ),
            Attribution(
                grant_id=grant.id,
                output_id=earlier.id,
                evidence=EvidenceKind.ACKNOWLEDGED,
                evidence_text=h["attachment"],
                source=h["img_http"],
            ),
            Payment(
                grant_id=grant.id,
                due_date=date(2011, 1, 1),
                amount=Decimal("10.00"),
                currency="EUR",
                amount_eur=Decimal("10.00"),
                note=h["stylesheet"][:300],
            ),
        ]
    )
    fund = Fund(name=f"Fund {h['img_file']}", purpose=h["import"])
    donor = Donor(name=f"Donor {h['img_http']} {h['attachment']}", kind=DonorKind.INDIVIDUAL)
    session.add_all([fund, donor])
    session.flush()
    session.add_all(
        [
            Donation(
                donor_id=donor.id,
                fund_id=fund.id,
                received_on=date(2010, 1, 1),
                amount=Decimal("50.00"),
                currency="EUR",
                amount_eur=Decimal("50.00"),
            ),
            FundAllocation(
                fund_id=fund.id,
                grant_id=grant.id,
                amount=Decimal("25.00"),
                currency="EUR",
                amount_eur=Decimal("25.00"),
            ),
        ]
    )
    session.flush()
    documents = [
        (dossier_html(build_dossier(session, grant.id, foundation=h["import"])), h["img_file"]),
        (
            statement_html(
                build_donor_statement(session, donor.id, foundation="F", levels=ALL_LEVELS)
            ),
            f"Donor {h['img_http']}",
        ),
        (statement_html(build_fund_statement(session, fund.id, foundation="F")), h["import"]),
    ]
    for html, literal in documents:
        for value in h.values():
            assert value not in html  # escaped: no element is made of user text
        assert "&lt;" in html
        fetcher = AssetFetcher()
        pdf = render_pdf(html, fetcher=fetcher)
        assert seen == []  # the local server was never asked for anything
        assert fetcher.refused == []  # nothing hostile even reached the fetcher
        assert no_embedded_files(pdf)
        text = squeezed(" ".join(pdf_pages(pdf)))
        assert squeezed(literal) in text


# --------------------------------------------------------------------------- web and CLI


def test_web_previews_and_pdfs(demo: so.Session, client: FlaskClient, logged_in: Any) -> None:
    grant_id = find_grant_id(demo, STEMS_GRANT, TRUSTEE_LEVELS)
    fund_id = demo.scalar(sa.select(Fund.id).order_by(Fund.id).limit(1))
    donor_id, name = demo.execute(
        sa.select(Donor.id, Donor.name)
        .where(Donor.is_anonymous.is_(True))
        .order_by(Donor.id.desc())
    ).first()  # type: ignore[misc]
    internal = factories.grant(demo, confidentiality=Confidentiality.INTERNAL)
    demo.commit()

    logged_in(Role.TRUSTEE)
    preview = client.get(f"/reports/grant/{grant_id}/preview")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert f"Grant dossier {STEMS_GRANT}" in html
    assert 'href="/reports/assets/print.css"' in html
    assert "Download PDF" not in html
    assert client.get(f"/reports/grant/{grant_id}.pdf").status_code == 403
    assert client.get(f"/reports/grant/{internal.id}/preview").status_code == 404
    assert client.get("/reports/grant/999999/preview").status_code == 404
    donor_page = client.get(f"/reports/donor/{donor_id}/preview").get_data(as_text=True)
    assert "Anonymous donor" in donor_page and name not in donor_page
    assert client.get(f"/reports/fund/{fund_id}/preview").status_code == 200
    assert client.get(f"/reports/donor/{donor_id}.pdf").status_code == 403
    detail = client.get(f"/grants/{grant_id}").get_data(as_text=True)
    assert f'href="/reports/grant/{grant_id}/preview"' in detail

    client.post("/logout")
    logged_in(Role.STAFF)
    assert "Download PDF" in client.get(f"/reports/grant/{grant_id}/preview").get_data(as_text=True)
    for url, filename in (
        (f"/reports/grant/{grant_id}.pdf", f"grant-dossier-{STEMS_GRANT}.pdf"),
        (f"/reports/donor/{donor_id}.pdf", f"donor-statement-{donor_id}.pdf"),
        (f"/reports/fund/{fund_id}.pdf", f"fund-statement-{fund_id}.pdf"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "application/pdf"
        assert filename in response.headers["Content-Disposition"]
    # Staff statements are addressed to the donor; the audit trail names only the id.
    donor_pdf = client.get(f"/reports/donor/{donor_id}.pdf").data
    assert name in " ".join(pdf_pages(donor_pdf))
    downloads = demo.scalars(
        sa.select(AuditEvent.summary).where(AuditEvent.action == AuditAction.DOWNLOAD)
    ).all()
    assert f"Draft grant dossier {STEMS_GRANT} (PDF)" in downloads
    assert f"Draft impact statement of donor {donor_id} (PDF)" in downloads
    assert not any(name in (summary or "") for summary in downloads)
    assert client.get(f"/reports/grant/{internal.id}.pdf").status_code == 200
    assert client.get("/reports/fund/999999.pdf").status_code == 404
    for url, link in (
        (f"/grants/{grant_id}", f'href="/reports/grant/{grant_id}.pdf"'),
        (f"/funds/{fund_id}", f'href="/reports/fund/{fund_id}.pdf"'),
        (f"/donors/{donor_id}", f'href="/reports/donor/{donor_id}.pdf"'),
    ):
        assert link in client.get(url).get_data(as_text=True), url


def test_each_document_links_back_to_its_record_and_audits_its_own_name(
    demo: so.Session, client: FlaskClient, logged_in: Any
) -> None:
    """The shared preview and download views take each kind's links and audit summary."""
    grant_id = find_grant_id(demo, STEMS_GRANT, TRUSTEE_LEVELS)
    fund_id, fund_name = demo.execute(sa.select(Fund.id, Fund.name).order_by(Fund.id)).first()  # type: ignore[misc]
    donor_id = demo.scalar(sa.select(Donor.id).order_by(Donor.id).limit(1))
    statement = build_fund_statement(demo, fund_id, foundation="F")
    assert (statement.kind, statement.subject_id) == ("fund", fund_id)
    statement = build_donor_statement(demo, donor_id, foundation="F")
    assert (statement.kind, statement.subject_id) == ("donor", donor_id)

    logged_in(Role.STAFF)
    for record_url, report_url in (
        (f"/grants/{grant_id}", f"/reports/grant/{grant_id}"),
        (f"/donors/{donor_id}", f"/reports/donor/{donor_id}"),
        (f"/funds/{fund_id}", f"/reports/fund/{fund_id}"),
    ):
        html = client.get(f"{report_url}/preview").get_data(as_text=True)
        bar = html[html.index('<nav class="preview-bar"') : html.index("</nav>")]
        assert re.findall(r'href="([^"]+)"', bar) == [record_url, "/reports", f"{report_url}.pdf"]
    assert client.get(f"/reports/fund/{fund_id}.pdf").status_code == 200
    downloads = demo.scalars(
        sa.select(AuditEvent.summary).where(AuditEvent.action == AuditAction.DOWNLOAD)
    ).all()
    assert downloads == [f"Draft impact statement of fund {fund_name} (PDF)"]


def test_cli_writes_dossiers_and_statements(app: Flask, demo: so.Session, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "dossier.pdf"
    result = runner.invoke(args=["report", "grant", STEMS_GRANT, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Grant dossier {STEMS_GRANT}" in " ".join(pdf_pages(target.read_bytes()))
    html = tmp_path / "dossier.html"
    result = runner.invoke(args=["report", "grant", STEMS_GRANT, "--html", "-o", str(html)])
    assert result.exit_code == 0, result.output
    page = html.read_text()
    assert f"Grant dossier {STEMS_GRANT}" in page
    assert (Path(__file__).resolve().parent.parent / "reports" / "assets").as_uri() in page

    donor_id, name = demo.execute(
        sa.select(Donor.id, Donor.name).where(Donor.is_anonymous.is_(True)).order_by(Donor.id)
    ).first()  # type: ignore[misc]
    trustees = tmp_path / "donor.pdf"
    result = runner.invoke(args=["report", "donor", str(donor_id), "-o", str(trustees)])
    assert result.exit_code == 0, result.output
    assert name not in " ".join(pdf_pages(trustees.read_bytes()))
    staff = tmp_path / "donor-staff.pdf"
    result = runner.invoke(
        args=["report", "donor", str(donor_id), "-o", str(staff), "--confidentiality", "internal"]
    )
    assert result.exit_code == 0, result.output
    assert name in " ".join(pdf_pages(staff.read_bytes()))

    fund_id = demo.scalar(sa.select(Fund.id).order_by(Fund.id).limit(1))
    fund_html = tmp_path / "fund.html"
    result = runner.invoke(args=["report", "fund", str(fund_id), "--html", "-o", str(fund_html)])
    assert result.exit_code == 0, result.output
    assert "Impact statement:" in fund_html.read_text()

    for args, message in (
        (["report", "grant", "NOPE-1"], "No grant with reference 'NOPE-1'"),
        (["report", "donor", "999999"], "No donor with id 999999"),
        (["report", "fund", "999999"], "No fund with id 999999"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, args
