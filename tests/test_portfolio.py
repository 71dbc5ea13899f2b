"""Portfolio figures for a period, the price index import, real terms and the /portfolio page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import (
    Attribution,
    AuditAction,
    AuditEvent,
    ClinicalTrial,
    Confidentiality,
    EvidenceKind,
    FurtherFunding,
    Grant,
    GrantStatus,
    ImportRun,
    ImportStatus,
    OutputType,
    PriceIndex,
    Programme,
    ProgrammeKind,
    ResearchArea,
    Role,
    TrialPhase,
    TrialStatus,
)
from app.portfolio.priceindex import (
    PriceIndexError,
    lineage_real_terms,
    load_price_index,
    real_terms_total,
    to_real_terms,
)
from app.portfolio.queries import portfolio_figures, portfolio_overview
from app.visibility import ALL_LEVELS

from . import factories as f

TRUSTEE_LEVELS = (Confidentiality.PUBLIC, Confidentiality.TRUSTEES)
TODAY = date(2022, 6, 1)
DELETED = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass
class Portfolio:
    g1: Grant
    g2: Grant
    g3: Grant
    g4: Grant
    g7: Grant


def _attribute(session: so.Session, grant: Grant, output_id: int) -> None:
    session.add(
        Attribution(grant_id=grant.id, output_id=output_id, evidence=EvidenceKind.ACKNOWLEDGED)
    )


def _trial(
    session: so.Session,
    *,
    phase: TrialPhase,
    status: TrialStatus,
    when: date,
    start: date | None,
    completion: date | None,
    **fields: object,
) -> None:
    output = f.output(session, type=OutputType.MEDICAL_PRODUCT, output_date=when, **fields)
    output.trial = ClinicalTrial(
        phase=phase, status=status, start_date=start, completion_date=completion
    )


def _further(session: so.Session, when: date, amount: str, *grants: Grant) -> None:
    output = f.output(session, type=OutputType.FURTHER_FUNDING, output_date=when)
    output.further_funding = FurtherFunding(
        amount=Decimal(amount), currency="EUR", amount_eur=Decimal(amount)
    )
    for grant in grants:
        _attribute(session, grant, output.id)


def _portfolio(session: so.Session) -> Portfolio:
    """The small portfolio whose figures for 2020-2021 are worked out by hand below."""
    italy = f.organisation(session, name="Istituto Uno", country="IT")
    germany = f.organisation(session, name="Institut Zwei", country="DE")
    call = Programme(name="Annual call 2020", kind=ProgrammeKind.ANNUAL_CALL, year=2020)
    fellowships = Programme(name="Fellowships", kind=ProgrammeKind.FELLOWSHIP)
    stem = ResearchArea(name="Neural stem cells")
    myelin = ResearchArea(name="Remyelination")
    session.add_all([call, fellowships, stem, myelin])
    session.flush()

    def grant(**fields: object) -> Grant:
        return f.grant(session, **fields)

    g1 = grant(
        award_date=date(2020, 3, 15),
        amount_awarded=Decimal("100000.00"),
        amount_eur=Decimal("100000.00"),
        host=italy,
        programme=call,
        areas=[stem, myelin],
    )
    g2 = grant(
        award_date=date(2021, 6, 1),
        amount_awarded=Decimal("50000.50"),
        amount_eur=Decimal("50000.50"),
        host=germany,
        programme=fellowships,
        areas=[stem],
        status=GrantStatus.COMPLETED,
        start_date=date(2021, 6, 1),
        end_date=date(2021, 12, 31),
    )
    # Lire, outside the period: completed, outcome report overdue.
    g3 = grant(
        award_date=date(1998, 5, 1),
        amount_awarded=Decimal("193627000"),
        currency="ITL",
        amount_eur=Decimal("100000.00"),
        host=italy,
        status=GrantStatus.COMPLETED,
        start_date=date(1998, 6, 1),
        end_date=date(2000, 12, 31),
        outcome_report_due=date(2001, 3, 31),
    )
    # Internal: staff see it, trustees do not.
    g4 = grant(
        award_date=date(2020, 7, 1),
        amount_awarded=Decimal("30000.00"),
        amount_eur=Decimal("30000.00"),
        host=germany,
        programme=call,
        confidentiality=Confidentiality.INTERNAL,
        outcome_report_due=date(2021, 1, 1),
    )
    # Deleted: nobody counts it.
    grant(
        award_date=date(2021, 2, 1),
        amount_eur=Decimal("20000.00"),
        host=italy,
        deleted_at=DELETED,
        outcome_report_due=date(2021, 1, 1),
    )
    # Completed without a live output; its report came in.
    g6 = grant(
        award_date=date(2019, 1, 1),
        amount_awarded=Decimal("10000.00"),
        amount_eur=Decimal("10000.00"),
        host=italy,
        status=GrantStatus.COMPLETED,
        start_date=date(2019, 1, 1),
        end_date=date(2019, 12, 31),
        outcome_report_due=date(2020, 3, 31),
        outcome_report_received=date(2020, 4, 1),
    )
    # No euro equivalent: counted, not summed.
    g7 = grant(
        award_date=date(2021, 9, 1),
        amount_awarded=Decimal("5000.00"),
        currency="USD",
        amount_eur=None,
        host=italy,
        programme=fellowships,
        status=GrantStatus.AWARDED,
        outcome_report_due=date(2022, 1, 31),
    )

    o1 = f.output(session, output_date=date(2020, 9, 10))
    _attribute(session, g1, o1.id)
    o6 = f.output(session, output_date=date(2020, 5, 5), confidentiality=Confidentiality.INTERNAL)
    _attribute(session, g1, o6.id)
    _further(session, date(2021, 1, 15), "40000.00", g1, g2)  # once, though two grants
    o3 = f.output(session, output_date=date(2022, 2, 1))
    _attribute(session, g2, o3.id)
    o4 = f.output(session, type=OutputType.ENGAGEMENT, output_date=date(2020, 12, 1))
    _attribute(session, g4, o4.id)
    _further(session, date(2021, 3, 1), "999.00", g3)  # its grant is not of the period
    o7 = f.output(session, output_date=date(2020, 1, 1), deleted_at=DELETED)
    _attribute(session, g6, o7.id)

    _trial(
        session,
        phase=TrialPhase.PHASE_1,
        status=TrialStatus.RECRUITING,
        when=date(2019, 5, 1),
        start=date(2019, 5, 1),
        completion=None,
    )
    _trial(
        session,
        phase=TrialPhase.PHASE_2,
        status=TrialStatus.COMPLETED,  # ended before
        when=date(2018, 1, 1),
        start=date(2018, 1, 1),
        completion=date(2019, 12, 31),
    )
    _trial(
        session,
        phase=TrialPhase.PHASE_3,
        status=TrialStatus.RECRUITING,  # starts after
        when=date(2022, 1, 1),
        start=date(2022, 1, 1),
        completion=None,
    )
    _trial(
        session,
        phase=TrialPhase.PHASE_2,
        status=TrialStatus.COMPLETED,  # no start date
        when=date(2021, 5, 1),
        start=None,
        completion=date(2021, 12, 31),
    )
    _trial(
        session,
        phase=TrialPhase.PHASE_1,
        status=TrialStatus.COMPLETED,
        when=date(2020, 1, 1),
        start=date(2020, 1, 1),
        completion=date(2020, 6, 30),
        confidentiality=Confidentiality.INTERNAL,
    )
    session.flush()
    return Portfolio(g1, g2, g3, g4, g7)


def _index(session: so.Session, **values: str) -> None:
    for year, value in values.items():
        session.add(PriceIndex(year=int(year[1:]), value=Decimal(value)))
    session.flush()


# --------------------------------------------------------------------------- figures


def test_figures_for_staff(session: so.Session) -> None:
    p = _portfolio(session)
    fig = portfolio_figures(session, 2020, 2021, ALL_LEVELS, today=TODAY, top_institutions=1)

    assert fig.label == "2020–2021" and not fig.single_year
    assert fig.grant_count == 4  # g1, g2, g4, g7
    assert fig.total_awarded_eur == Decimal("180000.50")
    assert fig.unconverted_grant_count == 1
    assert [(y.year, y.grant_count, y.amount_eur) for y in fig.funding_by_year] == [
        (2020, 2, Decimal("130000.00")),
        (2021, 2, Decimal("50000.50")),
    ]
    every = {y.year: (y.grant_count, y.amount_eur) for y in fig.funding_by_year_all}
    assert list(every) == list(range(1998, 2022))  # gaps filled
    assert every[1998] == (1, Decimal("100000.00")) and every[2005] == (0, Decimal("0.00"))
    assert every[2019] == (1, Decimal("10000.00"))

    assert [(g.label, g.grant_count, g.amount_eur) for g in fig.by_programme] == [
        ("Annual call 2020", 2, Decimal("130000.00")),
        ("Fellowships", 2, Decimal("50000.50")),
    ]
    assert [(g.label, g.grant_count, g.amount_eur) for g in fig.by_area] == [
        ("Neural stem cells", 2, Decimal("150000.50")),
        ("Remyelination", 1, Decimal("100000.00")),
        ("No research area", 2, Decimal("30000.00")),
    ]
    assert sum(g.amount_eur for g in fig.by_area) > fig.total_awarded_eur  # g1 counts twice
    assert [(g.label, g.grant_count, g.amount_eur) for g in fig.by_institution] == [
        ("Istituto Uno", 2, Decimal("100000.00"))
    ]
    assert fig.institution_count == 2
    assert fig.other_institutions is not None
    assert (
        fig.other_institutions.label,
        fig.other_institutions.grant_count,
        fig.other_institutions.amount_eur,
    ) == ("1 other institution", 2, Decimal("80000.50"))
    assert [(g.key, g.label, g.amount_eur) for g in fig.by_country] == [
        ("IT", "Italy", Decimal("100000.00")),
        ("DE", "Germany", Decimal("80000.50")),
    ]

    assert fig.output_count == 7
    assert {row.key: row.count for row in fig.outputs_by_type} == {
        "publication": 2,
        "further_funding": 2,
        "medical_product": 2,
        "engagement": 1,
    }
    assert [(y.year, y.count) for y in fig.outputs_by_year] == [(2020, 4), (2021, 3)]
    assert fig.trial_count == 3
    assert [(r.label, r.count) for r in fig.trials_by_phase] == [("Phase 1", 2), ("Phase 2", 1)]
    assert [(r.key, r.count) for r in fig.trials_by_status] == [
        ("recruiting", 1),
        ("completed", 2),
    ]

    # First outputs: g1 2 months (the internal paper), g2 0 (dated before its award), g4 5.
    assert fig.grants_with_outputs == 3
    assert fig.median_months_to_first_output == Decimal("2.0")
    assert fig.mean_months_to_first_output == Decimal("2.3")

    assert fig.further_funding_eur == Decimal("40000.00")
    assert fig.leverage == Decimal("0.22")  # 40,000 / 180,000.50
    # Only g2 ended in 2020-2021 (g3 in 2000, g6 in 2019).
    assert (fig.completed_grant_count, fig.completed_with_outputs_count) == (1, 1)
    assert fig.completed_with_outputs_share == Decimal("1.000")

    assert fig.overdue_count == 3
    assert [(g.reference, g.days_overdue) for g in fig.overdue] == [
        (p.g3.reference, (TODAY - date(2001, 3, 31)).days),
        (p.g4.reference, (TODAY - date(2021, 1, 1)).days),
        (p.g7.reference, (TODAY - date(2022, 1, 31)).days),
    ]
    assert fig.real_terms_total_eur is None and fig.real_terms_base_year is None
    assert not fig.has_fictional_data


def test_figures_for_trustees_leave_internal_records_out(session: so.Session) -> None:
    p = _portfolio(session)
    fig = portfolio_figures(session, 2020, 2021, TRUSTEE_LEVELS, today=TODAY)
    assert fig.grant_count == 3
    assert fig.total_awarded_eur == Decimal("150000.50")
    assert [(g.label, g.amount_eur) for g in fig.by_programme] == [
        ("Annual call 2020", Decimal("100000.00")),
        ("Fellowships", Decimal("50000.50")),
    ]
    assert fig.output_count == 5
    assert fig.trial_count == 2
    # g1's first visible output is now the September paper: 6 months; g2 0.
    assert fig.median_months_to_first_output == Decimal("3.0")
    assert fig.mean_months_to_first_output == Decimal("3.0")
    assert fig.leverage == Decimal("0.27")  # 40,000 / 150,000.50
    assert fig.overdue_count == 2
    assert p.g4.reference not in [g.reference for g in fig.overdue]


def test_completed_grants_are_those_ending_in_the_period(session: so.Session) -> None:
    p = _portfolio(session)
    # g6 ended in 2019 and its only output is deleted; g2 ended in 2021 with outputs.
    fig = portfolio_figures(session, 2019, 2021, ALL_LEVELS, today=TODAY)
    assert (fig.completed_grant_count, fig.completed_with_outputs_count) == (2, 1)
    assert fig.completed_with_outputs_share == Decimal("0.500")
    alone = portfolio_figures(session, 2019, 2019, ALL_LEVELS, today=TODAY)
    assert (alone.completed_grant_count, alone.completed_with_outputs_count) == (1, 0)
    # g3 ended in 2000, long before its period of award figures.
    old = portfolio_figures(session, 2000, 2000, ALL_LEVELS, today=TODAY)
    assert (old.completed_grant_count, old.completed_with_outputs_count) == (1, 1)
    assert p.g3.end_date == date(2000, 12, 31)


def test_single_year_and_an_empty_period(session: so.Session) -> None:
    _portfolio(session)
    fig = portfolio_figures(session, 2021, 2021, ALL_LEVELS, today=TODAY)
    assert fig.single_year and fig.label == "2021"
    assert (fig.grant_count, fig.total_awarded_eur) == (2, Decimal("50000.50"))
    empty = portfolio_figures(session, 1990, 1990, ALL_LEVELS, today=TODAY)
    assert (empty.grant_count, empty.total_awarded_eur, empty.leverage) == (0, Decimal(0), None)
    assert empty.median_months_to_first_output is None and empty.by_programme == ()
    assert [(y.year, y.count) for y in empty.outputs_by_year] == [(1990, 0)]
    with pytest.raises(ValueError):
        portfolio_figures(session, 2021, 2020, ALL_LEVELS)


def test_median_of_an_odd_and_an_even_number_of_grants(session: so.Session) -> None:
    for months in (1, 4, 10, 30):
        grant = f.grant(session, award_date=date(2015, 1, 20))
        output = f.output(session, output_date=date(2015 + months // 12, 1 + months % 12, 1))
        _attribute(session, grant, output.id)
    session.flush()
    fig = portfolio_figures(session, 2015, 2015, ALL_LEVELS)
    assert fig.median_months_to_first_output == Decimal("7.0")  # (4 + 10) / 2
    assert fig.mean_months_to_first_output == Decimal("11.2")  # 45 / 4, half-even
    grant = f.grant(session, award_date=date(2015, 6, 1))
    _attribute(session, grant, f.output(session, output_date=date(2015, 8, 1)).id)
    session.flush()
    assert portfolio_figures(session, 2015, 2015, ALL_LEVELS).median_months_to_first_output == 4


def test_real_terms_in_figures(session: so.Session) -> None:
    _portfolio(session)
    _index(session, y2020="100", y2021="102.5", y2024="110")
    fig = portfolio_figures(session, 2020, 2021, ALL_LEVELS, 2024, today=TODAY)
    # 130,000 × 110/100 + 50,000.50 × 110/102.5 = 143,000 + 53,659.073...
    assert fig.real_terms_total_eur == Decimal("196659.07")
    assert fig.real_terms_missing_years == ()
    gap = portfolio_figures(session, 2019, 2021, ALL_LEVELS, 2024, today=TODAY)
    assert gap.real_terms_total_eur is None and gap.real_terms_missing_years == (2019,)


def test_real_terms_arithmetic(session: so.Session) -> None:
    index = {2000: Decimal("80"), 2024: Decimal("120"), 2010: Decimal("3")}
    assert to_real_terms(Decimal("1000.00"), 2000, 2024, index) == Decimal("1500.00")
    assert to_real_terms(Decimal("100.00"), 2024, 2000, index) == Decimal("66.67")
    assert to_real_terms(Decimal("1.00"), 2010, 2010, index) == Decimal("1.00")
    with pytest.raises(KeyError):
        to_real_terms(Decimal("1.00"), 1999, 2024, index)

    _index(session, y2000="80", y2024="120", y2010="90")
    assert real_terms_total(
        session, [(2000, Decimal("10.00")), (2010, Decimal("9.00"))], 2024
    ) == Decimal("27.00")  # 15 + 12
    # Rounded once, on the sum: 3 × 0.005 would round to 0.00 each.
    assert real_terms_total(session, [(2024, Decimal("0.01"))] * 3, 2000) == Decimal("0.02")
    assert real_terms_total(session, [(2000, Decimal("1.00")), (2001, Decimal("1"))], 2024) is None
    assert real_terms_total(session, [(2000, Decimal("1.00"))], 2023) is None
    assert real_terms_total(session, [], 2024) == Decimal("0.00")

    pathway = SimpleNamespace(
        grants=[
            SimpleNamespace(award_date=date(2000, 5, 1), amount_eur=Decimal("800.00")),
            SimpleNamespace(award_date=date(2010, 1, 1), amount_eur=None),  # not summed
        ]
    )
    assert lineage_real_terms(session, pathway, 2024) == Decimal("1200.00")


def test_overview_still_works(session: so.Session) -> None:
    _portfolio(session)
    overview = portfolio_overview(session, ALL_LEVELS)
    assert overview.grant_count == 6 and overview.trial_count == 5


# --------------------------------------------------------------------------- price index


def _write(tmp_path: Path, content: str | bytes, name: str = "index.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _stored(session: so.Session) -> dict[int, tuple[Decimal, str | None]]:
    session.expire_all()
    return {p.year: (p.value, p.source) for p in session.scalars(sa.select(PriceIndex))}


def _runs(session: so.Session) -> list[ImportRun]:
    return list(session.scalars(sa.select(ImportRun).order_by(ImportRun.id)))


def test_cli_imports_and_reimport_changes_nothing(runner, session, tmp_path) -> None:
    good = _write(tmp_path, "year,value,source\n2020,100,ISTAT FOI\n2021,102.5,ISTAT FOI\n")
    result = runner.invoke(args=["priceindex", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 added, 0 changed, 0 unchanged" in result.output
    assert _stored(session) == {
        2020: (Decimal("100.0000"), "ISTAT FOI"),
        2021: (Decimal("102.5000"), "ISTAT FOI"),
    }
    run = _runs(session)[-1]
    assert (run.kind, run.status, run.filename) == ("priceindex", ImportStatus.APPLIED, "index.csv")
    assert len(run.sha256) == 64 and run.counts["inserted"] == 2 and run.errors is None
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "import_runs", AuditEvent.entity_id == run.id
        )
    )
    assert event.action == AuditAction.IMPORT and event.changes["2021"] == [None, "102.5"]
    stamp = session.scalar(sa.select(PriceIndex.updated_at).where(PriceIndex.year == 2020))

    again = runner.invoke(args=["priceindex", "import", str(good)])
    assert again.exit_code == 0 and "0 added, 0 changed, 2 unchanged" in again.output
    assert session.scalar(sa.select(PriceIndex.updated_at).where(PriceIndex.year == 2020)) == stamp
    assert _runs(session)[-1].sha256 == run.sha256

    changed = _write(tmp_path, "year,value\n2021,103\n2022,105.25\n", "new.csv")
    result = runner.invoke(args=["priceindex", "import", str(changed)])
    assert result.exit_code == 0 and "1 added, 1 changed, 0 unchanged" in result.output
    # Without a source column the stored source stays.
    assert _stored(session)[2021] == (Decimal("103.0000"), "ISTAT FOI")
    assert _stored(session)[2022] == (Decimal("105.2500"), None)


def test_cli_refuses_a_bad_file_and_writes_nothing(runner, session, tmp_path) -> None:
    bad = _write(
        tmp_path, "year,value\n2020,100\n20x1,101\n2022,-3\n2020,99\n2023,\n2024,1.23456\n"
    )
    result = runner.invoke(args=["priceindex", "import", str(bad)])
    assert result.exit_code != 0
    messages = result.output
    assert "row 3, column year, value '20x1': not a whole four-digit year" in messages
    assert "row 4, column value, value '-3': must be positive" in messages
    assert "row 5, column year, value '2020': duplicate of row 2" in messages
    assert "row 6, column value, value '': missing" in messages
    assert "row 7, column value, value '1.23456': more than 4 decimal places" in messages
    assert "Nothing imported: 5 error(s)" in messages
    assert _stored(session) == {}
    run = _runs(session)[-1]
    assert run.status == ImportStatus.FAILED and len(run.errors) == 5
    assert run.errors[0] == {
        "row": 3,
        "column": "year",
        "value": "20x1",
        "reason": "not a whole four-digit year",
    }


def test_cli_bad_header_and_dry_run(runner, session, tmp_path) -> None:
    result = runner.invoke(
        args=["priceindex", "import", str(_write(tmp_path, "anno,valore\n2020,100\n"))]
    )
    assert result.exit_code != 0 and "column year: required column missing" in result.output
    dry = _write(tmp_path, "year,value\n2020,100\n", "dry.csv")
    result = runner.invoke(args=["priceindex", "import", str(dry), "--dry-run"])
    assert result.exit_code == 0 and "Would import 1 row(s): 1 added" in result.output
    assert _stored(session) == {}
    assert _runs(session)[-1].status == ImportStatus.DRY_RUN


def test_cli_reads_bom_semicolons_and_decimal_commas(runner, session, tmp_path) -> None:
    content = "\ufeffYear;Value;Source\r\n2019;99,5;ISTAT; FOI\r\n;;\r\n".encode()
    result = runner.invoke(args=["priceindex", "import", str(_write(tmp_path, content))])
    assert result.exit_code != 0 and "4 cells but 3 columns" in result.output
    content = "\ufeffYear;Value;Source\r\n2019;99,5;ISTAT, FOI\r\n;;\r\n".encode()
    result = runner.invoke(args=["priceindex", "import", str(_write(tmp_path, content))])
    assert result.exit_code == 0, result.output
    assert _stored(session) == {2019: (Decimal("99.5000"), "ISTAT, FOI")}


def test_loader_for_the_import_framework(session: so.Session) -> None:
    rows = [
        {"year": 2001, "value": 97.25},
        {"year": "", "value": ""},
        {"year": 2002.0, "value": "98"},
    ]
    result = load_price_index(session, rows, first_row=5)
    assert result.ok and result.inserted == (2001, 2002) and result.rows == 2
    bad = load_price_index(session, [{"year": "2003", "value": "0"}], first_row=9)
    assert bad.errors == (PriceIndexError(9, "value", "0", "must be positive"),)
    assert _stored(session) == {2001: (Decimal("97.2500"), None), 2002: (Decimal("98.0000"), None)}


# --------------------------------------------------------------------------- page


def test_page_for_a_trustee_leaves_internal_grants_out(client, logged_in, session) -> None:
    p = _portfolio(session)
    _index(session, y2020="100", y2021="102.5", y2024="110")
    session.commit()
    logged_in(Role.TRUSTEE)
    response = client.get("/portfolio?from=2020&to=2021&base=2024")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Portfolio 2020–2021" in page
    assert "Total awarded: 150,000 EUR" in page  # not 180,000: g4 is internal
    assert "180,000" not in page
    assert "In 2024 prices" in page
    assert p.g3.reference in page and p.g4.reference not in page  # overdue list
    assert 'href="/grants?year=2020"' in page
    assert "data:image/svg+xml;base64," in page
    assert "A grant with several areas counts in each" in page

    single = client.get("/portfolio?from=2020&to=2020&base=").get_data(as_text=True)
    assert "In 2024 prices" not in single
    programme = session.scalar(sa.select(Programme.id).where(Programme.name == "Fellowships"))
    assert f"/grants?year=2021&amp;programme={programme}" in client.get(
        "/portfolio?from=2021&to=2021"
    ).get_data(as_text=True)
    assert "/outputs?year=2020&amp;type=publication" in single


def test_page_defaults_to_the_last_complete_year(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    year = date.today().year - 1
    page = client.get("/portfolio").get_data(as_text=True)
    assert f"Portfolio {year}" in page and "No price index is loaded" in page
    odd = client.get("/portfolio?from=2021&to=2019&base=1066")
    assert odd.status_code == 200 and "Portfolio 2019–2021" in odd.get_data(as_text=True)
    assert client.get("/portfolio?from=x&to=").status_code == 200


def test_page_query_count_does_not_grow(client, logged_in, session, count_queries) -> None:
    _portfolio(session)
    _index(session, y2020="100", y2021="102.5")
    session.commit()
    logged_in(Role.STAFF)
    with count_queries() as few:
        assert client.get("/portfolio?from=2020&to=2021&base=2021").status_code == 200
    for n in range(15):
        org = f.organisation(session)
        grant = f.grant(
            session,
            award_date=date(2020 + n % 2, 1 + n % 12, 1),
            host=org,
            outcome_report_due=date(2021, 1, 1),
        )
        _attribute(session, grant, f.output(session, output_date=date(2021, 2, 1)).id)
        _trial(
            session,
            phase=TrialPhase.PHASE_2,
            status=TrialStatus.RECRUITING,
            when=date(2020, 1, 1),
            start=date(2020, 1, 1),
            completion=None,
        )
    session.commit()
    with count_queries() as many:
        assert client.get("/portfolio?from=2020&to=2021&base=2021").status_code == 200
    assert many.count == few.count
    assert many.count <= 18, many.count
