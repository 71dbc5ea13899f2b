"""Imports from CSV and XLSX: formats, rules, all-or-nothing, idempotence, runs, UI and CLI."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from app.imports import grants as grant_import
from app.imports.columns import Header, Outcome
from app.imports.grants import COLUMNS as GRANT_COLUMNS
from app.imports.parsing import (
    CellError,
    FileProblem,
    FormulaText,
    parse_date,
    parse_money,
    parse_share,
    read_table,
)
from app.imports.services import run_import
from app.models import (
    Attribution,
    AuditAction,
    AuditEvent,
    Confidentiality,
    DatePrecision,
    Donation,
    Donor,
    DonorKind,
    Fund,
    Grant,
    GrantStatus,
    ImportRun,
    ImportStatus,
    Organisation,
    OrganisationKind,
    Output,
    OutputLink,
    OutputType,
    Person,
    PriceIndex,
    Programme,
    ProgrammeKind,
    ResearchArea,
    Role,
    TrialPhase,
    utcnow,
)

from . import factories as f

DATA = Path(__file__).parent / "data" / "imports"
ORCID = "0000-0002-1825-0097"


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    """The records the fixture files name, committed."""
    valdorno = Organisation(
        name="Università di Valdorno",
        kind=OrganisationKind.UNIVERSITY,
        country="IT",
        org_id="IT-CF-80012650158",
    )
    pasteur = Organisation(
        name="Institut Pasteur de Saint-Aurèle",
        kind=OrganisationKind.RESEARCH_INSTITUTE,
        country="FR",
    )
    maggiore_it = Organisation(
        name="Ospedale Maggiore", kind=OrganisationKind.HOSPITAL, country="IT"
    )
    maggiore_ch = Organisation(
        name="Ospedale Maggiore", kind=OrganisationKind.HOSPITAL, country="CH"
    )
    carberry = Person(family_name="Carberry", given_names="Josiah", orcid=ORCID)
    rossi = Person(family_name="Rossi", given_names="Anna")
    programme = Programme(name="Annual call 2004", kind=ProgrammeKind.ANNUAL_CALL, year=2004)
    stem = ResearchArea(name="neural stem cells")
    remyelination = ResearchArea(name="remyelination")
    general = Fund(name="General fund")
    stem_fund = Fund(name="Stem cell fund", is_restricted=True)
    session.add_all(
        [
            valdorno,
            pasteur,
            maggiore_it,
            maggiore_ch,
            carberry,
            rossi,
            programme,
            stem,
            remyelination,
            general,
            stem_fund,
        ]
    )
    session.commit()
    return {
        "valdorno": valdorno,
        "pasteur": pasteur,
        "maggiore_it": maggiore_it,
        "carberry": carberry,
        "rossi": rossi,
        "programme": programme,
        "stem": stem,
        "remyelination": remyelination,
        "general": general,
        "stem_fund": stem_fund,
    }


def _import(runner, kind: str, path: Path, *args: str):
    return runner.invoke(args=["import", kind, str(path), *args])


def _count(session: so.Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def _grant(session: so.Session, reference: str) -> Grant:
    session.expire_all()
    grant = session.scalar(sa.select(Grant).where(Grant.reference == reference))
    assert grant is not None, reference
    return grant


def _last_run(session: so.Session) -> ImportRun:
    session.expire_all()
    return session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc())).first()


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- parsing


def test_openpyxl_parses_through_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize(
    "name", ["Award date", "award_date", "AWARD DATE", "Àward-Date", " award  date "]
)
def test_header_names_match_whatever_their_case_spacing_or_accents(name: str) -> None:
    outcome = Outcome()
    header = Header(["reference", name], GRANT_COLUMNS, outcome)
    assert header.has("award_date")


def test_header_reports_missing_and_doubled_columns() -> None:
    outcome = Outcome()
    Header(["Reference", "REFERENCE", "title", "whatever"], GRANT_COLUMNS, outcome)
    reasons = {(e.row, e.column): e.reason for e in outcome.errors}
    assert reasons[(1, "REFERENCE")].startswith("two columns mean reference")
    assert reasons[(1, "institution")] == "this column is missing from the header row"
    assert outcome.notes == ["Columns not recognised and ignored: whatever."]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("250,000.00", "250000.00"),
        ("250.000,00", "250000.00"),
        ("1.234.567,89", "1234567.89"),
        ("150.000", "150000"),
        ("150,000", "150000"),
        ("1500.5", "1500.5"),
        ("2.500,5", "2500.5"),
        ("€ 1.500", "1500"),
        ("1 500,25", "1500.25"),
        ("0,5", "0.5"),
    ],
)
def test_amounts_in_english_or_italian(text: str, amount: str) -> None:
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["abc", "-5", "1.234,567", "=A1*2"])
def test_bad_amounts_are_refused(text: str) -> None:
    value = FormulaText(text) if text.startswith("=") else text
    with pytest.raises(CellError):
        parse_money(value)


def test_dates_iso_or_day_first() -> None:
    assert parse_date("2004-03-01") == date(2004, 3, 1)
    assert parse_date("01/03/2004") == date(2004, 3, 1)
    assert parse_date("1.3.2004") == date(2004, 3, 1)
    assert parse_date("2004-03-01 00:00:00") == date(2004, 3, 1)
    assert parse_date("") is None
    for bad in ("31/02/2004", "2004/03/01", "March 2004"):
        with pytest.raises(CellError):
            parse_date(bad)


def test_shares_as_percent_or_fraction() -> None:
    assert parse_share("50%") == Decimal("0.5")
    assert parse_share("0,25") == Decimal("0.25")
    assert parse_share("33.33%") == Decimal("0.3333")
    for bad in ("150%", "2", "0"):
        with pytest.raises(CellError):
            parse_share(bad)


def test_encodings_and_separators_are_recognised() -> None:
    table = read_table((DATA / "grants_cp1252_semicolon.csv").read_bytes())
    assert (table.encoding, table.delimiter) == ("Windows-1252", ";")
    rows = list(table.rows)
    assert rows[0][1][1] == "Étude des cellules souches – coût 5 €"
    assert rows[2][1][1] == "Cellule; staminali"
    bom = read_table((DATA / "grants_utf8_bom.csv").read_bytes())
    assert bom.headers[0] == "Reference" and bom.encoding == "UTF-8"


def test_old_excel_and_damaged_workbooks_are_refused() -> None:
    with pytest.raises(FileProblem, match="old-style Excel"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "grants.xls")
    with pytest.raises(FileProblem, match="damaged"):
        read_table(b"PK\x03\x04 not really a zip", "grants.xlsx")


def test_xlsx_cells_arrive_as_text_and_formulas_are_not_evaluated() -> None:
    data = _xlsx(
        [
            ["reference", "amount", "award_date", "title"],
            ["X-1", 1500.5, date(2004, 3, 1), '=HYPERLINK("http://x")'],
            ["X-2", "=1000*2", 2004, "plain"],
        ]
    )
    table = read_table(data, "grants.xlsx")
    rows = list(table.rows)
    assert rows[0] == (2, ["X-1", "1500.5", "2004-03-01", '=HYPERLINK("http://x")'])
    assert isinstance(rows[0][1][3], FormulaText)
    assert isinstance(rows[1][1][1], FormulaText)


# --------------------------------------------------------------------------- grants


def test_grants_import_from_utf8_csv_with_bom(runner, session, world) -> None:
    result = _import(runner, "grants", DATA / "grants_utf8_bom.csv")
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 unchanged, 1 blank rows skipped" in result.stdout
    assert "Columns not recognised and ignored: Notes." in result.stderr
    first = _grant(session, "IMP-001")
    assert first.host_organisation_id == world["valdorno"].id
    assert first.principal_investigator_id == world["carberry"].id
    assert first.programme_id == world["programme"].id
    assert first.status == GrantStatus.COMPLETED
    assert (first.start_date, first.end_date) == (date(2004, 4, 1), date(2006, 3, 31))
    assert first.amount_awarded == Decimal("250000.00") and first.amount_eur == first.amount_awarded
    assert sorted(a.name for a in first.areas) == ["neural stem cells", "remyelination"]
    second = _grant(session, "IMP-002")
    assert second.title == 'Title with, a comma and "quotes"'
    assert second.host_organisation_id == world["valdorno"].id  # by org-id
    assert second.principal_investigator_id == world["rossi"].id  # "Family, Given"
    assert second.confidentiality == Confidentiality.INTERNAL
    assert second.amount_awarded == Decimal("1500.50")
    lire = _grant(session, "IMP-003")
    assert lire.host_organisation_id == world["maggiore_it"].id  # the country decides
    assert lire.principal_investigator_id == world["rossi"].id  # "Given Family"
    assert lire.amount_awarded == Decimal("150000000") and lire.currency == "ITL"
    assert lire.amount_eur == Decimal("77468.53")
    assert lire.confidentiality == Confidentiality.PUBLIC
    run = _last_run(session)
    assert run.status == ImportStatus.APPLIED and run.kind == "grants"
    assert run.actor.startswith("cli") and len(run.sha256) == 64
    assert run.counts == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 1, "errors": 0}
    event = session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == AuditAction.IMPORT, AuditEvent.entity_id == run.id
        )
    )
    assert event.changes["created"] == [None, 3] and "grants_utf8_bom.csv" in event.summary


def test_grants_import_from_cp1252_semicolon_italian(runner, session, world) -> None:
    result = _import(runner, "grants", DATA / "grants_cp1252_semicolon.csv")
    assert result.exit_code == 0, result.output
    etude = _grant(session, "IMP-101")
    assert etude.title == "Étude des cellules souches – coût 5 €"
    assert etude.host_organisation_id == world["pasteur"].id
    assert etude.award_date == date(2010, 3, 15)
    assert etude.amount_awarded == Decimal("1234567.89")
    assert _grant(session, "IMP-102").amount_awarded == Decimal("150000")
    third = _grant(session, "IMP-103")
    assert third.title == "Cellule; staminali"
    assert third.award_date == date(2012, 2, 1) and third.amount_awarded == Decimal("2500.50")


def test_reimporting_the_same_file_changes_nothing(runner, session, world) -> None:
    assert _import(runner, "grants", DATA / "grants_utf8_bom.csv").exit_code == 0
    versions = {g.reference: g.version for g in session.scalars(sa.select(Grant))}
    events = _count(session, AuditEvent)
    again = _import(runner, "grants", DATA / "grants_utf8_bom.csv")
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 3 unchanged" in again.stdout
    session.expire_all()
    assert {g.reference: g.version for g in session.scalars(sa.select(Grant))} == versions
    assert _count(session, AuditEvent) == events + 1  # only the run's IMPORT event


def test_changed_rows_are_updated_and_audited(runner, session, world, tmp_path) -> None:
    assert _import(runner, "grants", DATA / "grants_utf8_bom.csv").exit_code == 0
    before = _grant(session, "IMP-001")
    version = before.version
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "reference,title,institution,status,award_date,amount,currency,areas\n"
        "IMP-001,Neurospheres in chronic EAE (revised),IT-CF-80012650158,completed,"
        '2004-03-01,"260,000.00",EUR,remyelination\n',
        encoding="utf-8",
    )
    result = _import(runner, "grants", changed)
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated" in result.stdout
    grant = _grant(session, "IMP-001")
    assert grant.title.endswith("(revised)") and grant.amount_eur == Decimal("260000.00")
    assert grant.version == version + 1
    assert grant.end_date == date(2006, 3, 31)  # the column was not in the file: kept
    assert [a.name for a in grant.areas] == ["remyelination"]
    event = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "grants",
            AuditEvent.entity_id == grant.id,
            AuditEvent.action == AuditAction.UPDATE,
        )
    ).one()
    assert event.changes["title"] == [
        "Neurospheres in chronic EAE",
        "Neurospheres in chronic EAE (revised)",
    ]
    assert event.changes["amount_awarded"] == ["250000.00", "260000.00"]
    assert event.changes["areas"] == ["neural stem cells, remyelination", "remyelination"]
    assert event.entity_version == version + 1 and event.actor.startswith("cli")


def test_bad_rows_refuse_the_whole_file(runner, session, world) -> None:
    grants_before = _count(session, Grant)
    result = _import(runner, "grants", DATA / "grants_bad.csv")
    assert result.exit_code == 1
    report = result.stderr
    assert (
        "row 3, column institution, value 'Nowhere Institute': no organisation of this name"
    ) in report
    assert "row 4, column principal_investigator, value '0000-0002-1825-0098'" in report
    assert "wrong check digit" in report
    assert "row 5, column end_date, value '2004-12-31': the end date is before" in report
    assert (
        "row 6, column reference, value 'BAD-1': the same reference is already on row 2" in report
    )
    assert "row 7, column currency, value 'XYZ': no exchange rate is known for XYZ" in report
    assert "row 8, column status, value 'finished': not one of" in report
    assert "row 8, column award_date, value '31/02/2004': not a date" in report
    assert "row 8, column amount, value 'abc': not an amount" in report
    assert "nothing was written" in report
    assert _count(session, Grant) == grants_before
    run = _last_run(session)
    assert run.status == ImportStatus.FAILED and run.counts["errors"] == 8
    assert {
        "row": 3,
        "column": "institution",
        "value": "Nowhere Institute",
        "reason": run.errors[0]["reason"],
    } == run.errors[0]


def test_dry_run_writes_nothing_but_records_the_run(runner, session, world) -> None:
    result = _import(runner, "grants", DATA / "grants_utf8_bom.csv", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be 3 created" in result.stdout and "nothing written" in result.stdout
    assert _count(session, Grant) == 0
    run = _last_run(session)
    assert run.status == ImportStatus.DRY_RUN and run.counts["created"] == 3


def test_missing_required_column_is_reported_on_the_header_row(
    runner, session, world, tmp_path
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("reference,title\nX-1,Something\n", encoding="utf-8")
    result = _import(runner, "grants", path)
    assert result.exit_code == 1
    assert "row 1, column institution: this column is missing from the header row" in (
        result.stderr
    )


def test_deleted_or_ambiguous_records_are_errors(runner, session, world, tmp_path) -> None:
    f.grant(session, reference="GONE-1", deleted_at=utcnow())
    session.commit()
    path = tmp_path / "awkward.csv"
    path.write_text(
        "reference,title,institution,status,award_date,amount,currency\n"
        "GONE-1,Deleted grant,Università di Valdorno,active,2004-01-01,1,EUR\n"
        "NEW-1,Two hospitals,Ospedale Maggiore,active,2004-01-01,1,EUR\n"
        "NEW-2,Unknown org-id,IT-CF-80012650159,active,2004-01-01,1,EUR\n",
        encoding="utf-8",
    )
    result = _import(runner, "grants", path)
    assert result.exit_code == 1
    assert "row 2, column reference, value 'GONE-1': this grant is deleted" in result.stderr
    assert "row 3, column institution, value 'Ospedale Maggiore': 2 organisations" in (
        result.stderr
    )
    assert "row 4, column institution, value 'IT-CF-80012650159'" in result.stderr


def test_xlsx_import_with_a_formula_cell(runner, session, world, tmp_path) -> None:
    header = ["Reference", "Title", "Institution", "Status", "Award date", "Amount", "Currency"]
    good = tmp_path / "good.xlsx"
    good.write_bytes(
        _xlsx(
            [
                header,
                [
                    "XL-1",
                    "=A1&B1",
                    "Università di Valdorno",
                    "active",
                    date(2004, 3, 1),
                    1500.5,
                    "EUR",
                ],
            ]
        )
    )
    result = _import(runner, "grants", good)
    assert result.exit_code == 0, result.output
    grant = _grant(session, "XL-1")
    assert grant.title == "=A1&B1"  # a formula in a text column: its text, not its value
    assert grant.award_date == date(2004, 3, 1) and grant.amount_awarded == Decimal("1500.50")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        _xlsx(
            [
                header,
                [
                    "XL-2",
                    "Computed",
                    "Università di Valdorno",
                    "active",
                    "2004-03-01",
                    "=1000*2",
                    "EUR",
                ],
            ]
        )
    )
    result = _import(runner, "grants", bad)
    assert result.exit_code == 1
    assert "row 2, column amount, value '=1000*2': the cell holds a formula" in result.stderr
    assert _count(session, Grant) == 1


def test_a_crash_half_way_leaves_the_database_unchanged(app, session, world, monkeypatch) -> None:
    monkeypatch.setattr(grant_import, "CHUNK_ROWS", 2)
    calls = {"n": 0}
    real = grant_import.queue_new

    def crashing(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("simulated crash")
        real(*args)

    monkeypatch.setattr(grant_import, "queue_new", crashing)
    lines = ["reference,title,institution,status,award_date,amount,currency"]
    lines += [
        f"CR-{i},Grant {i},Università di Valdorno,active,2004-01-01,100,EUR" for i in range(6)
    ]
    data = "\n".join(lines).encode()
    grants_before, events_before = _count(session, Grant), _count(session, AuditEvent)
    with app.app_context():
        from app.extensions import db

        result = run_import(db.session, "grants", "crash.csv", data, dry_run=False, actor="test")
        db.session.commit()
    assert calls["n"] == 4  # two rows of the first chunk were already written
    assert result.run.status == ImportStatus.FAILED
    assert "unexpected error (RuntimeError); nothing was written" in result.run.errors[0]["reason"]
    assert _count(session, Grant) == grants_before
    assert _count(session, AuditEvent) == events_before + 1  # the IMPORT event alone


# --------------------------------------------------------------------------- outputs and links


def _grants_for_outputs(session: so.Session) -> None:
    f.grant(session, reference="IMP-001")
    f.grant(session, reference="IMP-002")
    session.commit()


def test_outputs_import_with_attributions(runner, session, world) -> None:
    _grants_for_outputs(session)
    result = _import(runner, "outputs", DATA / "outputs.csv")
    assert result.exit_code == 0, result.output
    assert "3 created" in result.stdout
    session.expire_all()
    paper = session.scalar(sa.select(Output).where(Output.type == OutputType.PUBLICATION))
    assert paper.publication.doi == "10.1038/nature01591" and paper.publication.pmid == "12700710"
    assert paper.output_date == date(2003, 1, 1) and paper.date_precision == DatePrecision.YEAR
    shares = sorted((a.grant.reference, a.share) for a in paper.attributions)
    assert shares == [("IMP-001", Decimal("0.5")), ("IMP-002", Decimal("0.5"))]
    trial = session.scalar(sa.select(Output).where(Output.type == OutputType.MEDICAL_PRODUCT))
    assert trial.trial.phase == TrialPhase.PHASE_1
    assert [r.value for r in trial.trial.registry_ids] == ["NCT03269071"]
    assert trial.date_precision == DatePrecision.MONTH
    talk = session.scalar(sa.select(Output).where(Output.type == OutputType.ENGAGEMENT))
    assert talk.output_date == date(2018, 5, 11)
    again = _import(runner, "outputs", DATA / "outputs.csv")
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 3 unchanged" in again.stdout  # the talk: by type and title
    assert _count(session, Attribution) == 3


def test_outputs_errors_name_row_and_column(runner, session, world, tmp_path) -> None:
    _grants_for_outputs(session)
    path = tmp_path / "bad_outputs.csv"
    path.write_text(
        "type,title,doi,grants,shares,phase\n"
        "publication,Bad DOI,10.abc,IMP-001,,\n"
        "publication,Unknown grant,10.1000/xyz,NOPE-1,,\n"
        "publication,Too much credit,10.1000/abc,IMP-001;IMP-002,60%;50%,\n"
        "award,Phase on an award,,,,Phase 1\n"
        "hologram,Unknown type,,,,\n",
        encoding="utf-8",
    )
    outputs_before = _count(session, Output)
    result = _import(runner, "outputs", path)
    assert result.exit_code == 1
    report = result.stderr
    assert "row 2, column doi, value '10.abc'" in report
    assert "row 3, column grants, value 'NOPE-1': no grant has reference NOPE-1" in report
    assert "row 4, column shares" in report and "110.00%" in report
    assert "row 5, column phase, value 'Phase 1': only for medical products" in report
    assert "row 6, column type, value 'hologram': not one of" in report
    assert _count(session, Output) == outputs_before


def test_links_import_and_cycles_refused(runner, session, world) -> None:
    _grants_for_outputs(session)
    assert _import(runner, "outputs", DATA / "outputs.csv").exit_code == 0
    result = _import(runner, "links", DATA / "links.csv")
    assert result.exit_code == 0, result.output
    assert "1 created" in result.stdout
    link = session.scalars(sa.select(OutputLink)).one()
    assert link.output.title == "STEMS trial" and link.upstream.title.startswith("Neural")
    again = _import(runner, "links", DATA / "links.csv")
    assert "0 created, 0 updated, 1 unchanged" in again.stdout
    cycle = _import(runner, "links", DATA / "links_cycle.csv")
    assert cycle.exit_code == 1
    assert "row 3, column upstream, value 'NCT03269071'" in cycle.stderr
    assert "cycle" in cycle.stderr
    assert _count(session, OutputLink) == 1


# --------------------------------------------------------------------------- donations, index


def test_donations_import_creates_donors_and_is_idempotent(runner, session, world) -> None:
    result = _import(runner, "donations", DATA / "donations.csv")
    assert result.exit_code == 0, result.output
    assert "3 created" in result.stdout
    session.expire_all()
    donors = {d.name: d for d in session.scalars(sa.select(Donor))}
    assert donors["Fondazione Rossi"].kind == DonorKind.TRUST
    assert donors["Contessa Serbelloni"].is_anonymous is True
    gifts = session.scalars(sa.select(Donation).order_by(Donation.received_on)).all()
    assert [(g.amount, g.currency) for g in gifts] == [
        (Decimal("10000000"), "ITL"),
        (Decimal("1500.00"), "EUR"),
        (Decimal("2000"), "EUR"),
    ]
    assert gifts[0].fund_id == world["stem_fund"].id and gifts[1].reference == "RIC-2010-0042"
    summaries = " ".join(e.summary or "" for e in session.scalars(sa.select(AuditEvent)))
    assert "Serbelloni" not in summaries  # donors are never named in the audit trail
    again = _import(runner, "donations", DATA / "donations.csv")
    assert "0 created, 0 updated, 3 unchanged" in again.stdout
    assert _count(session, Donation) == 3


def test_donations_errors(runner, session, world, tmp_path) -> None:
    path = tmp_path / "bad_donations.csv"
    path.write_text(
        "donor,fund,date,amount,currency\nSomeone New,Nonexistent fund,2010-01-01,0,EUR\n",
        encoding="utf-8",
    )
    result = _import(runner, "donations", path)
    assert result.exit_code == 1
    assert "row 2, column fund, value 'Nonexistent fund': no fund of this name" in result.stderr
    assert "row 2, column amount, value '0': the amount must be more than zero" in result.stderr
    assert _count(session, Donor) == 0


def test_price_index_through_the_import_command(runner, session) -> None:
    result = _import(runner, "priceindex", DATA / "priceindex.csv")
    assert result.exit_code == 0, result.output
    assert "2 created" in result.stdout
    session.expire_all()
    assert session.get(PriceIndex, 2004).value == Decimal("102.2")
    assert "2 unchanged" in _import(runner, "priceindex", DATA / "priceindex.csv").stdout


# --------------------------------------------------------------------------- pages


def _upload(client, kind: str, name: str, data: bytes):
    return client.post(
        "/imports",
        data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_staff_checks_then_applies_a_file(
    client, logged_in, session, world, app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    logged_in(Role.STAFF)
    data = (DATA / "grants_utf8_bom.csv").read_bytes()
    preview = _upload(client, "grants", "grants.csv", data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Every row passed the checks" in page and "IMP-001" in page and "Create" in page
    assert _count(session, Grant) == 0
    checked = _last_run(session)
    assert checked.status == ImportStatus.DRY_RUN and checked.user_id is not None
    assert (tmp_path / "imports" / checked.sha256).is_file()
    applied = client.post(f"/imports/runs/{checked.id}/apply")
    assert applied.status_code == 302
    assert _count(session, Grant) == 3
    run = _last_run(session)
    assert run.status == ImportStatus.APPLIED and run.id != checked.id
    assert not (tmp_path / "imports" / checked.sha256).exists()
    page = client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "3 created" in page or "Imported grants.csv" in page
    history = client.get("/imports").get_data(as_text=True)
    assert f"#{checked.id}" in history and f"#{run.id}" in history
    # The file is gone once applied: a second apply is refused.
    again = client.post(f"/imports/runs/{checked.id}/apply", follow_redirects=True)
    assert "upload the file again" in again.get_data(as_text=True)
    assert _count(session, Grant) == 3


def test_preview_lists_every_error(
    client, logged_in, session, world, app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    logged_in(Role.STAFF)
    page = _upload(client, "grants", "bad.csv", (DATA / "grants_bad.csv").read_bytes())
    html = page.get_data(as_text=True)
    assert "8 problems found" in html
    assert "Nowhere Institute" in html and "wrong check digit" in html
    assert "Import bad.csv" not in html  # no apply button
    run = _last_run(session)
    assert run.status == ImportStatus.FAILED
    assert not (tmp_path / "imports" / run.sha256).exists()  # only clean files are kept
    assert client.post(f"/imports/runs/{run.id}/apply").status_code == 302
    assert _count(session, Grant) == 0
    assert "Nowhere Institute" in client.get(f"/imports/runs/{run.id}").get_data(as_text=True)


def test_upload_needs_a_file(client, logged_in, session) -> None:
    logged_in(Role.STAFF)
    page = client.post("/imports", data={"kind": "grants"}, content_type="multipart/form-data")
    assert "Choose a file to import." in page.get_data(as_text=True)
    assert _count(session, ImportRun) == 0


def test_too_large_upload_gets_a_friendly_page(client, logged_in, app, monkeypatch) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    logged_in(Role.STAFF)
    response = _upload(client, "grants", "big.csv", b"x" * 5000)
    assert response.status_code == 413
    assert "larger than the 0 MB" not in response.get_data(as_text=True)
    assert "File too large" in response.get_data(as_text=True)


def test_templates_hold_the_columns(client, logged_in) -> None:
    logged_in(Role.STAFF)
    response = client.get("/imports/templates/grants.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines() == [",".join(c.name for c in GRANT_COLUMNS)]
    assert client.get("/imports/templates/nothing.csv").status_code == 404


def test_trustees_cannot_import(client, logged_in) -> None:
    logged_in(Role.TRUSTEE)
    assert client.get("/imports").status_code == 403
    assert client.post("/imports", data={"kind": "grants"}).status_code == 403


def test_outputs_update_by_identifier_and_audit_names_the_command(
    runner, session, world, tmp_path
) -> None:
    _grants_for_outputs(session)
    assert _import(runner, "outputs", DATA / "outputs.csv").exit_code == 0
    path = tmp_path / "update.csv"
    path.write_text(
        "PMID,Title,Type,Journal\n"
        "PMID: 12700710,Neural precursors in chronic EAE (corrected),publication,\n",
        encoding="utf-8",
    )
    result = _import(runner, "outputs", path)
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated" in result.stdout
    session.expire_all()
    paper = session.scalar(sa.select(Output).where(Output.type == OutputType.PUBLICATION))
    assert paper.title.endswith("(corrected)")
    assert paper.publication.doi == "10.1038/nature01591"  # no DOI column: kept
    assert paper.publication.journal is None  # a blank cell clears
    events = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "outputs", AuditEvent.entity_id == paper.id
        ).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.UPDATE]
    assert all(e.actor.startswith("cli") for e in events)


def test_web_import_audits_as_the_user(
    client, logged_in, session, world, app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    user = logged_in(Role.STAFF)
    _upload(client, "donations", "gifts.csv", (DATA / "donations.csv").read_bytes())
    checked = _last_run(session)
    client.post(f"/imports/runs/{checked.id}/apply")
    assert _count(session, Donation) == 3
    events = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "donations")
    ).all()
    assert len(events) == 3 and {e.user_id for e in events} == {user.id}


def test_import_pages_query_count_does_not_grow(
    client, logged_in, session, count_queries, world
) -> None:
    logged_in(Role.STAFF)

    def pages() -> int:
        with count_queries() as counter:
            assert client.get("/imports").status_code == 200
        return counter.count

    for _ in range(2):
        run_import(session, "grants", "x.csv", b"reference\nA\n", dry_run=True, actor="t")
    session.commit()
    few = pages()
    for _ in range(5):
        run_import(session, "grants", "x.csv", b"reference\nA\n", dry_run=True, actor="t")
    session.commit()
    assert pages() == few
    run = _last_run(session)
    with count_queries() as counter:
        assert client.get(f"/imports/runs/{run.id}").status_code == 200
    assert counter.count <= 4


def test_an_export_imports_unchanged(runner, session, world, tmp_path) -> None:
    f.grant(
        session,
        reference="RT-1",
        title="-10% relapse rate: a trial",
        currency="ITL",
        host=world["valdorno"],
        amount_awarded=Decimal("150000000"),
        amount_eur=Decimal("77468.53"),
        award_date=date(1995, 5, 1),
    )
    f.grant(
        session,
        reference="RT-2",
        title="=cmd|' /C calc'!A0",
        host=world["pasteur"],
        principal_investigator=world["rossi"],
    )
    session.commit()
    target = tmp_path / "export.csv"
    assert runner.invoke(args=["export", "grants", "-o", str(target)]).exit_code == 0
    assert "'-10% relapse rate" in target.read_text(encoding="utf-8")
    result = _import(runner, "grants", target)
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 2 unchanged" in result.stdout
