"""The demo foundation and the synthetic benchmark data (`grantpath demo load [--scale N]`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import RateTable
from app.demo import (
    FOUNDATION_NAME,
    MESEMS_DOI,
    OTHER_NSC_NCT,
    PATHWAY_TRIALS,
    REAL_DOIS,
    REAL_REGISTRY_IDS,
    STEMS_DOI,
    STEMS_EUDRACT,
    STEMS_NCT,
    find_stems_trial,
    find_trial,
    load_foundation,
    load_synthetic,
)
from app.demo.synthetic import CLUSTER_GRANTS, REFERENCE_DATE, table_counts
from app.models import (
    Attribution,
    ClinicalTrial,
    CoFunding,
    Donation,
    Donor,
    DonorKind,
    EvidenceKind,
    Fund,
    FundAllocation,
    FurtherFunding,
    Grant,
    GrantStatus,
    LinkRelation,
    Organisation,
    OrganisationKind,
    Output,
    OutputLink,
    OutputType,
    Patent,
    Payment,
    Person,
    Programme,
    ProgrammeKind,
    Publication,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
)

INSTITUTION_KINDS = (OrganisationKind.UNIVERSITY, OrganisationKind.HOSPITAL,
                     OrganisationKind.RESEARCH_INSTITUTE)

LINEAGE_GRANTS = sa.text("""
    WITH RECURSIVE upstream(id) AS (
        SELECT CAST(:trial AS INTEGER)
        UNION
        SELECT l.upstream_output_id FROM output_links l JOIN upstream u ON l.output_id = u.id
    )
    SELECT DISTINCT g.id, g.reference, g.award_date, g.currency
    FROM grants g
    JOIN attributions a ON a.grant_id = g.id
    JOIN upstream u ON u.id = a.output_id
""")
LINEAGE_OUTPUTS = sa.text("""
    WITH RECURSIVE upstream(id) AS (
        SELECT CAST(:trial AS INTEGER)
        UNION
        SELECT l.upstream_output_id FROM output_links l JOIN upstream u ON l.output_id = u.id
    )
    SELECT id FROM upstream
""")


def quiet(_: str) -> None:
    """An echo that prints nothing."""


@pytest.fixture
def demo(session: so.Session) -> so.Session:
    assert load_foundation(session, echo=quiet) is not None
    return session


def count(session: so.Session, *columns: Any, where: Any = None) -> int:
    query = sa.select(sa.func.count()).select_from(columns[0])
    if where is not None:
        query = query.where(where)
    return session.execute(query).scalar_one()


def is_acyclic(edges: list[tuple[int, int]]) -> bool:
    """Kahn's algorithm over (output, upstream) pairs."""
    indegree: Counter[int] = Counter()
    children: dict[int, list[int]] = defaultdict(list)
    nodes: set[int] = set()
    for output, upstream in edges:
        children[upstream].append(output)
        indegree[output] += 1
        nodes.update((output, upstream))
    ready = [n for n in nodes if indegree[n] == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return seen == len(nodes)


def all_links(session: so.Session) -> list[tuple[int, int]]:
    return [tuple(row) for row in session.execute(  # type: ignore[misc]
        sa.select(OutputLink.output_id, OutputLink.upstream_output_id))]


# --------------------------------------------------------------------------- CLI


def test_cli_load_twice_adds_nothing(runner: Any, session: so.Session) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded the demo foundation" in result.output
    assert "Done in" in result.output
    before = table_counts(session)
    assert before["grants"] >= 250
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert table_counts(session) == before
    if session.get_bind().dialect.name == "postgresql":
        # Statistics for the planner right after the bulk load (ANALYZE sets reltuples).
        rows = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'grants'"))
        assert rows.scalar_one() == before["grants"]


def test_load_foundation_twice_is_a_no_op(demo: so.Session) -> None:
    before = table_counts(demo)
    assert load_foundation(demo, echo=quiet) is None
    assert table_counts(demo) == before


# --------------------------------------------------------------------------- the portfolio


def foundation_fingerprint(session: so.Session) -> tuple[Any, ...]:
    """The demo's content, independent of primary keys."""
    grants = session.execute(
        sa.select(Grant.reference, Grant.title, Grant.amount_awarded, Grant.award_date,
                  Grant.end_date, Grant.status).order_by(Grant.reference)
    ).all()
    outputs = session.execute(
        sa.select(Output.type, Output.title, Output.output_date).order_by(Output.id)
    ).all()
    donations = session.execute(
        sa.select(Donation.reference, Donation.amount).order_by(Donation.reference)
    ).all()
    return tuple(grants), tuple(outputs), tuple(donations)


def test_foundation_is_deterministic(session: so.Session) -> None:
    with session.begin_nested() as nested:
        load_foundation(session, echo=quiet)
        first = foundation_fingerprint(session)
        nested.rollback()
    load_foundation(session, echo=quiet)
    assert foundation_fingerprint(session) == first


def test_portfolio_counts(demo: so.Session) -> None:
    grants = demo.execute(sa.select(Grant.award_date, Grant.currency, Grant.status)).all()
    assert len(grants) >= 250
    years = [g.award_date.year for g in grants]
    assert min(years) == 1987 and max(years) == 2025
    assert all(g.currency == ("ITL" if g.award_date < date(2002, 1, 1) else "EUR")
               for g in grants)
    assert {g.status for g in grants} == set(GrantStatus)
    assert count(demo, Organisation, where=Organisation.kind.in_(INSTITUTION_KINDS)) >= 40
    assert count(demo, Person) >= 120
    assert count(demo, Output) >= 800
    types = set(demo.execute(sa.select(Output.type).distinct()).scalars())
    assert types == set(OutputType)
    kinds = set(demo.execute(sa.select(Programme.kind).distinct()).scalars())
    assert kinds >= {ProgrammeKind.ANNUAL_CALL, ProgrammeKind.PILOT, ProgrammeKind.FELLOWSHIP,
                     ProgrammeKind.SPECIAL_PROJECT}
    assert demo.execute(sa.select(Programme.id).where(Programme.name == "Annual call 2004")
                        ).scalar() is not None
    assert count(demo, Fund, where=Fund.is_restricted) >= 1
    assert count(demo, Fund, where=~Fund.is_restricted) >= 1
    assert set(demo.execute(sa.select(Donor.kind).distinct()).scalars()) == set(DonorKind)
    assert count(demo, Donor, where=Donor.is_anonymous) >= 1
    assert count(demo, Donation) >= 100
    donations = demo.execute(sa.select(Donation.received_on, Donation.currency)).all()
    assert all(d.currency == ("ITL" if d.received_on < date(2002, 1, 1) else "EUR")
               for d in donations)
    assert count(demo, FundAllocation) >= 250
    assert count(demo, CoFunding) >= 5
    assert count(demo, Grant, where=Grant.previous_grant_id.is_not(None)) >= 3
    # Typed details exist for every output of the typed kinds.
    for output_type, detail in ((OutputType.PUBLICATION, Publication),
                                (OutputType.FURTHER_FUNDING, FurtherFunding),
                                (OutputType.INTELLECTUAL_PROPERTY, Patent)):
        outputs = count(demo, Output, where=Output.type == output_type)
        assert count(demo, detail) == outputs
    precisions = Counter(demo.execute(sa.select(Output.date_precision)).scalars())
    assert len(precisions) == 3


def test_grant_dates_statuses_and_payments(demo: so.Session) -> None:
    grants = demo.execute(sa.select(Grant)).scalars().all()
    paid = dict(demo.execute(
        sa.select(Payment.grant_id, sa.func.sum(Payment.amount)).group_by(Payment.grant_id)
    ).all())
    allocated = dict(demo.execute(
        sa.select(FundAllocation.grant_id, sa.func.sum(FundAllocation.amount))
        .group_by(FundAllocation.grant_id)
    ).all())
    overdue = 0
    for grant in grants:
        assert grant.start_date is not None and grant.end_date is not None
        assert grant.award_date <= grant.start_date <= grant.end_date
        if grant.status is GrantStatus.WITHDRAWN:
            assert grant.id not in paid
        else:
            assert paid[grant.id] == grant.amount_awarded, grant.reference
            assert allocated[grant.id] == grant.amount_awarded, grant.reference
        if grant.status is GrantStatus.COMPLETED:
            assert grant.end_date < REFERENCE_DATE
            assert grant.outcome_report_due is not None
            received, due = grant.outcome_report_received, grant.outcome_report_due
            if received is None and due < date(2025, 1, 1):
                overdue += 1
        if grant.status is GrantStatus.AWARDED:
            assert grant.start_date > REFERENCE_DATE
        if grant.status is GrantStatus.ACTIVE:
            assert grant.start_date <= REFERENCE_DATE <= grant.end_date
        if grant.previous_grant_id is not None:
            assert grant.relation_to_previous is not None
    assert 1 <= overdue <= 30
    levels = Counter(g.confidentiality.value for g in grants)
    assert levels["public"] > 0.8 * len(grants) and levels["trustees"] and levels["internal"]


def test_attributions_and_links_are_well_formed(demo: so.Session) -> None:
    rows = demo.execute(sa.select(Attribution)).scalars().all()
    assert {a.evidence for a in rows} == set(EvidenceKind)
    shares = [a.share for a in rows if a.share is not None]
    assert shares and all(Decimal(0) < s <= 1 and s == round(s, 4) for s in shares)
    assert all(a.confirmed_by_id is None and a.confirmed_at is None for a in rows)
    assert all(a.evidence_text for a in rows)
    relations = set(demo.execute(sa.select(OutputLink.relation).distinct()).scalars())
    assert relations == set(LinkRelation)
    assert is_acyclic(all_links(demo))


def test_every_amount_eur_follows_the_rate_table(demo: so.Session) -> None:
    rates = RateTable.load(demo)
    checks = (
        (Grant.amount_awarded, Grant.currency, Grant.award_date, Grant.amount_eur, None),
        (Payment.amount, Payment.currency, Payment.due_date, Payment.amount_eur, None),
        (Donation.amount, Donation.currency, Donation.received_on, Donation.amount_eur, None),
        (CoFunding.amount, CoFunding.currency, Grant.award_date, CoFunding.amount_eur,
         (Grant, CoFunding.grant_id == Grant.id)),
        (FundAllocation.amount, FundAllocation.currency, Grant.award_date,
         FundAllocation.amount_eur, (Grant, FundAllocation.grant_id == Grant.id)),
        (FurtherFunding.amount, FurtherFunding.currency, Output.output_date,
         FurtherFunding.amount_eur, (Output, FurtherFunding.output_id == Output.id)),
    )
    currencies: set[str] = set()
    for amount, currency, on, eur, join in checks:
        query = sa.select(amount, currency, on, eur)
        if join is not None:
            query = query.join(*join)
        rows = demo.execute(query).all()
        assert rows
        for value, code, day, stored in rows:
            currencies.add(code)
            assert stored is not None
            assert stored == rates.to_eur(value, code, day), (amount, value, code)
    assert {"ITL", "EUR", "DEM"} <= currencies


# --------------------------------------------------------------------------- real records


def test_stems_trial_and_paper(demo: so.Session) -> None:
    trial_id = find_stems_trial(demo)
    assert trial_id is not None
    assert find_trial(demo, STEMS_EUDRACT) == trial_id
    schemes = dict(demo.execute(
        sa.select(TrialRegistryId.scheme, TrialRegistryId.value)
        .where(TrialRegistryId.trial_output_id == trial_id)
    ).all())
    assert schemes == {TrialRegistry.NCT: STEMS_NCT, TrialRegistry.EUDRACT: STEMS_EUDRACT}
    trial = demo.get(ClinicalTrial, trial_id)
    assert trial is not None
    assert trial.acronym == "STEMS"
    assert trial.phase is TrialPhase.PHASE_1 and trial.status is TrialStatus.COMPLETED
    assert trial.enrolment_actual == 12
    assert trial.first_patient_date == date(2017, 5, 1)
    assert trial.completion_date == date(2021, 7, 1)
    assert trial.sponsor is not None and trial.sponsor.name == "IRCCS Ospedale San Raffaele"
    assert not trial.sponsor.is_fictional
    assert not trial.output.is_fictional
    assert trial.output.type is OutputType.MEDICAL_PRODUCT
    paper = demo.execute(sa.select(Publication).where(Publication.doi == STEMS_DOI)).scalar_one()
    assert paper.journal == "Nature Medicine"
    assert paper.output.output_date == date(2023, 1, 11)
    assert not paper.output.is_fictional
    relation = demo.execute(sa.select(OutputLink.relation).where(
        OutputLink.output_id == paper.output_id, OutputLink.upstream_output_id == trial_id
    )).scalar_one()
    assert relation is LinkRelation.REPORTS_RESULTS_OF
    nature_2003 = demo.execute(sa.select(Publication).join(Output).where(
        Output.title.like("Injection of adult neurospheres%"))).scalar_one()
    assert nature_2003.doi is None and nature_2003.volume == "422"
    assert nature_2003.pages == "688-694"
    mesems_paper = demo.execute(
        sa.select(Publication).where(Publication.doi == MESEMS_DOI)).scalar_one()
    assert mesems_paper.year == 2021


def test_stems_pathway_spans_years_currencies_and_has_a_diamond(demo: so.Session) -> None:
    trial_id = find_stems_trial(demo)
    grants = demo.execute(LINEAGE_GRANTS, {"trial": trial_id}).all()
    assert len(grants) >= 8
    years = [date.fromisoformat(str(g.award_date)).year for g in grants]
    assert max(years) - min(years) >= 15
    assert {g.currency for g in grants} == {"ITL", "EUR"}
    assert all(g.reference.startswith("FMR-") for g in grants)
    lineage = set(demo.execute(LINEAGE_OUTPUTS, {"trial": trial_id}).scalars())
    edges = [(o, u) for o, u in all_links(demo) if o in lineage and u in lineage]
    # A diamond: some output is reached along two different edges of the lineage.
    assert max(Counter(u for _, u in edges).values()) >= 2
    # The invented science chains back to the late 1980s.
    first = min(demo.execute(sa.select(Output.output_date).where(
        Output.id.in_(lineage), Output.output_date.is_not(None))).scalars())
    assert first.year <= 1991


def test_three_pathway_trials_and_the_unrelated_trial(demo: so.Session) -> None:
    for acronym, nct in PATHWAY_TRIALS.items():
        trial_id = find_trial(demo, nct)
        assert trial_id is not None, acronym
        assert demo.get(ClinicalTrial, trial_id).acronym == acronym  # type: ignore[union-attr]
        grants = demo.execute(LINEAGE_GRANTS, {"trial": trial_id}).all()
        assert len(grants) >= 1, acronym
    other = find_trial(demo, OTHER_NSC_NCT)
    assert other is not None and other != find_stems_trial(demo)
    assert count(demo, Attribution, where=Attribution.output_id == other) == 0
    assert count(demo, OutputLink, where=sa.or_(OutputLink.output_id == other,
                                                OutputLink.upstream_output_id == other)) == 0


def test_invented_records_are_flagged_and_carry_no_real_identifier(demo: so.Session) -> None:
    assert count(demo, Grant, where=~Grant.is_fictional) == 0
    assert count(demo, Person, where=~Person.is_fictional) == 0
    assert count(demo, Donor, where=~Donor.is_fictional) == 0
    real_orgs = demo.execute(sa.select(Organisation.name).where(~Organisation.is_fictional)
                             ).scalars().all()
    assert real_orgs == ["IRCCS Ospedale San Raffaele"]
    assert demo.execute(sa.select(Organisation.id).where(
        Organisation.name == FOUNDATION_NAME, Organisation.is_fictional)).scalar() is not None
    assert count(demo, Organisation, where=sa.or_(
        Organisation.ror_id.is_not(None), Organisation.crossref_funder_id.is_not(None),
        Organisation.org_id.is_not(None))) == 0
    assert count(demo, Person, where=Person.orcid.is_not(None)) == 0
    fictional_pubs = demo.execute(
        sa.select(Publication.doi, Publication.pmid, Publication.pmcid)
        .join(Output).where(Output.is_fictional)
    ).all()
    assert fictional_pubs
    assert all(p.doi is None or p.doi not in REAL_DOIS for p in fictional_pubs)
    assert all(p.pmid is None and p.pmcid is None for p in fictional_pubs)
    fictional_registry = demo.execute(
        sa.select(TrialRegistryId.value).join(Output, Output.id == TrialRegistryId.trial_output_id)
        .where(Output.is_fictional)
    ).scalars().all()
    assert not set(fictional_registry) & REAL_REGISTRY_IDS
    assert count(demo, ClinicalTrial, where=ClinicalTrial.output_id.in_(
        sa.select(Output.id).where(Output.is_fictional))) >= 3
    # The real records are exactly the verified ones.
    real_dois = set(demo.execute(sa.select(Publication.doi).join(Output).where(
        ~Output.is_fictional, Publication.doi.is_not(None))).scalars())
    assert real_dois == set(REAL_DOIS)
    registry = set(demo.execute(sa.select(TrialRegistryId.value)).scalars())
    assert registry == set(REAL_REGISTRY_IDS)
    assert all(p.startswith("DEMO-") for p in demo.execute(sa.select(Patent.number)).scalars())
    assert count(demo, Output, where=~Output.is_fictional) == 8


# --------------------------------------------------------------------------- --scale


def synthetic_fingerprint(session: so.Session) -> tuple[Any, ...]:
    """Synthetic content independent of primary keys."""
    grants = session.execute(
        sa.select(Grant.reference, Grant.title, Grant.amount_awarded, Grant.currency,
                  Grant.award_date, Grant.status)
        .where(Grant.reference.like("SYN-%")).order_by(Grant.reference)
    ).all()
    up = so.aliased(Output)
    down = so.aliased(Output)
    links = session.execute(
        sa.select(down.title, up.title, OutputLink.relation)
        .join(down, down.id == OutputLink.output_id)
        .join(up, up.id == OutputLink.upstream_output_id)
        .where(down.title.like("%(SYN-%")).order_by(down.title, up.title)
    ).all()
    return tuple(grants), tuple(links)


def test_scale_adds_grants_idempotently_and_reproducibly(session: so.Session) -> None:
    with session.begin_nested() as nested:
        load_synthetic(session, 450, echo=quiet)
        one_shot = synthetic_fingerprint(session)
        nested.rollback()

    added = load_synthetic(session, 300, echo=quiet)
    assert added["grants"] == 300
    assert 3 * 300 <= added["outputs"] <= 5 * 300
    assert added["people"] == 150 and added["organisations"] == 2
    assert added["publications"] > 0 and added["further_fundings"] > 0 and added["patents"] > 0
    assert 0.5 * added["outputs"] <= added["output_links"] <= added["outputs"]
    assert added["attributions"] > added["outputs"]
    before = table_counts(session)
    assert load_synthetic(session, 300, echo=quiet) == Counter()
    assert table_counts(session) == before

    more = load_synthetic(session, 450, echo=quiet)
    assert more["grants"] == 150
    assert synthetic_fingerprint(session) == one_shot

    references = session.execute(
        sa.select(Grant.reference).where(Grant.reference.like("SYN-%")).order_by(Grant.reference)
    ).scalars().all()
    assert references == [f"SYN-{i:07d}" for i in range(1, 451)]
    types = set(session.execute(sa.select(Output.type).join(Attribution).join(Grant).where(
        Grant.reference.like("SYN-%")).distinct()).scalars())
    assert len(types) >= 12
    trials = session.execute(sa.select(ClinicalTrial.output_id).join(Output).where(
        Output.title.like("%(SYN-%"))).scalars().all()
    assert trials
    assert count(session, TrialRegistryId,
                 where=TrialRegistryId.trial_output_id.in_(trials)) == 0


def test_scale_links_are_local_and_acyclic(session: so.Session) -> None:
    load_synthetic(session, 300, echo=quiet)
    # The grant that produced each output: the lowest attribution id.
    first_attribution = (
        sa.select(Attribution.output_id, sa.func.min(Attribution.id).label("aid"))
        .group_by(Attribution.output_id).subquery()
    )
    home = dict(session.execute(
        sa.select(first_attribution.c.output_id, Grant.reference)
        .join(Attribution, Attribution.id == first_attribution.c.aid)
        .join(Grant, Grant.id == Attribution.grant_id)
        .where(Grant.reference.like("SYN-%"))
    ).all())
    links = all_links(session)
    synthetic = [(o, u) for o, u in links if o in home]
    assert synthetic
    for output, upstream in synthetic:
        assert upstream in home
        assert upstream < output
        cluster = (int(home[output][4:]) - 1) // CLUSTER_GRANTS
        assert (int(home[upstream][4:]) - 1) // CLUSTER_GRANTS == cluster
    assert is_acyclic(links)
    for trial in session.execute(sa.select(ClinicalTrial.output_id).where(
            ClinicalTrial.output_id.in_(list(home)))).scalars():
        lineage = session.execute(LINEAGE_OUTPUTS, {"trial": trial}).scalars().all()
        assert len(lineage) <= 4 * CLUSTER_GRANTS * 2
