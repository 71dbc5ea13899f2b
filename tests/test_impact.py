"""Downstream impact of programmes, institutions, funds and donors (pro-rata donor attribution).

Every expected figure is computed by hand in the comments next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from app.currency import RateTable
from app.impact import queries as impact_queries
from app.impact.queries import (
    DONOR_METHOD,
    SubjectNotFound,
    donor_impact,
    grant_ids_for,
    impact_of,
    method_for,
)
from app.models import (
    Attribution,
    Confidentiality,
    Donation,
    Donor,
    DonorKind,
    EvidenceKind,
    Fund,
    FundAllocation,
    Grant,
    LinkRelation,
    Output,
    OutputLink,
    OutputType,
    Programme,
    ProgrammeKind,
    Role,
    utcnow,
)
from app.visibility import ALL_LEVELS

from . import factories as f
from .conftest import TEST_PASSWORD

TRUSTEES = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
SECRET_NAME = "Marchesa Ludovica Trivulzio"
_seq = count(1)


# --------------------------------------------------------------------------- builders


def fund(session: so.Session, **fields: Any) -> Fund:
    values: dict[str, Any] = {"name": f"Impact fund {next(_seq)}"}
    values.update(fields)
    row = Fund(**values)
    session.add(row)
    session.flush()
    return row


def donor(session: so.Session, **fields: Any) -> Donor:
    values: dict[str, Any] = {"name": f"Impact donor {next(_seq)}", "kind": DonorKind.INDIVIDUAL}
    values.update(fields)
    row = Donor(**values)
    session.add(row)
    session.flush()
    return row


def give(session: so.Session, who: Donor, into: Fund, eur: str | None, **fields: Any) -> Donation:
    values: dict[str, Any] = {
        "donor": who,
        "fund": into,
        "received_on": date(2012, 3, 1),
        "amount": Decimal(eur or "1.00"),
        "currency": "EUR",
        "amount_eur": Decimal(eur) if eur is not None else None,
    }
    values.update(fields)
    row = Donation(**values)
    session.add(row)
    session.flush()
    return row


def allocate(
    session: so.Session, source: Fund, grant: Grant, amount: str, currency: str = "EUR"
) -> FundAllocation:
    """An allocation with its euro equivalent from the rate table, as the app stores it."""
    value = Decimal(amount)
    row = FundAllocation(
        fund_id=source.id,
        grant_id=grant.id,
        amount=value,
        currency=currency,
        amount_eur=RateTable.load(session).to_eur(value, currency, grant.award_date),
    )
    session.add(row)
    session.flush()
    return row


def attribute(session: so.Session, grant: Grant, output: Output) -> None:
    session.add(
        Attribution(grant_id=grant.id, output_id=output.id, evidence=EvidenceKind.ACKNOWLEDGED)
    )
    session.flush()


def link(session: so.Session, output: Output, upstream: Output) -> None:
    session.add(
        OutputLink(
            output_id=output.id,
            upstream_output_id=upstream.id,
            relation=LinkRelation.BUILDS_ON,
            evidence=EvidenceKind.STAFF_JUDGEMENT,
        )
    )
    session.flush()


def euro(amount: str) -> dict[str, Any]:
    return {"amount_awarded": Decimal(amount), "currency": "EUR", "amount_eur": Decimal(amount)}


def programme(session: so.Session) -> Programme:
    row = Programme(name=f"Annual call {next(_seq)}", kind=ProgrammeKind.ANNUAL_CALL, year=2004)
    session.add(row)
    session.flush()
    return row


# --------------------------------------------------------------------------- donor scenario


@pytest.fixture
def money(session: so.Session) -> dict[str, Any]:
    """The donor gives 30% of fund 1; fund 1 pays grant A (100,000 EUR) and grant B (in lire).

    Grant A's paper leads, through one output link, to a phase 1 trial. Grant B
    gets 100,000,000 ITL = 51,645.69 EUR (at 1,936.27 ITL per EUR).
    """
    main = donor(session, name="Fondazione Brambilla", kind=DonorKind.TRUST)
    others = [donor(session), donor(session)]
    fund1 = fund(session, name="Cell therapy fund")
    give(session, main, fund1, "20000.00")
    give(session, main, fund1, "10000.00")  # the donor: 30,000 of 100,000 = 30%
    give(session, others[0], fund1, "45000.00")
    give(session, others[1], fund1, "25000.00")

    grant_a = f.grant(session, reference="IMP-A", award_date=date(2008, 4, 1), **euro("180000.00"))
    grant_b = f.grant(
        session,
        reference="IMP-B",
        award_date=date(1995, 6, 1),
        amount_awarded=Decimal("150000000.00"),
        currency="ITL",
        amount_eur=Decimal("77468.53"),
    )
    allocate(session, fund1, grant_a, "100000.00")
    alloc_b = allocate(session, fund1, grant_b, "100000000.00", "ITL")
    assert alloc_b.amount_eur == Decimal("51645.69")

    paper = f.output(session, title="Neurospheres in EAE")
    trial = f.trial(session, title="Phase 1 neural stem cells")
    attribute(session, grant_a, paper)
    link(session, trial, paper)
    return {
        "donor": main,
        "fund": fund1,
        "a": grant_a,
        "b": grant_b,
        "paper": paper,
        "trial": trial,
    }


def test_donor_giving_30_percent_of_one_fund(session: so.Session, money: dict[str, Any]) -> None:
    result = donor_impact(session, money["donor"].id, ALL_LEVELS, reveal=True)
    assert result.subject.name == "Fondazione Brambilla"
    assert result.given_eur == Decimal("30000.00")
    [row] = result.funds
    assert (row.fund_name, row.given_eur, row.fund_donations_eur) == (
        "Cell therapy fund",
        Decimal("30000.00"),
        Decimal("100000.00"),
    )
    assert row.share == Decimal("0.3")
    # A: 100,000 × 30% = 30,000.00; B: 51,645.69 × 30% = 15,493.707 -> 15,493.71.
    by_ref = {g.reference: g.contributed_eur for g in result.grants}
    assert by_ref == {"IMP-A": Decimal("30000.00"), "IMP-B": Decimal("15493.71")}
    assert result.attributed_eur == row.attributed_eur == Decimal("45493.71")
    # Grants listed by award date; total awarded is the grants' full amounts.
    assert [g.reference for g in result.grants] == ["IMP-B", "IMP-A"]
    assert result.totals.grants == 2
    assert result.totals.eur == Decimal("180000.00") + Decimal("77468.53")
    # A's paper and the trial standing on it are downstream; B reached nothing.
    assert result.totals.outputs == 2
    assert result.totals.trials == 1
    [trial] = result.trials
    assert (trial.output_id, trial.depth) == (money["trial"].id, 1)
    assert {(c.type, c.count) for c in result.outputs_by_type} == {
        (OutputType.PUBLICATION, 1),
        (OutputType.MEDICAL_PRODUCT, 1),
    }


def test_donor_giving_to_two_funds(session: so.Session, money: dict[str, Any]) -> None:
    # Fund 2: the donor gives 1,000 of 4,000 = 25%; it pays 10,000 more to A and 2,000 to C.
    fund2 = fund(session, name="General fund")
    give(session, money["donor"], fund2, "1000.00")
    give(session, donor(session), fund2, "3000.00")
    grant_c = f.grant(session, reference="IMP-C", award_date=date(2015, 1, 1), **euro("2000.00"))
    allocate(session, fund2, money["a"], "10000.00")
    allocate(session, fund2, grant_c, "2000.00")

    result = donor_impact(session, money["donor"].id, ALL_LEVELS)
    assert result.given_eur == Decimal("31000.00")
    assert [(r.fund_name, r.share, r.attributed_eur) for r in result.funds] == [
        ("Cell therapy fund", Decimal("0.3"), Decimal("45493.71")),
        ("General fund", Decimal("0.25"), Decimal("3000.00")),  # 2,500 + 500
    ]
    # A: 30,000 (fund 1) + 2,500 (fund 2); B: 15,493.71; C: 500.
    assert {g.reference: g.contributed_eur for g in result.grants} == {
        "IMP-A": Decimal("32500.00"),
        "IMP-B": Decimal("15493.71"),
        "IMP-C": Decimal("500.00"),
    }
    assert result.attributed_eur == Decimal("48493.71")
    assert result.totals.grants == 3  # A counted once though two funds pay it


def test_fund_with_no_donations_gives_no_attribution(
    session: so.Session, money: dict[str, Any]
) -> None:
    # A fund nobody gave to pays grant D: no donor is credited with it.
    empty = fund(session, name="Empty fund")
    grant_d = f.grant(session, reference="IMP-D", **euro("5000.00"))
    allocate(session, empty, grant_d, "5000.00")
    # The donor's only gift to a third fund has no euro value: no share, no attribution.
    odd = fund(session, name="Dollar fund")
    give(session, money["donor"], odd, None, currency="USD")
    allocate(session, odd, grant_d, "1000.00")

    result = donor_impact(session, money["donor"].id, ALL_LEVELS)
    assert "IMP-D" not in {g.reference for g in result.grants}
    assert result.attributed_eur == Decimal("45493.71")
    dollar = next(r for r in result.funds if r.fund_name == "Dollar fund")
    assert (dollar.share, dollar.attributed_eur) == (None, Decimal("0.00"))

    impact = impact_of(session, "fund", empty.id, ALL_LEVELS)
    assert impact.fund is not None
    assert (impact.fund.donations_eur, impact.fund.donation_count) == (Decimal("0.00"), 0)
    assert impact.fund.allocated_eur == Decimal("5000.00")
    assert [g.reference for g in impact.grants] == ["IMP-D"]


def test_deleted_fund_and_invisible_grants_are_not_counted(
    session: so.Session, money: dict[str, Any]
) -> None:
    money["b"].confidentiality = Confidentiality.INTERNAL
    session.flush()
    trustee_view = donor_impact(session, money["donor"].id, TRUSTEES)
    assert [g.reference for g in trustee_view.grants] == ["IMP-A"]
    assert trustee_view.attributed_eur == Decimal("30000.00")

    money["fund"].deleted_at = utcnow()
    session.flush()
    result = donor_impact(session, money["donor"].id, ALL_LEVELS)
    assert result.given_eur == Decimal("30000.00")  # still what the donor gave
    assert (result.attributed_eur, result.grants, result.trials) == (Decimal("0.00"), (), ())
    assert result.funds[0].fund_deleted and result.funds[0].share is None


def test_fund_impact(session: so.Session, money: dict[str, Any]) -> None:
    impact = impact_of(session, "fund", money["fund"].id, ALL_LEVELS)
    assert impact.subject.name == "Cell therapy fund"
    assert impact.fund is not None
    assert (impact.fund.donations_eur, impact.fund.donation_count) == (Decimal("100000.00"), 4)
    # 100,000 + 51,645.69 from this fund, of 180,000 + 77,468.53 awarded.
    assert (impact.fund.allocated_eur, impact.fund.allocation_count) == (Decimal("151645.69"), 2)
    assert {g.reference: g.contributed_eur for g in impact.grants} == {
        "IMP-A": Decimal("100000.00"),
        "IMP-B": Decimal("51645.69"),
    }
    assert impact.totals.eur == Decimal("257468.53")
    assert (impact.totals.outputs, impact.totals.trials) == (2, 1)
    assert "pro rata" in impact.method and "no donations gives no attribution" in impact.method


def test_method_text_states_the_rule() -> None:
    for phrase in (
        "donor's donations to it divided by all donations to it (all time, in euro)",
        "the allocation's euro amount multiplied by that share",
        "1 EUR = 1,936.27 ITL",
        "A fund with no donations gives no attribution",
        "Anonymous donors are never named to trustees",
    ):
        assert phrase in DONOR_METHOD, phrase
    assert "hosted by this institution" in method_for("institution")


# --------------------------------------------------------------------------- programme, institution


@pytest.fixture
def portfolio(session: so.Session) -> dict[str, Any]:
    """A programme and an institution whose grants lead to trials through output links.

    programme: g1 -> paper1 <- trial1 (1 step); g2 (deleted) -> paper2 <- trial2
    institution (hosts g1 and g3): g3 -> paper3 <- internal note <- trial3 (only via the note)
    """
    prog = programme(session)
    host = f.organisation(session, name="Istituto Besta")
    g1 = f.grant(session, reference="P-1", programme=prog, host=host, **euro("100000.00"))
    g2 = f.grant(session, reference="P-2", programme=prog, deleted_at=utcnow(), **euro("7.00"))
    g3 = f.grant(
        session,
        reference="P-3",
        host=host,
        award_date=date(1998, 1, 1),
        amount_awarded=Decimal("1000000.00"),
        currency="XXX",
        amount_eur=None,
    )
    paper1, paper2, paper3 = (f.output(session, title=f"Paper {n}") for n in (1, 2, 3))
    note = f.output(
        session,
        title="Internal note",
        type=OutputType.RESEARCH_TOOL,
        confidentiality=Confidentiality.INTERNAL,
    )
    trial1, trial2, trial3 = (f.trial(session, title=f"Trial {n}") for n in (1, 2, 3))
    for grant, paper in ((g1, paper1), (g2, paper2), (g3, paper3)):
        attribute(session, grant, paper)
    link(session, trial1, paper1)
    link(session, trial2, paper2)
    link(session, note, paper3)
    link(session, trial3, note)
    return {
        "programme": prog,
        "host": host,
        "g1": g1,
        "g3": g3,
        "trial1": trial1,
        "trial3": trial3,
        "note": note,
    }


def test_programme_downstream_trials_through_links(
    session: so.Session, portfolio: dict[str, Any]
) -> None:
    prog = portfolio["programme"]
    assert grant_ids_for(session, "programme", prog.id, ALL_LEVELS) == [portfolio["g1"].id]
    impact = impact_of(session, "programme", prog.id, ALL_LEVELS)
    assert [g.reference for g in impact.grants] == ["P-1"]  # the deleted grant is left out
    assert (impact.totals.grants, impact.totals.eur) == (1, Decimal("100000.00"))
    assert [(t.output_id, t.depth) for t in impact.trials] == [(portfolio["trial1"].id, 1)]
    assert impact.totals.outputs == 2
    assert impact.fund is None


def test_institution_downstream_and_confidentiality(
    session: so.Session, portfolio: dict[str, Any]
) -> None:
    host = portfolio["host"]
    assert set(grant_ids_for(session, "institution", host.id, ALL_LEVELS)) == {
        portfolio["g1"].id,
        portfolio["g3"].id,
    }
    staff = impact_of(session, "institution", host.id, ALL_LEVELS)
    assert [g.reference for g in staff.grants] == ["P-3", "P-1"]
    # P-3 has no euro equivalent: counted, not summed.
    assert (staff.totals.grants, staff.totals.eur, staff.totals.unconverted_grants) == (
        2,
        Decimal("100000.00"),
        1,
    )
    assert {t.output_id: t.depth for t in staff.trials} == {
        portfolio["trial1"].id: 1,
        portfolio["trial3"].id: 2,
    }
    assert staff.totals.outputs == 5  # paper 1, trial 1, paper 3, the note, trial 3
    trustees = impact_of(session, "institution", host.id, TRUSTEES)
    assert trustees.totals.outputs == 3  # paper 1, trial 1, paper 3
    # The internal note is hidden and not followed: trial 3 is reached only through it.
    assert [t.output_id for t in trustees.trials] == [portfolio["trial1"].id]
    assert OutputType.RESEARCH_TOOL not in {c.type for c in trustees.outputs_by_type}


def test_unknown_kind_and_missing_subject(session: so.Session) -> None:
    with pytest.raises(ValueError):
        grant_ids_for(session, "donor", 1, ALL_LEVELS)
    with pytest.raises(ValueError):
        impact_of(session, "grant", 1, ALL_LEVELS)
    with pytest.raises(SubjectNotFound):
        impact_of(session, "programme", 987654, ALL_LEVELS)
    with pytest.raises(SubjectNotFound):
        donor_impact(session, 987654, ALL_LEVELS)


# --------------------------------------------------------------------------- pages


def test_pages_render_for_staff(
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    session: so.Session,
    money: dict[str, Any],
    portfolio: dict[str, Any],
) -> None:
    session.commit()
    logged_in(Role.STAFF)
    pages = {
        f"/programmes/{portfolio['programme'].id}/impact": "Trial 1",
        f"/organisations/{portfolio['host'].id}/impact": "Trial 3",
        f"/funds/{money['fund'].id}/impact": "151,646 EUR",
        f"/donors/{money['donor'].id}/impact": "45,493.71 EUR",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert expected in html, url
        assert '<h2 id="method">Method</h2>' in html, url
    html = client.get(f"/donors/{money['donor'].id}/impact").get_data(as_text=True)
    assert f'href="/outputs/{money["trial"].id}/pathway"' in html
    assert "30.00 %" in html and "Fondazione Brambilla" in html
    for url in (
        "/programmes/987654/impact",
        "/organisations/987654/impact",
        "/funds/987654/impact",
        "/donors/987654/impact",
    ):
        assert client.get(url).status_code == 404, url


def test_detail_pages_link_to_impact(
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    session: so.Session,
    money: dict[str, Any],
    portfolio: dict[str, Any],
) -> None:
    session.commit()
    logged_in(Role.TRUSTEE)
    for detail in (
        f"/programmes/{portfolio['programme'].id}",
        f"/organisations/{portfolio['host'].id}",
        f"/funds/{money['fund'].id}",
        f"/donors/{money['donor'].id}",
    ):
        impact_url = f"{detail}/impact"
        html = client.get(detail).get_data(as_text=True)
        assert f'href="{impact_url}">Impact: outputs and trials downstream</a>' in html, detail


def test_internal_outputs_hidden_from_trustees_on_pages(
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    session: so.Session,
    portfolio: dict[str, Any],
) -> None:
    session.commit()
    logged_in(Role.TRUSTEE)
    html = client.get(f"/organisations/{portfolio['host'].id}/impact").get_data(as_text=True)
    assert "Trial 1" in html
    assert "Trial 3" not in html
    assert "Research tools and methods" not in html


def test_anonymous_donor_hidden_from_trustees(
    app: Any,
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    make_user: Callable[..., Any],
    session: so.Session,
    money: dict[str, Any],
) -> None:
    money["donor"].name = SECRET_NAME
    money["donor"].is_anonymous = True
    session.commit()
    url = f"/donors/{money['donor'].id}/impact"
    logged_in(Role.TRUSTEE)
    html = client.get(url).get_data(as_text=True)
    assert SECRET_NAME not in html
    assert "Impact of Anonymous donor" in html
    assert "45,493.71 EUR" in html  # the figures are still shown

    staff = app.test_client()
    user = make_user(Role.STAFF)
    staff.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert SECRET_NAME in staff.get(url).get_data(as_text=True)


def test_grant_list_is_capped_with_a_count(
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    session: so.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prog = programme(session)
    for year in (2001, 2002, 2003):
        f.grant(session, programme=prog, award_date=date(year, 1, 1), **euro("10.00"))
    session.commit()
    monkeypatch.setattr(impact_queries, "GRANT_CAP", 2)
    impact = impact_of(session, "programme", prog.id, ALL_LEVELS)
    assert (len(impact.grants), impact.totals.grants, impact.grants_capped) == (2, 3, True)
    assert impact.totals.eur == Decimal("30.00")
    logged_in(Role.STAFF)
    html = client.get(f"/programmes/{prog.id}/impact").get_data(as_text=True)
    assert "The first 2 of 3 grants by award date" in html


def _grow(session: so.Session, money: dict[str, Any], portfolio: dict[str, Any], n: int) -> None:
    """Add n grants to every subject, each with an output, a trial and an allocation."""
    for _ in range(n):
        grant = f.grant(
            session, programme=portfolio["programme"], host=portfolio["host"], **euro("1000.00")
        )
        allocate(session, money["fund"], grant, "500.00")
        give(session, money["donor"], money["fund"], "10.00")
        give(session, donor(session), money["fund"], "30.00")
        paper = f.output(session)
        trial = f.trial(session)
        attribute(session, grant, paper)
        link(session, trial, paper)


def test_query_count_does_not_grow(
    client: FlaskClient,
    logged_in: Callable[[Role], Any],
    session: so.Session,
    money: dict[str, Any],
    portfolio: dict[str, Any],
    count_queries: Callable[[], Any],
) -> None:
    urls = [
        f"/programmes/{portfolio['programme'].id}/impact",
        f"/organisations/{portfolio['host'].id}/impact",
        f"/funds/{money['fund'].id}/impact",
        f"/donors/{money['donor'].id}/impact",
    ]
    logged_in(Role.TRUSTEE)

    def counts() -> list[int]:
        session.commit()
        found = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200, url
            found.append(counter.count)
        return found

    small = counts()
    _grow(session, money, portfolio, 6)
    assert counts() == small
    assert max(small) <= 14, small
