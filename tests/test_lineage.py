"""The impact graph: lineage of an output, pathway figures, downstream, `grantpath lineage`.

Expectations are computed by hand on small graphs, and by a plain Python
breadth-first search on random DAGs (hypothesis).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import count
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import orm as so

from app.currency import RateTable
from app.lineage import (
    METHOD_NOTE,
    OutputNotFound,
    downstream_output_ids,
    downstream_trials,
    lineage,
    resolve_output_id,
    upstream_output_ids,
)
from app.lineage.cli import lineage_command
from app.models import (
    Attribution,
    Confidentiality,
    EvidenceKind,
    Grant,
    GrantInvestigator,
    LinkRelation,
    Output,
    OutputLink,
    Role,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    User,
)
from app.visibility import ALL_LEVELS

from . import factories as f

PUBLIC = (Confidentiality.PUBLIC,)
TRUSTEES = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
NOW = datetime(2024, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")
_users = count(1)


# --------------------------------------------------------------------------- builders


def make_user(session: so.Session) -> User:
    user = User(email=f"confirmer{next(_users)}@example.org", password_hash="x", role=Role.STAFF)
    session.add(user)
    session.flush()
    return user


def link(
    session: so.Session, output: Output, upstream: Output, confirmed_by: User | None = None,
    relation: LinkRelation = LinkRelation.BUILDS_ON,
) -> OutputLink:
    row = OutputLink(
        output_id=output.id, upstream_output_id=upstream.id, relation=relation,
        evidence=EvidenceKind.STAFF_JUDGEMENT,
        confirmed_by_id=confirmed_by.id if confirmed_by else None,
        confirmed_at=NOW if confirmed_by else None,
    )
    session.add(row)
    session.flush()
    return row


def attribute(
    session: so.Session, grant: Grant, output: Output, share: str | Decimal | None = None,
    confirmed_by: User | None = None, evidence: EvidenceKind = EvidenceKind.ACKNOWLEDGED,
) -> Attribution:
    row = Attribution(
        grant_id=grant.id, output_id=output.id,
        share=Decimal(share) if share is not None else None, evidence=evidence,
        evidence_text="Supported by the foundation",
        confirmed_by_id=confirmed_by.id if confirmed_by else None,
        confirmed_at=NOW if confirmed_by else None,
    )
    session.add(row)
    session.flush()
    return row


def stems(session: so.Session, **fields: Any) -> Output:
    """A trial output with NCT and EudraCT ids, first patient in May 2017."""
    trial = f.trial(session, title="Neural stem cells in progressive MS",
                    output_date=date(2016, 11, 1), **fields)
    assert trial.trial is not None
    trial.trial.acronym = "STEMS"
    trial.trial.start_date = date(2017, 3, 1)
    trial.trial.first_patient_date = date(2017, 5, 10)
    trial.trial.registry_ids = [
        TrialRegistryId(scheme=TrialRegistry.NCT, value="NCT03269071"),
        TrialRegistryId(scheme=TrialRegistry.EUDRACT, value="2016-002020-86"),
    ]
    session.flush()
    return trial


def euro(amount: str) -> dict[str, Any]:
    return {"amount_awarded": Decimal(amount), "currency": "EUR", "amount_eur": Decimal(amount)}


def lire(session: so.Session, amount: str, on: date) -> dict[str, Any]:
    """A lira award with its euro equivalent from the rate table, as the app stores it."""
    value = Decimal(amount)
    return {"amount_awarded": value, "currency": "ITL",
            "amount_eur": RateTable.load(session).to_eur(value, "ITL", on), "award_date": on}


def grant_refs(result: Any) -> set[str]:
    return {g.reference for g in result.grants}


@pytest.fixture
def cli(app: Flask, runner: FlaskCliRunner) -> FlaskCliRunner:
    if "lineage" not in app.cli.commands:
        app.cli.add_command(lineage_command)
    return runner


# --------------------------------------------------------------------------- chain


@pytest.fixture
def chain(session: so.Session) -> dict[str, Any]:
    """STEMS ← preclinical paper (2005) ← mouse paper (1993), one grant at each level."""
    org_a = f.organisation(session, name="Università di Milano")
    org_b = f.organisation(session, name="IRCCS San Raffaele")
    pi_a = f.person(session, given_names="Gianvito", family_name="Martino")
    pi_b = f.person(session, given_names="Stefano", family_name="Pluchino")
    co = f.person(session, given_names="Angelo", family_name="Vescovi")
    trial = stems(session)
    preclinical = f.output(session, title="Neurospheres in EAE", output_date=date(2005, 7, 1))
    mouse = f.output(session, title="Mouse model", output_date=date(1993, 1, 1))
    link(session, trial, preclinical, relation=LinkRelation.FOLLOW_UP_OF)
    link(session, preclinical, mouse)
    g1990 = f.grant(session, reference="FISM-1990-01", host=org_a, principal_investigator=pi_a,
                    **lire(session, "100000000.00", date(1990, 6, 1)))
    g1990.investigators = [GrantInvestigator(person=co)]
    g2003 = f.grant(session, reference="FISM-2003-07", host=org_b, principal_investigator=pi_b,
                    award_date=date(2003, 5, 1), **euro("250000.00"))
    g2003.investigators = [GrantInvestigator(person=pi_a), GrantInvestigator(person=co)]
    g2015 = f.grant(session, reference="FISM-2015-SP", host=org_b, principal_investigator=pi_a,
                    award_date=date(2015, 2, 1), **euro("400000.00"))
    session.flush()
    attribute(session, g1990, mouse)
    attribute(session, g2003, preclinical)
    attribute(session, g2015, trial, evidence=EvidenceKind.REGISTRY_RECORD)
    return {"trial": trial, "preclinical": preclinical, "mouse": mouse}


def test_lire_converted_at_the_fixed_rate(session: so.Session) -> None:
    # 100,000,000 ITL / 1,936.27 = 51,645.689...
    assert lire(session, "100000000.00", date(1990, 6, 1))["amount_eur"] == Decimal("51645.69")


def test_chain(session: so.Session, chain: dict[str, Any]) -> None:
    trial, preclinical, mouse = chain["trial"], chain["preclinical"], chain["mouse"]
    assert upstream_output_ids(session, trial.id, ALL_LEVELS) == {
        trial.id: 0, preclinical.id: 1, mouse.id: 2}

    result = lineage(session, trial.id, ALL_LEVELS)
    assert result.output.id == trial.id
    assert result.output.trial is not None
    assert result.output.trial.acronym == "STEMS"
    assert result.output.trial.phase == TrialPhase.PHASE_1
    assert [(r.scheme, r.value) for r in result.output.trial.registry_ids] == [
        (TrialRegistry.EUDRACT, "2016-002020-86"), (TrialRegistry.NCT, "NCT03269071")]
    assert [(o.id, o.depth, o.year) for o in result.outputs] == [
        (preclinical.id, 1, 2005), (mouse.id, 2, 1993)]
    assert {(e.output_id, e.upstream_output_id, e.relation) for e in result.edges} == {
        (trial.id, preclinical.id, LinkRelation.FOLLOW_UP_OF),
        (preclinical.id, mouse.id, LinkRelation.BUILDS_ON)}

    grants = {g.reference: g for g in result.grants}
    assert [g.reference for g in result.grants] == ["FISM-1990-01", "FISM-2003-07", "FISM-2015-SP"]
    old = grants["FISM-1990-01"]
    assert (old.amount, old.currency, old.amount_eur, old.depth) == (
        Decimal("100000000.00"), "ITL", Decimal("51645.69"), 2)
    assert old.institution == "Università di Milano"
    assert old.investigators == ("Gianvito Martino", "Angelo Vescovi")
    # The PI first, then co-investigators by family name.
    assert grants["FISM-2003-07"].investigators == (
        "Stefano Pluchino", "Gianvito Martino", "Angelo Vescovi")
    assert grants["FISM-2015-SP"].depth == 0
    assert grants["FISM-2015-SP"].attributions[0].evidence == EvidenceKind.REGISTRY_RECORD

    s = result.summary
    assert s.grant_count == 3
    assert s.total_awarded_eur == Decimal("701645.69")
    assert s.attributed_eur is None  # no shares recorded
    assert (s.first_grant_year, s.trial_start_year, s.years_to_trial) == (1990, 2017, 27)
    assert s.institution_count == 2
    assert s.researcher_count == 3
    assert result.method_note == METHOD_NOTE


def test_lineage_of_a_middle_output_stops_there(session: so.Session,
                                                chain: dict[str, Any]) -> None:
    result = lineage(session, chain["preclinical"].id, ALL_LEVELS)
    assert result.output.trial is None
    assert grant_refs(result) == {"FISM-1990-01", "FISM-2003-07"}
    # Not a trial: the "trial start" is the output's own year.
    assert (result.summary.trial_start_year, result.summary.years_to_trial) == (2005, 15)


def test_trial_start_falls_back_to_start_date(session: so.Session) -> None:
    trial = f.trial(session, output_date=date(2019, 1, 1))
    assert trial.trial is not None
    trial.trial.start_date = date(2018, 9, 1)
    g = f.grant(session, award_date=date(2011, 1, 1))
    attribute(session, g, trial)
    assert lineage(session, trial.id, ALL_LEVELS).summary.years_to_trial == 7


def test_lineage_runs_in_five_queries(session: so.Session, chain: dict[str, Any],
                                      count_queries: Callable[[], Any]) -> None:
    trial_id = chain["trial"].id
    session.commit()  # nothing left to flush inside the counted block
    with count_queries() as counter:
        lineage(session, trial_id, ALL_LEVELS)
    selects = [s for s in counter.statements if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(selects) == 5, selects


def test_output_without_anything_upstream(session: so.Session) -> None:
    lonely = f.output(session, output_date=None)
    result = lineage(session, lonely.id, ALL_LEVELS)
    assert (result.outputs, result.edges, result.grants) == ((), (), ())
    s = result.summary
    assert (s.grant_count, s.total_awarded_eur, s.attributed_eur) == (0, Decimal(0), None)
    assert (s.first_grant_year, s.trial_start_year, s.years_to_trial) == (None, None, None)
    assert (s.institution_count, s.researcher_count) == (0, 0)


# --------------------------------------------------------------------------- diamonds, sharing


def test_diamond_counts_each_grant_once(session: so.Session) -> None:
    #      T
    #     / \
    #    A   B
    #     \ / \
    #      C   |
    #      |   |
    #      D --+      (B stands on C and directly on D: D is at depth 2, not 3)
    t = f.trial(session)
    a, b, c, d = (f.output(session, title=name) for name in "ABCD")
    for down, up in ((t, a), (t, b), (a, c), (b, c), (c, d), (b, d)):
        link(session, down, up)
    twice = f.grant(session, reference="TWICE", **euro("1000.00"))
    attribute(session, twice, a)
    attribute(session, twice, c)
    deep = f.grant(session, reference="DEEP", **euro("500.00"))
    attribute(session, deep, d)

    assert upstream_output_ids(session, t.id, ALL_LEVELS) == {
        t.id: 0, a.id: 1, b.id: 1, c.id: 2, d.id: 2}
    result = lineage(session, t.id, ALL_LEVELS)
    assert len(result.outputs) == 4
    assert len(result.edges) == 6
    assert [g.reference for g in result.grants].count("TWICE") == 1
    twice_row = next(g for g in result.grants if g.reference == "TWICE")
    assert twice_row.depth == 1
    assert [(x.output_id, x.depth) for x in twice_row.attributions] == [(a.id, 1), (c.id, 2)]
    assert result.summary.grant_count == 2
    assert result.summary.total_awarded_eur == Decimal("1500.00")
    assert result.summary.institution_count == 2


def test_grant_shared_by_two_trials_counts_in_each(session: so.Session) -> None:
    paper = f.output(session)
    one, two = f.trial(session), f.trial(session)
    link(session, one, paper)
    link(session, two, paper)
    shared = f.grant(session, reference="SHARED", **euro("300.00"))
    attribute(session, shared, paper)
    attribute(session, shared, two)
    own = f.grant(session, reference="OWN", **euro("50.00"))
    attribute(session, own, one)
    first, second = lineage(session, one.id, ALL_LEVELS), lineage(session, two.id, ALL_LEVELS)
    assert grant_refs(first) == {"SHARED", "OWN"}
    assert first.summary.total_awarded_eur == Decimal("350.00")
    assert grant_refs(second) == {"SHARED"}
    assert second.summary.total_awarded_eur == Decimal("300.00")
    assert next(iter(second.grants)).depth == 0


# --------------------------------------------------------------------------- shares and money


def test_attributed_figure_uses_the_largest_share_in_the_pathway(session: so.Session) -> None:
    t = f.trial(session)
    a, c = f.output(session), f.output(session)
    elsewhere = f.output(session)  # not in the pathway
    link(session, t, a)
    link(session, a, c)
    half = f.grant(session, reference="HALF", **euro("100000.00"))
    attribute(session, half, a, share="0.25")
    attribute(session, half, c, share="0.5")
    attribute(session, half, elsewhere, share="1")  # ignored: outside the pathway
    no_share = f.grant(session, reference="NOSHARE", **euro("200000.00"))
    attribute(session, no_share, t)
    old = f.grant(session, reference="LIRE", **lire(session, "100000000.00", date(1995, 3, 1)))
    attribute(session, old, c, share="0.3333")
    unknown = f.grant(session, reference="UNKNOWN", amount_awarded=Decimal("10.00"),
                      currency="XAF", amount_eur=None)
    attribute(session, unknown, c, share="1")

    result = lineage(session, t.id, ALL_LEVELS)
    s = result.summary
    assert s.grant_count == 4
    # The grant without a euro amount is listed but not summed.
    assert s.total_awarded_eur == Decimal("100000.00") + Decimal("200000.00") + Decimal("51645.69")
    assert s.unconverted_grant_count == 1
    # 100,000 × 0.5 + 51,645.69 × 0.3333 (= 17,213.508477 → 17,213.51); NOSHARE not included.
    assert s.attributed_eur == Decimal("67213.51")
    assert s.shared_grant_count == 2
    grants = {g.reference: g for g in result.grants}
    assert grants["HALF"].share == Decimal("0.5")
    assert grants["NOSHARE"].share is None
    assert grants["LIRE"].attributed_eur == Decimal("17213.51")


def test_full_share_equals_total(session: so.Session) -> None:
    t = f.trial(session)
    g = f.grant(session, **euro("1234.56"))
    attribute(session, g, t, share="1")
    s = lineage(session, t.id, ALL_LEVELS).summary
    assert s.attributed_eur == s.total_awarded_eur == Decimal("1234.56")


# --------------------------------------------------------------------------- visibility


def test_hidden_and_deleted_outputs_are_not_traversed(session: so.Session) -> None:
    #   T ← X(internal) ← Y        T ← D(deleted) ← Z        T ← W ← Y
    t = f.trial(session)
    x = f.output(session, confidentiality=Confidentiality.INTERNAL)
    y, z, w = f.output(session), f.output(session), f.output(session)
    d = f.output(session, deleted_at=NOW)
    for down, up in ((t, x), (x, y), (t, d), (d, z), (t, w), (w, y)):
        link(session, down, up)
    for target, ref in ((x, "ON-X"), (y, "ON-Y"), (z, "ON-Z"), (d, "ON-D")):
        attribute(session, f.grant(session, reference=ref), target)

    public = upstream_output_ids(session, t.id, PUBLIC)
    assert public == {t.id: 0, w.id: 1, y.id: 2}  # Y only through W
    assert upstream_output_ids(session, t.id, ALL_LEVELS) == {
        t.id: 0, x.id: 1, w.id: 1, y.id: 2}
    assert grant_refs(lineage(session, t.id, PUBLIC)) == {"ON-Y"}
    everything = lineage(session, t.id, ALL_LEVELS)
    assert grant_refs(everything) == {"ON-X", "ON-Y"}
    assert len(everything.edges) == 4


def test_hidden_and_deleted_grants_are_left_out(session: so.Session) -> None:
    t = f.trial(session)
    shown = f.grant(session, reference="SHOWN")
    for_trustees = f.grant(session, reference="TRUSTEES", confidentiality=Confidentiality.TRUSTEES)
    internal = f.grant(session, reference="INTERNAL", confidentiality=Confidentiality.INTERNAL)
    gone = f.grant(session, reference="GONE", deleted_at=NOW)
    for g in (shown, for_trustees, internal, gone):
        attribute(session, g, t)
    assert grant_refs(lineage(session, t.id, PUBLIC)) == {"SHOWN"}
    assert grant_refs(lineage(session, t.id, TRUSTEES)) == {"SHOWN", "TRUSTEES"}
    assert grant_refs(lineage(session, t.id, ALL_LEVELS)) == {"SHOWN", "TRUSTEES", "INTERNAL"}


def test_invisible_or_deleted_root_is_not_found(session: so.Session) -> None:
    secret = f.trial(session, confidentiality=Confidentiality.INTERNAL)
    gone = f.trial(session, deleted_at=NOW)
    with pytest.raises(OutputNotFound):
        lineage(session, secret.id, PUBLIC)
    assert upstream_output_ids(session, secret.id, PUBLIC) == {}
    with pytest.raises(OutputNotFound):
        lineage(session, gone.id, ALL_LEVELS)
    assert lineage(session, secret.id, ALL_LEVELS).output.id == secret.id


def test_confirmed_only(session: so.Session) -> None:
    staff = make_user(session)
    t = f.trial(session)
    a, b = f.output(session), f.output(session)
    link(session, t, a, confirmed_by=staff)
    link(session, a, b)  # not confirmed
    sure = f.grant(session, reference="SURE")
    attribute(session, sure, a, confirmed_by=staff)
    unsure = f.grant(session, reference="UNSURE")
    attribute(session, unsure, a)
    beyond = f.grant(session, reference="BEYOND")
    attribute(session, beyond, b, confirmed_by=staff)

    assert upstream_output_ids(session, t.id, ALL_LEVELS, confirmed_only=True) == {
        t.id: 0, a.id: 1}
    confirmed = lineage(session, t.id, ALL_LEVELS, confirmed_only=True)
    assert grant_refs(confirmed) == {"SURE"}
    assert [e.confirmed for e in confirmed.edges] == [True]
    assert confirmed.confirmed_only
    everything = lineage(session, t.id, ALL_LEVELS)
    assert grant_refs(everything) == {"SURE", "UNSURE", "BEYOND"}
    assert sorted(e.confirmed for e in everything.edges) == [False, True]
    flags = {g.reference: g.attributions[0].confirmed for g in everything.grants}
    assert flags == {"SURE": True, "UNSURE": False, "BEYOND": True}


# --------------------------------------------------------------------------- downstream


def test_downstream_of_a_grant(session: so.Session, chain: dict[str, Any]) -> None:
    trial, preclinical, mouse = chain["trial"], chain["preclinical"], chain["mouse"]
    other_trial = f.trial(session)
    link(session, other_trial, mouse)
    hidden = f.output(session, confidentiality=Confidentiality.INTERNAL)
    link(session, hidden, mouse)
    old = session.scalars(sa.select(Grant).where(Grant.reference == "FISM-1990-01")).one()

    assert downstream_output_ids(session, [old.id], PUBLIC) == {
        mouse.id: 0, preclinical.id: 1, trial.id: 2, other_trial.id: 1}
    trials = downstream_trials(session, [old.id], PUBLIC)
    assert [(t.output_id, t.depth) for t in trials] == [(trial.id, 2), (other_trial.id, 1)]
    assert trials[0].acronym == "STEMS"
    assert [r.value for r in trials[0].registry_ids] == ["2016-002020-86", "NCT03269071"]
    assert hidden.id in downstream_output_ids(session, [old.id], ALL_LEVELS)
    assert downstream_output_ids(session, [], ALL_LEVELS) == {}
    assert downstream_trials(session, [], ALL_LEVELS) == ()


def test_downstream_of_a_deleted_grant_is_empty(session: so.Session) -> None:
    t = f.trial(session)
    g = f.grant(session, deleted_at=NOW)
    attribute(session, g, t)
    assert downstream_output_ids(session, [g.id], ALL_LEVELS) == {}


# --------------------------------------------------------------------------- resolving


def test_resolve_by_id_and_registry_numbers(session: so.Session) -> None:
    trial = stems(session)
    assert resolve_output_id(session, str(trial.id)) == trial.id
    assert resolve_output_id(session, f" {trial.id} ") == trial.id
    assert resolve_output_id(session, "NCT03269071") == trial.id
    assert resolve_output_id(session, "nct 03269071") == trial.id
    assert resolve_output_id(session, "2016-002020-86") == trial.id
    assert resolve_output_id(session, "EudraCT 2016-002020-86") == trial.id


def test_resolve_unknown(session: so.Session) -> None:
    with pytest.raises(OutputNotFound, match="No trial with ClinicalTrials.gov id NCT00000000"):
        resolve_output_id(session, "NCT00000000")
    with pytest.raises(OutputNotFound, match="No trial with EudraCT id 2099-000001-11"):
        resolve_output_id(session, "2099-000001-11")
    with pytest.raises(OutputNotFound, match="No output with id 987654321"):
        resolve_output_id(session, "987654321")
    with pytest.raises(OutputNotFound, match="neither an output id nor a trial registry id"):
        resolve_output_id(session, "STEMS")
    assert issubclass(OutputNotFound, LookupError)


def test_resolve_skips_deleted_trials(session: so.Session) -> None:
    trial = stems(session)
    trial.deleted_at = NOW
    session.flush()
    with pytest.raises(OutputNotFound):
        resolve_output_id(session, "NCT03269071")
    with pytest.raises(OutputNotFound):
        resolve_output_id(session, str(trial.id))


# --------------------------------------------------------------------------- CLI


def test_cli_json_shape(session: so.Session, chain: dict[str, Any], cli: FlaskCliRunner) -> None:
    session.commit()
    result = cli.invoke(args=["lineage", "NCT03269071", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["output", "grants", "outputs", "summary"]
    assert set(data["grants"][0]) == {
        "reference", "title", "award_date", "amount", "currency", "amount_eur", "institution",
        "investigators", "depth"}
    assert set(data["summary"]) == {
        "grant_count", "total_awarded_eur", "attributed_eur", "first_grant_year",
        "trial_start_year", "years_to_trial", "institution_count", "researcher_count"}
    assert set(data["outputs"][0]) == {"id", "title", "type", "year", "depth"}
    assert data["output"]["id"] == chain["trial"].id
    assert data["output"]["trial"]["acronym"] == "STEMS"
    assert data["output"]["trial"]["first_patient_date"] == "2017-05-10"
    assert data["grants"][0] == {
        "reference": "FISM-1990-01", "title": data["grants"][0]["title"],
        "award_date": "1990-06-01", "amount": "100000000.00", "currency": "ITL",
        "amount_eur": "51645.69", "institution": "Università di Milano",
        "investigators": ["Gianvito Martino", "Angelo Vescovi"], "depth": 2}
    assert data["summary"] == {
        "grant_count": 3, "total_awarded_eur": "701645.69", "attributed_eur": None,
        "first_grant_year": 1990, "trial_start_year": 2017, "years_to_trial": 27,
        "institution_count": 2, "researcher_count": 3}
    assert [o["depth"] for o in data["outputs"]] == [1, 2]


def test_cli_json_by_output_id_confirmed_only(
    session: so.Session, chain: dict[str, Any], cli: FlaskCliRunner
) -> None:
    session.commit()
    result = cli.invoke(args=["lineage", str(chain["trial"].id), "--json", "--confirmed-only"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["outputs"], data["grants"]) == ([], [])
    assert data["summary"]["total_awarded_eur"] == "0.00"


def test_cli_text(session: so.Session, chain: dict[str, Any], cli: FlaskCliRunner) -> None:
    session.commit()
    result = cli.invoke(args=["lineage", "EudraCT 2016-002020-86"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "STEMS" in text and "NCT03269071" in text
    assert "EUR 701,645.69" in text
    assert "1990 → 2017 (27 years)" in text
    assert "First grant to first patient" in text
    assert "FISM-1990-01" in text and "ITL 100,000,000.00" in text
    assert "Method:" in text


def test_cli_unknown_id(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["lineage", "NCT00000000"])
    assert result.exit_code == 1
    assert "No trial with ClinicalTrials.gov id NCT00000000" in result.stderr
    assert result.stdout == ""
    bad = cli.invoke(args=["lineage", "not-a-trial"])
    assert bad.exit_code == 1
    assert "neither an output id nor a trial registry id" in bad.stderr


# --------------------------------------------------------------------------- property-based

STATES = ["public"] * 6 + ["trustees", "internal", "deleted"]
LEVEL_SETS = [PUBLIC, TRUSTEES, ALL_LEVELS]


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 8))
    nodes = draw(st.lists(st.sampled_from(STATES), min_size=n, max_size=n))
    # Node i may stand on node j only when j < i: acyclic by construction.
    pairs = [(i, j) for i in range(n) for j in range(i)]
    # Per pair: no link (None), a confirmed link (True) or an unconfirmed one (False).
    kinds = draw(st.lists(st.sampled_from([None, True, False]),
                          min_size=len(pairs), max_size=len(pairs)))
    edges = {pair: kind for pair, kind in zip(pairs, kinds, strict=True) if kind is not None}
    amounts = st.one_of(st.none(), st.integers(0, 10**9).map(lambda c: Decimal(c) / 100))
    shares = st.one_of(st.none(), st.integers(1, 10000).map(lambda s: Decimal(s) / 10000))
    grants = draw(st.lists(st.tuples(st.sampled_from(STATES), amounts), min_size=1, max_size=6))
    attributions: dict[tuple[int, int], tuple[Decimal | None, bool]] = {}
    for k in range(len(grants)):
        for node, share, confirmed in draw(st.lists(
                st.tuples(st.integers(0, n - 1), shares, st.booleans()), min_size=1, max_size=3)):
            attributions[(k, node)] = (share, confirmed)
    # The lineage of the latest output (a trial, say), which may stand on all the others.
    root = n - 1
    return {"nodes": nodes, "edges": edges, "grants": grants, "attributions": attributions,
            "root": root, "levels": draw(st.sampled_from(LEVEL_SETS)),
            "confirmed_only": draw(st.booleans())}


def _level(state: str) -> Confidentiality:
    return Confidentiality.PUBLIC if state == "deleted" else Confidentiality(state)


def _visible(state: str, levels: tuple[Confidentiality, ...]) -> bool:
    return state != "deleted" and Confidentiality(state) in levels


def _bfs(start: dict[int, int], step: dict[int, list[int]]) -> dict[int, int]:
    depth = dict(start)
    queue = deque(sorted(start, key=start.__getitem__))
    while queue:
        node = queue.popleft()
        for nxt in step.get(node, []):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return depth


def _expected(g: dict[str, Any]) -> dict[str, Any]:
    levels, confirmed_only = g["levels"], g["confirmed_only"]
    visible = [_visible(s, levels) for s in g["nodes"]]
    usable = [(i, j) for (i, j), ok in g["edges"].items() if ok or not confirmed_only]
    back: dict[int, list[int]] = {}
    forward: dict[int, list[int]] = {}
    for i, j in usable:
        if visible[i] and visible[j]:
            back.setdefault(i, []).append(j)
            forward.setdefault(j, []).append(i)
    root = g["root"]
    upstream = _bfs({root: 0}, back) if visible[root] else {}
    live_grants = {k for k, (state, _) in enumerate(g["grants"]) if _visible(state, levels)}
    counted = {
        (k, node): share for (k, node), (share, ok) in g["attributions"].items()
        if k in live_grants and (ok or not confirmed_only)
    }
    in_pathway: dict[int, list[tuple[int, Decimal | None]]] = {}
    for (k, node), share in counted.items():
        if node in upstream:
            in_pathway.setdefault(k, []).append((node, share))
    total = sum((g["grants"][k][1] for k in in_pathway if g["grants"][k][1] is not None),
                Decimal(0))
    attributed = []
    for k, rows in in_pathway.items():
        shares = [s for _, s in rows if s is not None]
        amount = g["grants"][k][1]
        if shares and amount is not None:
            attributed.append((amount * max(shares)).quantize(CENT, rounding=ROUND_HALF_EVEN))
    starts = {node: 0 for (k, node) in counted if visible[node]}
    return {
        "upstream": upstream,
        "edges": {(i, j) for i, j in usable if i in upstream and j in upstream},
        "grants": {k: min(upstream[node] for node, _ in rows) for k, rows in in_pathway.items()},
        "total": total,
        "attributed": sum(attributed, Decimal(0)) if attributed else None,
        "downstream": _bfs(starts, forward),
    }


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=graphs())
def test_sql_matches_python_bfs(session: so.Session, g: dict[str, Any]) -> None:
    nested = session.begin_nested()
    try:
        staff = make_user(session)
        host = f.organisation(session)
        outputs = []
        for state in g["nodes"]:
            outputs.append(f.output(
                session,
                confidentiality=_level(state), deleted_at=NOW if state == "deleted" else None))
        for (i, j), confirmed in g["edges"].items():
            link(session, outputs[i], outputs[j], confirmed_by=staff if confirmed else None)
        grants = []
        for state, amount in g["grants"]:
            grants.append(f.grant(
                session, host=host, amount_awarded=amount or Decimal(0), amount_eur=amount,
                confidentiality=_level(state), deleted_at=NOW if state == "deleted" else None))
        for (k, node), (share, confirmed) in g["attributions"].items():
            attribute(session, grants[k], outputs[node], share=share,
                      confirmed_by=staff if confirmed else None)

        expected = _expected(g)
        levels, confirmed_only = g["levels"], g["confirmed_only"]
        index = {o.id: i for i, o in enumerate(outputs)}
        grant_index = {gr.id: k for k, gr in enumerate(grants)}
        root = outputs[g["root"]].id

        found = upstream_output_ids(session, root, levels, confirmed_only)
        assert {index[o]: d for o, d in found.items()} == expected["upstream"]

        downstream = downstream_output_ids(session, [gr.id for gr in grants], levels,
                                           confirmed_only)
        assert {index[o]: d for o, d in downstream.items()} == expected["downstream"]

        if not expected["upstream"]:
            with pytest.raises(OutputNotFound):
                lineage(session, root, levels, confirmed_only)
            return
        result = lineage(session, root, levels, confirmed_only)
        assert {index[o.id]: o.depth for o in result.outputs} == {
            k: d for k, d in expected["upstream"].items() if d > 0}
        assert {(index[e.output_id], index[e.upstream_output_id]) for e in result.edges} == (
            expected["edges"])
        assert {grant_index[gr.id]: gr.depth for gr in result.grants} == expected["grants"]
        assert result.summary.grant_count == len(expected["grants"])
        assert result.summary.total_awarded_eur == expected["total"]
        assert result.summary.attributed_eur == expected["attributed"]
        assert result.summary.institution_count == (1 if expected["grants"] else 0)
    finally:
        nested.rollback()


def test_python_model_sanity() -> None:
    """The reference model itself, on the diamond: depths are shortest paths."""
    g: dict[str, Any] = {
        "nodes": ["public"] * 4, "edges": {(3, 2): True, (3, 1): True, (2, 0): True,
                                          (1, 0): False},
        "grants": [("public", Decimal("10.00"))], "attributions": {(0, 0): (None, True),
                                                                   (0, 2): (Decimal("0.5"), True)},
        "root": 3, "levels": ALL_LEVELS, "confirmed_only": False,
    }
    expected = _expected(g)
    assert expected["upstream"] == {3: 0, 2: 1, 1: 1, 0: 2}
    assert expected["grants"] == {0: 1}
    assert (expected["total"], expected["attributed"]) == (Decimal("10.00"), Decimal("5.00"))


