"""The registers read page by page (outputs, organisations, people, programmes, home page).

Each list is read a few rows at a time, in every sort and direction, for each viewer's
confidentiality levels, live and deleted, and compared with the same list computed
plainly in Python from the rows themselves: who is listed, in what order, and the
figures each row shows (grants credited, hosted, led; euro totals).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import orm as so

from app.dashboard.queries import overview
from app.models import (
    Attribution,
    Confidentiality,
    Grant,
    GrantStatus,
    Organisation,
    OrganisationKind,
    Output,
    OutputType,
    Person,
    Programme,
    ProgrammeKind,
    utcnow,
)
from app.organisations.queries import organisation_list, people_list
from app.outputs import queries as output_queries
from app.portfolio.queries import portfolio_overview
from app.programmes.queries import programme_list
from app.records import cache
from app.records.listing import ListParams
from app.visibility import ALL_LEVELS
from tests import factories as f

PUBLIC, TRUSTEES, INTERNAL = (
    Confidentiality.PUBLIC,
    Confidentiality.TRUSTEES,
    Confidentiality.INTERNAL,
)
VIEWERS = {"staff": ALL_LEVELS, "trustee": (PUBLIC, TRUSTEES), "public": (PUBLIC,)}
# Single lowercase words, some repeated: every collation orders them as Python does.
WORDS = ("delta", "alpha", "charlie", "bravo", "alpha", "echo", "bravo")
PAGE = 3


@dataclass
class World:
    organisations: list[Organisation]
    people: list[Person]
    programmes: list[Programme]
    grants: list[Grant]
    outputs: list[Output]
    attributions: list[Attribution]


@pytest.fixture
def world(session: so.Session) -> World:
    """A small register with every case the lists distinguish, made from a fixed seed."""
    cache.clear()
    rng = random.Random(20261124)
    kinds = list(OrganisationKind)
    organisations = [
        f.organisation(session, name=name, country=("IT", "FR", "DE")[i % 3], kind=kinds[i % 3])
        for i, name in enumerate(WORDS[:6])
    ]
    programmes = [
        Programme(name=name, kind=list(ProgrammeKind)[i % 3], year=(2010 + i) if i % 3 else None)
        for i, name in enumerate(("delta", "alpha", "charlie", "bravo", "echo"))
    ]
    session.add_all(programmes)
    people = [
        f.person(
            session,
            family_name=WORDS[i % 4],
            given_names=WORDS[(i + 2) % 5],
            orcid=f"0000-0000-0000-{i:04d}" if i % 3 else None,
            organisation=organisations[i % 6] if i % 4 else None,
        )
        for i in range(9)
    ]
    levels = list(Confidentiality)
    grants = [
        f.grant(
            session,
            host=organisations[rng.randrange(5)],
            programme=rng.choice([*programmes[:4], None]),
            principal_investigator=rng.choice([*people[:7], None]),
            confidentiality=levels[i % 3],
            amount_eur=None if i % 5 == 0 else Decimal(1000 * (i + 1)),
            status=GrantStatus.WITHDRAWN if i % 7 == 6 else GrantStatus.ACTIVE,
            award_date=date(2005 + i % 6, 1 + i % 12, 1),
        )
        for i in range(20)
    ]
    types = [OutputType.PUBLICATION, OutputType.SOFTWARE, OutputType.AWARD]
    outputs = [
        f.output(
            session,
            type=types[i % 3],
            title=WORDS[i % 7],
            output_date=None if i % 4 == 1 else date(2010 + i % 3, 1 + i % 5, 1),
            confidentiality=levels[i % 3 if i % 2 else 0],
        )
        for i in range(16)
    ]
    attributions = []
    for output in outputs:
        for grant in rng.sample(grants, rng.randrange(4)):
            attributions.append(Attribution(grant=grant, output=output, evidence="acknowledged"))
    session.add_all(attributions)
    # Deleted rows of each register (and deleted grants, left out of every figure).
    now = utcnow()
    for record in (*grants[::6], *outputs[2::5], organisations[5], people[8], programmes[4]):
        record.deleted_at = now
    f.output(session, title="zulu", output_date=None).deleted_at = now
    session.flush()
    return World(organisations, people, programmes, grants, outputs, attributions)


def every_row(read: Callable[[ListParams], Any], params: ListParams) -> list[Any]:
    """All rows of a list, read page by page, checking the pages' bookkeeping on the way."""
    rows: list[Any] = []
    number = 1
    while True:
        page = read(ListParams(**{**params.__dict__, "page": number, "per_page": PAGE}))
        assert page.page == number
        rows.extend(page.items)
        if number >= page.pages:
            assert len(rows) == page.total
            return rows
        assert len(page.items) == PAGE
        number += 1


def ordered(items: list[Any], key: Callable[[Any], Any], descending: bool) -> list[Any]:
    """Items by key then id (as the lists), values missing last in either direction."""
    present = [i for i in items if key(i) is not None]
    missing = [i for i in items if key(i) is None]
    present.sort(key=lambda i: (key(i), i.id), reverse=descending)
    missing.sort(key=lambda i: i.id, reverse=descending)
    return present + missing


def params_cases(sorts: tuple[str, ...]) -> Iterator[tuple[str, bool, str, bool]]:
    for sort in sorts:
        for descending in (False, True):
            for viewer in VIEWERS:
                for deleted in (False, True):
                    yield sort, descending, viewer, deleted


def live(record: Any, deleted: bool) -> bool:
    return (record.deleted_at is not None) == deleted


def grant_figures(grants: list[Grant], levels: tuple[Confidentiality, ...]) -> tuple[int, Any]:
    """Count and euro total (None when nothing to sum) of the live grants one may see."""
    seen = [g for g in grants if g.deleted_at is None and g.confidentiality in levels]
    amounts = [g.amount_eur for g in seen if g.amount_eur is not None]
    return len(seen), (sum(amounts) if amounts else None)


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("large", [False, True], ids=["picked", "index-order"])
def test_output_list_matches_a_plain_computation(
    session: so.Session, world: World, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    if large:  # every list read in its sort's index order, filters tested on the way
        monkeypatch.setattr(output_queries, "LARGE", 0)
    grant = world.attributions[0].grant
    filters: list[dict[str, str]] = [
        {},
        {"type": "software"},
        {"year": "2011"},
        {"grant": str(grant.id)},
        {"type": "publication", "year": "2012"},
    ]
    keys = {
        "date": lambda o: o.output_date,
        "title": lambda o: o.title,
        "type": lambda o: o.type.value,
    }
    outputs = session.query(Output).all()
    for sort, descending, viewer, deleted in params_cases(tuple(keys)):
        levels = VIEWERS[viewer]
        for chosen in filters:
            params = ListParams(
                sort=sort, descending=descending, filters=chosen, show_deleted=deleted
            )
            matching = [
                o
                for o in outputs
                if live(o, deleted)
                and o.confidentiality in levels
                and ("type" not in chosen or o.type.value == chosen["type"])
                and (
                    "year" not in chosen
                    or (o.output_date and o.output_date.year == int(chosen["year"]))
                )
                and ("grant" not in chosen or any(a.grant_id == grant.id for a in o.attributions))
            ]
            expected = [
                (o.id, sum(a.grant.confidentiality in levels for a in o.attributions))
                for o in ordered(matching, keys[sort], descending)
            ]
            rows = every_row(
                lambda p, levels=levels: output_queries.output_list(session, p, levels), params
            )
            assert [(r.id, r.grants) for r in rows] == expected, (params, viewer)
            # The export reads every row with one plain sort: the same list.
            exported = output_queries.output_rows(session, params, levels)
            assert [r.id for r in exported] == [i for i, _ in expected]


def test_output_list_past_the_dated_outputs(session: so.Session, world: World) -> None:
    # Pages made only of undated outputs (counted to find where they start) and a page
    # asked past the end (the last one is shown).
    params = ListParams(sort="date", descending=True, page=99, per_page=2)
    page = output_queries.output_list(session, params, ALL_LEVELS)
    undated = sorted(
        (o.id for o in world.outputs if o.deleted_at is None and o.output_date is None),
        reverse=True,
    )
    assert page.page == page.pages
    assert [r.id for r in page.items] == undated[-len(page.items) :]


def test_output_year_options_are_the_years_of_live_outputs(
    session: so.Session, world: World
) -> None:
    choices = output_queries.filter_choices(session, ListParams(sort="date"), ALL_LEVELS)
    years = {o.output_date.year for o in world.outputs if o.deleted_at is None and o.output_date}
    assert choices.years == sorted(years, reverse=True)
    # Kept until outputs change: a new year shows at once.
    f.output(session, output_date=date(1999, 5, 1))
    assert (
        output_queries.filter_choices(session, ListParams(sort="date"), ALL_LEVELS).years[-1]
        == 1999
    )


def test_output_count_follows_changes(session: so.Session, world: World) -> None:
    before = output_queries.output_list(session, ListParams(sort="date"), ALL_LEVELS).total
    output = f.output(session)
    assert (
        output_queries.output_list(session, ListParams(sort="date"), ALL_LEVELS).total == before + 1
    )
    output.deleted_at = utcnow()
    session.flush()
    assert output_queries.output_list(session, ListParams(sort="date"), ALL_LEVELS).total == before


# --------------------------------------------------------------------------- organisations


def test_organisation_list_matches_a_plain_computation(session: so.Session, world: World) -> None:
    keys = {
        "name": lambda o: o.name,
        "country": lambda o: o.country,
        "kind": lambda o: o.kind.value,
        "grants": lambda o: o.figures[0],
    }
    filters: list[dict[str, str]] = [{}, {"country": "fr"}, {"kind": "university"}]
    for sort, descending, viewer, deleted in params_cases(tuple(keys)):
        levels = VIEWERS[viewer]
        for o in world.organisations:
            o.figures = grant_figures([g for g in world.grants if g.host is o], levels)
        for chosen in filters:
            params = ListParams(
                sort=sort, descending=descending, filters=chosen, show_deleted=deleted
            )
            matching = [
                o
                for o in world.organisations
                if live(o, deleted)
                and ("country" not in chosen or o.country == chosen["country"].upper())
                and ("kind" not in chosen or o.kind.value == chosen["kind"])
            ]
            expected = [(o.id, *o.figures) for o in ordered(matching, keys[sort], descending)]
            rows = every_row(lambda p, levels=levels: organisation_list(session, p, levels), params)
            assert [(r.id, r.grants, r.total_eur) for r in rows] == expected, (params, viewer)


def test_organisations_sorted_by_grants_follow_grant_changes(
    session: so.Session, world: World
) -> None:
    params = ListParams(sort="grants", descending=True)
    first = organisation_list(session, params, ALL_LEVELS).items[0]
    last = organisation_list(session, params, ALL_LEVELS).items[-1]
    for _ in range(first.grants + 1):
        f.grant(session, host=session.get(Organisation, last.id))
    top = organisation_list(session, params, ALL_LEVELS).items[0]
    assert (top.id, top.grants) == (last.id, last.grants + first.grants + 1)


# --------------------------------------------------------------------------- people


def test_people_list_matches_a_plain_computation(session: so.Session, world: World) -> None:
    keys = {
        "name": lambda p: (p.family_name, p.given_names),
        "organisation": lambda p: p.organisation.name if p.organisation else None,
        "orcid": lambda p: p.orcid,
        "grants": lambda p: p.led,
    }
    organisation = world.organisations[1]
    filters: list[dict[str, str]] = [{}, {"organisation": str(organisation.id)}]
    for sort, descending, viewer, deleted in params_cases(tuple(keys)):
        levels = VIEWERS[viewer]
        for p in world.people:
            p.led = grant_figures(
                [g for g in world.grants if g.principal_investigator is p], levels
            )[0]
        for chosen in filters:
            params = ListParams(
                sort=sort, descending=descending, filters=chosen, show_deleted=deleted
            )
            matching = [
                p
                for p in world.people
                if live(p, deleted) and (not chosen or p.organisation is organisation)
            ]
            expected = [(p.id, p.led) for p in ordered(matching, keys[sort], descending)]
            rows = every_row(lambda q, levels=levels: people_list(session, q, levels), params)
            assert [(r.id, r.grants_led) for r in rows] == expected, (params, viewer)
            names = {p.id: p.organisation.name if p.organisation else None for p in matching}
            assert {r.id: r.organisation for r in rows} == names


def test_people_search_by_name(session: so.Session, world: World) -> None:
    params = ListParams(q="alpha", sort="name", per_page=50)
    rows = people_list(session, params, ALL_LEVELS).items
    expected = [
        p
        for p in world.people
        if p.deleted_at is None and "alpha" in f"{p.given_names} {p.family_name}"
    ]
    assert sorted(r.id for r in rows) == sorted(p.id for p in expected)


# --------------------------------------------------------------------------- programmes


def test_programme_list_matches_a_plain_computation(session: so.Session, world: World) -> None:
    keys = {
        "name": lambda p: p.name,
        "kind": lambda p: p.kind.value,
        "year": lambda p: p.year,
        "grants": lambda p: p.figures[0],
        "total_eur": lambda p: p.figures[1],
    }
    filters: list[dict[str, str]] = [{}, {"kind": ProgrammeKind.PILOT.value}]
    for sort, descending, viewer, deleted in params_cases(tuple(keys)):
        levels = VIEWERS[viewer]
        for p in world.programmes:
            p.figures = grant_figures([g for g in world.grants if g.programme is p], levels)
        for chosen in filters:
            params = ListParams(
                sort=sort, descending=descending, filters=chosen, show_deleted=deleted
            )
            matching = [
                p
                for p in world.programmes
                if live(p, deleted) and (not chosen or p.kind.value == chosen["kind"])
            ]
            expected = [(p.id, *p.figures) for p in ordered(matching, keys[sort], descending)]
            rows = every_row(lambda q, levels=levels: programme_list(session, q, levels), params)
            assert [(r.id, r.grants, r.total_eur) for r in rows] == expected, (params, viewer)


# --------------------------------------------------------------------------- home page


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_home_page_figures_are_the_portfolio_overview(
    session: so.Session, world: World, viewer: str
) -> None:
    for trial_date in (date(2015, 1, 1), None, date(2018, 1, 1)):
        f.trial(session).trial.start_date = trial_date
    session.flush()
    levels = VIEWERS[viewer]
    before = overview(session, levels)
    assert before == portfolio_overview(session, levels)
    # Kept until the tables change: a new grant and a new output count at once.
    f.grant(session, confidentiality=PUBLIC)
    f.output(session, confidentiality=PUBLIC)
    after = overview(session, levels)
    assert after == portfolio_overview(session, levels)
    assert (after.grant_count, after.output_count) == (
        before.grant_count + 1,
        before.output_count + 1,
    )
