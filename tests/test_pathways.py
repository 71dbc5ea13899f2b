"""The pathway page of a trial and its SVG timeline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import orm as so

from app.models import (
    Attribution,
    Confidentiality,
    EvidenceKind,
    LinkRelation,
    OutputLink,
    Role,
    utcnow,
)

from . import factories as f


def _pathway(session: so.Session) -> dict[str, object]:
    """early grant (ITL) -> paper -> trial <- late grant (EUR), a diamond through a second paper."""
    early = f.grant(
        session,
        reference="PW-1990",
        award_date=date(1990, 5, 1),
        amount_awarded=Decimal("193627000"),
        currency="ITL",
        amount_eur=Decimal("100000.00"),
    )
    late = f.grant(
        session,
        reference="PW-2012",
        award_date=date(2012, 5, 1),
        amount_awarded=Decimal("250000.00"),
        amount_eur=Decimal("250000.00"),
    )
    paper = f.output(session, title="Neurospheres in EAE", output_date=date(1995, 1, 1))
    second = f.output(
        session, title="Precursors are immunomodulatory $x$", output_date=date(2005, 1, 1)
    )
    trial = f.trial(
        session, title="A phase 1 trial of neural precursors", output_date=date(2017, 5, 1)
    )
    trial.trial.acronym = "PW-TRIAL"
    trial.trial.first_patient_date = date(2017, 5, 1)
    session.add_all(
        [
            Attribution(
                grant=early,
                output=paper,
                evidence=EvidenceKind.ACKNOWLEDGED,
                evidence_text="Supported by grant PW-1990",
            ),
            Attribution(grant=early, output=second, evidence=EvidenceKind.STAFF_JUDGEMENT),
            Attribution(
                grant=late,
                output=trial,
                evidence=EvidenceKind.REGISTRY_RECORD,
                share=Decimal("0.5"),
                confirmed_by_id=None,
            ),
            OutputLink(output=second, upstream=paper, relation=LinkRelation.BUILDS_ON),
            OutputLink(output=trial, upstream=paper, relation=LinkRelation.BUILDS_ON),
            OutputLink(
                output=trial,
                upstream=second,
                relation=LinkRelation.BUILDS_ON,
                evidence=EvidenceKind.STAFF_JUDGEMENT,
                evidence_text="Same cell product",
            ),
        ]
    )
    session.commit()
    return {"trial": trial, "early": early, "late": late, "paper": paper}


def test_pathway_page_shows_grants_once_and_the_figures(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    records = _pathway(session)
    page = client.get(f"/outputs/{records['trial'].id}/pathway").get_data(as_text=True)
    assert "From funding to PW-TRIAL" in page
    assert page.count(">PW-1990<") == 1  # reached through two paths, listed once
    assert "350,000 EUR" in page  # 100,000 + 250,000, the diamond not double counted
    assert "125,000 EUR" in page  # attributed: 250,000 x 50%
    assert "1990 → 2017" in page and ">27<" in page
    assert "Same cell product" in page
    assert "Supported by grant PW-1990" in page


def test_confirmed_only_view(client, logged_in, session, make_user) -> None:
    logged_in(Role.STAFF)
    records = _pathway(session)
    confirmer = make_user(Role.STAFF)
    link = records["trial"].upstream_links[0]
    link.confirmed_by_id, link.confirmed_at = confirmer.id, utcnow()
    session.commit()
    page = client.get(f"/outputs/{records['trial'].id}/pathway?confirmed=1").get_data(as_text=True)
    assert "Confirmed links only" in page
    assert "No grants are attributed to this pathway through confirmed links" in page


def test_timeline_is_svg_with_escaped_text(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    records = _pathway(session)
    response = client.get(f"/outputs/{records['trial'].id}/pathway.svg")
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg") and "PW-1990" in svg and "PW-TRIAL" in svg
    assert "script" not in svg.lower()
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_hidden_and_missing_outputs_are_404(client, logged_in, session) -> None:
    logged_in(Role.TRUSTEE)
    secret = f.trial(session, confidentiality=Confidentiality.INTERNAL)
    session.commit()
    assert client.get(f"/outputs/{secret.id}/pathway").status_code == 404
    assert client.get("/outputs/999999/pathway").status_code == 404


def test_pathway_query_count_is_bounded(client, logged_in, session, count_queries) -> None:
    logged_in(Role.STAFF)
    records = _pathway(session)
    with count_queries() as counter:
        client.get(f"/outputs/{records['trial'].id}/pathway")
    assert counter.count <= 10  # login, lineage (5), price index years and values


def test_real_terms_total_when_a_price_index_is_loaded(client, logged_in, session) -> None:
    from app.models import PriceIndex

    logged_in(Role.TRUSTEE)
    records = _pathway(session)
    session.add_all([PriceIndex(year=1990, value=Decimal("50")),
                     PriceIndex(year=2012, value=Decimal("80")),
                     PriceIndex(year=2024, value=Decimal("100"))])
    session.commit()
    page = client.get(f"/outputs/{records['trial'].id}/pathway").get_data(as_text=True)
    # 100,000 x 100/50 + 250,000 x 100/80 = 200,000 + 312,500
    assert "In 2024 euros" in page and "512,500 EUR" in page
