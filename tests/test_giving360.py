"""360Giving: the standard's real and broken samples, flattened sheets, export, UI, CLI."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.giving360 import export, schema
from app.giving360.mapping import derive_status, period_date
from app.giving360.settings import Settings, SettingsProblem, check_prefix
from app.imports.services import run_import
from app.models import (
    AuditAction,
    AuditEvent,
    CoFunding,
    Confidentiality,
    Grant,
    GrantStatus,
    ImportRun,
    ImportStatus,
    Organisation,
    Programme,
    ProgrammeKind,
    Role,
    utcnow,
)

from . import factories as f

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "360giving"
SAMPLES = SHARED / "samples"
ALWF = SAMPLES / "alwf-grants-valid.json"
ALWF_TOTAL = Decimal("21757793.27")
ALWF_FUNDER = "GB-CHC-1015648"
DATA = Path(__file__).parent / "data" / "giving360"
FLATTENED = (
    "fundingproviders_grants_2_grants.csv",
    "fundingproviders-grants_2_grants_cp1252.csv",
    "fundingproviders-grants_2_grants.xlsx",
)
REFUSED = (
    "fundingproviders-grants_malformed.json",
    "fundingproviders-grants_broken_grants.json",
    "nulls.json",
    "decimal_amounts.json",
    "bom.csv",
)
MODELS = (Grant, Organisation, Programme, CoFunding)


def _import(session: so.Session, path: Path, *, dry_run: bool = False) -> Any:
    result = run_import(
        session, "360giving", path.name, path.read_bytes(), dry_run=dry_run, actor="test"
    )
    session.commit()
    return result


def _import_bytes(session: so.Session, data: dict[str, Any], *, dry_run: bool = False) -> Any:
    body = json.dumps(data).encode()
    result = run_import(session, "360giving", "test.json", body, dry_run=dry_run, actor="test")
    session.commit()
    return result


def _count(session: so.Session, model: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _counts(session: so.Session) -> dict[str, int]:
    return {model.__name__: _count(session, model) for model in MODELS}


def _grant(**fields: Any) -> dict[str, Any]:
    grant = {
        "id": "360G-test-1",
        "title": "A grant",
        "description": "What it is for",
        "currency": "EUR",
        "amountAwarded": 1000,
        "awardDate": "2020-01-15",
        "recipientOrganization": [{"id": "GB-CHC-1000001", "name": "A charity"}],
        "fundingOrganization": [{"id": "GB-CHC-1099999", "name": "A funder"}],
    }
    grant.update(fields)
    return grant


def _package(*grants: dict[str, Any]) -> dict[str, Any]:
    return {"grants": list(grants)}


# ------------------------------------------------------------------------------ the real file


def test_real_file_imports_every_grant_with_the_same_total(session: so.Session) -> None:
    result = _import(session, ALWF)
    assert result.run.status == ImportStatus.APPLIED, result.run.errors
    assert result.run.kind == "360giving"
    assert result.run.counts["created"] == 475
    assert _count(session, Grant) == 475
    total = session.scalar(sa.select(sa.func.sum(Grant.amount_awarded)))
    assert total == ALWF_TOTAL
    assert session.scalar(sa.select(sa.func.count(sa.distinct(Grant.currency)))) == 1
    # No GBP rate in the table: the euro amount stays empty rather than invented.
    assert session.scalar(sa.select(sa.func.count()).where(Grant.amount_eur.is_not(None))) == 0
    source = json.loads(ALWF.read_text())["grants"]
    stored = set(session.scalars(sa.select(Grant.reference)))
    assert stored == {grant["id"] for grant in source}
    # Float noise in the file (41133.770000000004) is the cent amount it stands for.
    noisy = next(g["id"] for g in source if g["amountAwarded"] == 41133.770000000004)
    amount = session.scalar(sa.select(Grant.amount_awarded).where(Grant.reference == noisy))
    assert amount == Decimal("41133.77")


def test_real_file_organisations_by_org_id(session: so.Session) -> None:
    _import(session, ALWF)
    source = json.loads(ALWF.read_text())["grants"]
    first = source[0]
    grant = session.scalars(sa.select(Grant).where(Grant.reference == first["id"])).one()
    host = grant.host
    recipient = first["recipientOrganization"][0]
    assert (host.org_id, host.name, host.country, host.city) == (
        recipient["id"],
        recipient["name"],
        "GB",
        recipient["addressLocality"],
    )
    recipients = {g["recipientOrganization"][0]["id"] for g in source}
    assert _count(session, Organisation) == len(recipients) + 1  # and the funder
    funder = session.scalars(sa.select(Organisation).where(Organisation.org_id == ALWF_FUNDER))
    assert funder.one().name == "Andrew Lloyd Webber Foundation"
    # ALWF is not this foundation (no FUNDER_ORG_ID): it is recorded as co-funder.
    assert _count(session, CoFunding) == 475
    # 360G- org-ids (recipients without a registered number) are kept as written.
    assert (
        session.scalar(sa.select(sa.func.count()).where(Organisation.org_id.like("360G-ALWF-%")))
        > 0
    )
    assert grant.programme is not None and grant.programme.name == "Music"
    assert grant.confidentiality == Confidentiality.PUBLIC


def test_real_file_statuses_from_planned_dates(session: so.Session) -> None:
    _import(session, ALWF)
    statuses = dict(
        session.execute(sa.select(Grant.status, sa.func.count()).group_by(Grant.status)).all()
    )
    # 7 grants have no planned dates at all; the rest ended years ago (2011-2020 + months).
    assert statuses == {GrantStatus.AWARDED: 7, GrantStatus.COMPLETED: 468}
    assert session.scalar(sa.select(sa.func.count()).where(Grant.start_date.is_not(None))) == 0


def test_reimport_changes_nothing(session: so.Session) -> None:
    _import(session, ALWF)
    before = _counts(session)
    events = _count(session, AuditEvent)
    again = _import(session, ALWF)
    assert again.run.status == ImportStatus.APPLIED
    assert again.run.counts == {
        "created": 0,
        "updated": 0,
        "unchanged": 475,
        "skipped": 0,
        "errors": 0,
    }
    assert _counts(session) == before
    assert _count(session, AuditEvent) == events + 1  # the run's own IMPORT event


def test_dry_run_writes_nothing_but_the_run(session: so.Session) -> None:
    result = _import(session, ALWF, dry_run=True)
    assert result.run.status == ImportStatus.DRY_RUN
    assert result.run.counts["created"] == 475
    assert _counts(session) == dict.fromkeys(_counts(session), 0)
    assert any(
        "289 organisation(s)" in note and "would be" in note for note in result.outcome.notes
    )
    events = session.scalars(sa.select(AuditEvent.action)).all()
    assert events == [AuditAction.IMPORT]


def test_the_foundations_own_funder_is_not_a_co_funder(
    app: Flask, session: so.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "FUNDER_ORG_ID", ALWF_FUNDER.lower())
    with app.app_context():
        result = _import(session, ALWF)
    assert result.run.status == ImportStatus.APPLIED
    assert _count(session, CoFunding) == 0
    assert (
        session.scalar(sa.select(Organisation.id).where(Organisation.org_id == ALWF_FUNDER)) is None
    )


# ------------------------------------------------------------------------------ refused files


@pytest.mark.parametrize("name", REFUSED)
def test_broken_samples_are_refused_and_nothing_written(session: so.Session, name: str) -> None:
    result = _import(session, SAMPLES / name)
    assert result.run.status == ImportStatus.FAILED
    assert result.run.errors and result.outcome.error_count >= 1
    assert _counts(session) == dict.fromkeys(_counts(session), 0)
    assert _count(session, ImportRun) == 1
    for error in result.run.errors:
        assert error["reason"] and "Traceback" not in error["reason"]


def test_malformed_json_names_the_place(session: so.Session) -> None:
    result = _import(session, SAMPLES / "fundingproviders-grants_malformed.json")
    (error,) = result.run.errors
    assert error["row"] is None
    assert "not valid JSON" in error["reason"] and "line 10, column 15" in error["reason"]


def test_schema_errors_name_grant_field_value_and_reason(session: so.Session) -> None:
    result = _import(session, SAMPLES / "fundingproviders-grants_broken_grants.json")
    errors = {(e["row"], e["column"]): e for e in result.run.errors}
    award = errors[(1, "awardDate")]
    assert award["value"] == "24/07/2014" and "not a date" in award["reason"]
    assert "date and time" in errors[(2, "dateModified")]["reason"]
    duplicate = errors[(2, "id")]
    assert duplicate["value"] == "360G-fundingproviders-000001/X/00/X"
    assert "already on grant 1" in duplicate["reason"]
    assert not any("Description" in note for note in result.outcome.notes)  # refused anyway


def test_nulls_get_one_plain_error_per_field(session: so.Session) -> None:
    result = _import(session, SAMPLES / "nulls.json")
    first = [e for e in result.run.errors if e["row"] == 1]
    assert {"column": "currency", "reason": "should be text"}.items() <= next(
        e for e in first if e["column"] == "currency"
    ).items()
    assert len([e for e in first if e["column"] == "currency"]) == 1


def test_bom_csv_is_read_but_lacks_what_a_grant_needs(session: so.Session) -> None:
    result = _import(session, SAMPLES / "bom.csv")
    columns = {e["column"] for e in result.run.errors}
    assert {"Title", "Amount Awarded", "Award Date", "Recipient Org:Name"} <= columns
    assert "Identifier" not in columns and "Currency" not in columns  # the BOM was stripped
    assert not any("ignored" in note for note in result.outcome.notes)


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"amountAwarded": 10.005}, "amountAwarded", "two decimals"),
        ({"amountAwarded": -5}, "amountAwarded", "negative"),
        ({"currency": "EURO"}, "currency", "currency code"),
        ({"awardDate": "2020-13-01"}, "awardDate", "not a date"),
        (
            {"recipientOrganization": [{"id": "RUBBISH2-COH-RC000000", "name": "X"}]},
            "recipientOrganization[0].id",
            "org-id",
        ),
        (
            {"recipientOrganization": [{"id": "IT-CF-80012650159", "name": "X"}]},
            "recipientOrganization[0].id",
            "invalid",
        ),
        (
            {"recipientOrganization": [{"id": "360G-x-1", "name": "X"}]},
            "recipientOrganization[0].addressCountry",
            "country is unknown",
        ),
        (
            {"plannedDates": [{"startDate": "2021-01-01", "endDate": "2020-01-01"}]},
            "plannedDates[0].endDate",
            "before the start",
        ),
        ({"id": "360G-" + "x" * 200}, "id", "at most 120"),
        ({"title": "bad\x07title"}, "title", "control characters"),
    ],
)
def test_grant_rules_beyond_the_schema(
    session: so.Session, change: dict[str, Any], column: str, reason: str
) -> None:
    grant = _grant(**change)
    if change.get("recipientOrganization", [{}])[0].get("id") == "360G-x-1":
        grant["fundingOrganization"] = [{"id": "360G-funder-1", "name": "Nowhere funder"}]
    result = _import_bytes(session, _package(grant))
    assert result.run.status == ImportStatus.FAILED
    assert any(e["column"] == column and reason in e["reason"] for e in result.run.errors), (
        result.run.errors
    )
    assert _counts(session) == dict.fromkeys(_counts(session), 0)


def test_grants_to_individuals_are_refused(session: so.Session) -> None:
    grant = _grant(recipientIndividual={"id": "360G-p-1", "name": "A person"})
    del grant["recipientOrganization"]
    result = _import_bytes(session, _package(grant))
    assert result.run.status == ImportStatus.FAILED
    assert "individuals cannot be imported" in result.run.errors[0]["reason"]


def test_a_list_or_a_missing_grants_list_is_explained(session: so.Session) -> None:
    listed = run_import(session, "360giving", "x.json", b"[1, 2]", dry_run=True, actor="t")
    assert 'object holding a "grants" list' in listed.run.errors[0]["reason"]
    empty = _import_bytes(session, {"grants": []})
    assert empty.run.errors[0]["reason"] == "the grants list is empty"
    missing = _import_bytes(session, {"title": "no grants"})
    assert 'no "grants" list' in missing.run.errors[0]["reason"]


# ------------------------------------------------------------------------------ flattened sheets


@pytest.mark.parametrize("name", FLATTENED)
def test_flattened_samples_import(session: so.Session, name: str) -> None:
    result = _import(session, SAMPLES / name)
    assert result.run.status == ImportStatus.APPLIED, result.run.errors
    grants = session.scalars(sa.select(Grant).order_by(Grant.amount_awarded)).all()
    assert [g.amount_awarded for g in grants] == [Decimal("152505"), Decimal("178990")]
    assert [g.title for g in grants][0].startswith("Title A")
    assert {g.award_date for g in grants} == {date(2014, 7, 24)}  # 24/07/2014, day first
    assert {g.currency for g in grants} == {"GBP"}
    assert all(g.reference.startswith("360G-") and g.summary is None for g in grants)
    university = grants[1].host
    assert (university.name, university.org_id, university.country) == (
        "University of UK",
        "GB-COH-RC000000",
        "GB",
    )
    # No Recipient Org:Identifier: created by name, in the funder's country.
    company = grants[0].host
    assert (company.name, company.org_id, company.country) == ("Company Name Limited", None, "GB")
    assert {g.programme.name for g in grants if g.programme} == {"Awards Funding Committee"}
    assert any("Description" in note for note in result.outcome.notes)
    assert any("Grant number" in note for note in result.outcome.notes)
    again = _import(session, SAMPLES / name)
    assert again.run.counts["unchanged"] == 2 and _count(session, Organisation) == 3


def test_cp1252_identifiers_are_kept_exactly(session: so.Session) -> None:
    _import(session, SAMPLES / "fundingproviders-grants_2_grants_cp1252.csv")
    references = set(session.scalars(sa.select(Grant.reference)))
    assert references == {
        "360G-<~>€funding€providers-000001/X/00/X",
        "360G-<~>€funding±Áproviders-000002/X/00/X",  # 41 characters
    }


def test_complete_sheet_with_bom_and_euro_amounts(session: so.Session) -> None:
    result = _import(session, DATA / "bom-complete.csv")
    assert result.run.status == ImportStatus.APPLIED, result.run.errors
    first, second = session.scalars(sa.select(Grant).order_by(Grant.reference)).all()
    assert first.reference == "360G-test-0001"
    assert first.amount_awarded == first.amount_eur == Decimal("150000.00")
    assert (first.award_date, first.start_date, first.end_date) == (
        date(2004, 3, 1),
        date(2004, 4, 1),
        date(2006, 3, 31),
    )
    assert first.status == GrantStatus.COMPLETED
    assert first.summary == "Transplantation of adult neurospheres, a pilot"
    assert (first.host.org_id, first.host.country, first.host.city) == (
        "IT-CF-80012650158",
        "IT",
        "Valdorno",
    )
    assert first.programme is not None and first.programme.name == "Annual call 2004"
    assert (second.currency, second.amount_eur) == ("ITL", Decimal("50000.00"))
    assert second.host.country == "GB"  # from the org-id's list


def test_existing_records_are_matched_not_duplicated(session: so.Session) -> None:
    valdorno = f.organisation(session, name="Valdorno (as we call it)", org_id="IT-CF-80012650158")
    session.add(Programme(name="Annual call 2004", kind=ProgrammeKind.ANNUAL_CALL))
    session.commit()
    _import(session, DATA / "bom-complete.csv")
    grant = session.scalars(sa.select(Grant).where(Grant.reference == "360G-test-0001")).one()
    assert grant.host_organisation_id == valdorno.id
    assert grant.host.name == "Valdorno (as we call it)"  # our record is left as it is
    assert _count(session, Programme) == 1


# ------------------------------------------------------------------------------ updates


def test_a_changed_file_updates_and_audits(session: so.Session) -> None:
    _import_bytes(session, _package(_grant(), _grant(id="360G-test-2", title="Second")))
    grant = session.scalars(sa.select(Grant).where(Grant.reference == "360G-test-1")).one()
    version = grant.version
    result = _import_bytes(
        session, _package(_grant(amountAwarded=1500.5), _grant(id="360G-test-2", title="Second"))
    )
    assert result.run.counts["updated"] == 1 and result.run.counts["unchanged"] == 1
    session.expire_all()
    grant = session.get(Grant, grant.id)
    assert grant.amount_awarded == grant.amount_eur == Decimal("1500.50")
    assert grant.version == version + 1
    event = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == AuditAction.UPDATE, AuditEvent.entity_id == grant.id
        )
    ).one()
    assert event.changes["amount_awarded"] == ["1000.00", "1500.50"]
    assert event.actor == "test"


def test_a_status_set_by_hand_survives_and_no_dates_keep_it(session: so.Session) -> None:
    dated = _grant(plannedDates=[{"startDate": "2020-02-01", "endDate": "2021-01-31"}])
    _import_bytes(session, _package(dated, _grant(id="360G-test-2")))
    first, second = session.scalars(sa.select(Grant).order_by(Grant.reference)).all()
    assert (first.status, second.status) == (GrantStatus.COMPLETED, GrantStatus.AWARDED)
    first.status = GrantStatus.TERMINATED
    second.status = GrantStatus.ACTIVE
    session.commit()
    result = _import_bytes(session, _package(dated, _grant(id="360G-test-2")))
    assert result.run.counts["unchanged"] == 2
    session.expire_all()
    assert [g.status for g in session.scalars(sa.select(Grant).order_by(Grant.reference))] == [
        GrantStatus.TERMINATED,
        GrantStatus.ACTIVE,
    ]


def test_deleted_records_are_not_imported_into(session: so.Session) -> None:
    _import_bytes(session, _package(_grant()))
    grant = session.scalars(sa.select(Grant)).one()
    grant.deleted_at = utcnow()
    session.commit()
    result = _import_bytes(session, _package(_grant(title="New title")))
    assert result.run.status == ImportStatus.FAILED
    assert "deleted" in result.run.errors[0]["reason"]
    grant.deleted_at = None
    grant.host.deleted_at = utcnow()
    session.commit()
    result = _import_bytes(session, _package(_grant(title="New title")))
    assert result.run.status == ImportStatus.FAILED
    assert result.run.errors[0]["column"] == "recipientOrganization[0].id"
    session.expire_all()
    assert session.scalars(sa.select(Grant.title)).one() == "A grant"


# ------------------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("start", "end", "duration", "expected"),
    [
        (None, None, None, GrantStatus.AWARDED),
        (date(2030, 1, 1), None, None, GrantStatus.AWARDED),
        (date(2020, 1, 1), date(2021, 1, 1), None, GrantStatus.COMPLETED),
        (date(2024, 1, 1), date(2026, 1, 1), None, GrantStatus.ACTIVE),
        (None, None, Decimal(12), GrantStatus.COMPLETED),  # from the award date, 2020
        (date(2024, 6, 1), None, Decimal(36), GrantStatus.ACTIVE),
    ],
)
def test_status_from_planned_dates(
    start: date | None, end: date | None, duration: Decimal | None, expected: GrantStatus
) -> None:
    assert derive_status(date(2020, 1, 15), start, end, duration, date(2025, 6, 1)) == expected


def test_partial_planned_dates() -> None:
    assert period_date("2014", end=False) == date(2014, 1, 1)
    assert period_date("2014-02", end=True) == date(2014, 2, 28)
    assert period_date("2014-07-24T10:00:00Z", end=True) == date(2014, 7, 24)


def test_settings_prefix_and_ids() -> None:
    settings = Settings(check_prefix("360G-xyz"), "GB-CHC-1", "Us")
    assert settings.grant_id("FM-2004-017") == "360G-xyz-FM-2004-017"
    assert settings.grant_id("360G-ALWF-1") == "360G-ALWF-1"
    assert settings.reference("360G-xyz-FM-2004-017") == "FM-2004-017"
    assert settings.reference("360G-ALWF-1") == "360G-ALWF-1"
    assert settings.minted_org(settings.minted_org_id(12)) == 12
    with pytest.raises(SettingsProblem):
        check_prefix("xyz")


def test_schema_copies_match_the_standard_and_check_formats() -> None:
    for name in ("360-giving-package-schema.json", "360-giving-schema.json"):
        assert (schema.SCHEMA_DIR / name).read_bytes() == (SHARED / name).read_bytes()
    valid = schema.grant_validator()
    assert valid.is_valid(_grant(awardDate="2020-01-15"))
    assert valid.is_valid(_grant(awardDate="2020-01-15T10:00:00+01:00"))
    assert not valid.is_valid(_grant(awardDate="2020-01-15T10:00:00"))  # no offset
    assert not valid.is_valid(_grant(dateModified="2020-01-15"))
    assert not valid.is_valid(_grant(url="not a uri"))


# ------------------------------------------------------------------------------ export


@pytest.fixture
def register(session: so.Session) -> dict[str, Any]:
    """Grants of every kind the export must handle, committed."""
    registered = f.organisation(
        session, name="Università di Valdorno", org_id="IT-CF-80012650158", city="Valdorno"
    )
    ror = f.organisation(session, name="University of Oxford", country="GB", ror_id="052gg0110")
    plain = f.organisation(session, name="Ospedale Maggiore")
    co_funder = f.organisation(session, name="Nordic Trust", country="SE")
    programme = Programme(name="Annual call 2004", kind=ProgrammeKind.ANNUAL_CALL)
    session.add(programme)
    lire = f.grant(
        session,
        reference="FM-1999-001",
        host=registered,
        currency="ITL",
        amount_awarded=Decimal("96813500"),
        amount_eur=Decimal("50000.00"),
        award_date=date(1999, 5, 10),
        start_date=date(1999, 6, 1),
        end_date=date(2001, 5, 31),
        summary="In lire",
        programme=programme,
    )
    cents = f.grant(
        session,
        reference="FM-2004-017",
        host=ror,
        amount_awarded=Decimal("1500.25"),
        amount_eur=Decimal("1500.25"),
        award_date=date(2004, 3, 1),
    )
    f.grant(session, reference="FM-2010-003", host=plain, award_date=date(2010, 1, 1))
    f.grant(session, reference="FM-SECRET", host=plain, confidentiality=Confidentiality.TRUSTEES)
    f.grant(session, reference="FM-INTERNAL", host=plain, confidentiality=Confidentiality.INTERNAL)
    f.grant(session, reference="FM-GONE", host=plain, deleted_at=utcnow())
    session.add(CoFunding(grant=cents, funder=co_funder, amount=None, currency="EUR"))
    session.commit()
    return {"lire": lire, "cents": cents, "plain": plain, "co_funder": co_funder}


SETTINGS = Settings("360G-xyz", "IT-CF-80012650158", "Fondazione di prova")


def _package_of(
    session: so.Session, levels: tuple[Confidentiality, ...] = (Confidentiality.PUBLIC,)
) -> dict[str, Any]:
    who = export.publisher(session, SETTINGS)
    out = io.StringIO()
    export.write_package(session, who, levels, out)
    return json.loads(out.getvalue(), parse_float=Decimal)  # type: ignore[no-any-return]


def test_export_validates_against_the_package_schema(
    session: so.Session, register: dict[str, Any]
) -> None:
    package = _package_of(session)
    assert schema.package_errors(package) == []
    by_id = {grant["id"]: grant for grant in package["grants"]}
    assert set(by_id) == {"360G-xyz-FM-1999-001", "360G-xyz-FM-2004-017", "360G-xyz-FM-2010-003"}
    lire = by_id["360G-xyz-FM-1999-001"]
    assert (lire["currency"], lire["amountAwarded"]) == ("ITL", 96813500)
    assert lire["plannedDates"] == [{"startDate": "1999-06-01", "endDate": "2001-05-31"}]
    assert lire["recipientOrganization"] == [
        {
            "id": "IT-CF-80012650158",
            "name": "Università di Valdorno",
            "addressLocality": "Valdorno",
            "addressCountry": "Italy",
        }
    ]
    assert lire["grantProgramme"] == [{"title": "Annual call 2004"}]
    # No co-funder: the foundation alone.
    assert lire["fundingOrganization"] == [
        {"id": "IT-CF-80012650158", "name": "Fondazione di prova"}
    ]
    cents = by_id["360G-xyz-FM-2004-017"]
    assert cents["amountAwarded"] == Decimal("1500.25")
    assert cents["recipientOrganization"][0]["id"] == "XI-ROR-052gg0110"
    assert cents["description"] == cents["title"]  # no summary: the title again
    assert [org["name"] for org in cents["fundingOrganization"]] == [
        "Fondazione di prova",
        "Nordic Trust",
    ]
    plain = by_id["360G-xyz-FM-2010-003"]["recipientOrganization"][0]
    assert plain["id"] == f"360G-xyz-ORG-{register['plain'].id}"
    assert package["publisher"] == {
        "name": "Fondazione di prova",
        "identifier": "IT-CF-80012650158",
    }


def test_export_levels_widen_on_request(session: so.Session, register: dict[str, Any]) -> None:
    everything = _package_of(session, tuple(Confidentiality))
    ids = {grant["id"] for grant in everything["grants"]}
    assert {"360G-xyz-FM-SECRET", "360G-xyz-FM-INTERNAL"} <= ids
    assert "360G-xyz-FM-GONE" not in ids
    assert schema.package_errors(everything) == []


def test_export_queries_do_not_grow_with_grants(
    session: so.Session, register: dict[str, Any], count_queries: Any
) -> None:
    with count_queries() as few:
        _package_of(session)
    for n in range(8):
        f.grant(session, reference=f"FM-MORE-{n}", host=register["plain"])
    session.commit()
    with count_queries() as many:
        package = _package_of(session)
    assert len(package["grants"]) == 11
    assert many.count == few.count


def test_export_needs_the_funder(session: so.Session) -> None:
    with pytest.raises(SettingsProblem, match="FUNDER_ORG_ID"):
        export.publisher(session, Settings("360G-xyz", None, "Us"))
    with pytest.raises(SettingsProblem, match="FUNDER_NAME"):
        export.publisher(session, Settings("360G-xyz", "GB-CHC-1", None))


def test_round_trip_keeps_every_id_and_the_total(
    app: Flask, session: so.Session, runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(args=["import", "360giving", str(ALWF)]).exit_code == 0
    target = tmp_path / "alwf-again.json"
    done = runner.invoke(
        args=["export", "360giving", "-o", str(target), "--funder-org-id", ALWF_FUNDER]
    )
    assert done.exit_code == 0, done.output
    assert "Wrote 475 grants (21,757,793.27 GBP)" in done.output
    package = json.loads(target.read_text(encoding="utf-8"), parse_float=Decimal)
    assert schema.package_errors(package) == []
    source = json.loads(ALWF.read_text())["grants"]
    assert sorted(g["id"] for g in package["grants"]) == sorted(g["id"] for g in source)
    assert sum(g["amountAwarded"] for g in package["grants"]) == ALWF_TOTAL
    assert all(
        g["fundingOrganization"] == [{"id": ALWF_FUNDER, "name": "Andrew Lloyd Webber Foundation"}]
        for g in package["grants"]
    )
    # And back again: the exported file matches what is stored.
    monkeypatch.setitem(app.config, "FUNDER_ORG_ID", ALWF_FUNDER)
    again = runner.invoke(args=["import", "360giving", str(target)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 475 unchanged" in again.output


# ------------------------------------------------------------------------------ CLI


def test_cli_exit_codes(runner: Any, session: so.Session, tmp_path: Path) -> None:
    checked = runner.invoke(args=["import", "360giving", str(ALWF), "--dry-run"])
    assert checked.exit_code == 0 and "would be 475 created" in checked.output
    assert _count(session, Grant) == 0
    refused = runner.invoke(
        args=["import", "360giving", str(SAMPLES / "fundingproviders-grants_broken_grants.json")]
    )
    assert refused.exit_code == 1
    assert "row 1, column awardDate, value '24/07/2014'" in refused.output
    assert "nothing was written" in refused.output
    empty = runner.invoke(
        args=[
            "export",
            "360giving",
            "--funder-org-id",
            "GB-CHC-1",
            "--funder-name",
            "Us",
            "-o",
            str(tmp_path / "x.json"),
        ]
    )
    assert empty.exit_code == 1 and not (tmp_path / "x.json").exists()
    unset = runner.invoke(args=["export", "360giving"])
    assert unset.exit_code == 2 and "FUNDER_ORG_ID" in unset.output
    bad = runner.invoke(
        args=["export", "360giving", "--prefix", "xyz", "--funder-org-id", "GB-CHC-1"]
    )
    assert bad.exit_code == 2 and "not a 360Giving prefix" in bad.output


def test_cli_export_to_standard_output(runner: Any, register: dict[str, Any]) -> None:
    done = runner.invoke(
        args=[
            "export",
            "360giving",
            "--prefix",
            "360G-xyz",
            "--funder-org-id",
            "IT-CF-80012650158",
            "--funder-name",
            "Fondazione di prova",
        ]
    )
    assert done.exit_code == 0
    package = json.loads(done.stdout)
    assert len(package["grants"]) == 3 and schema.package_errors(package) == []


# ------------------------------------------------------------------------------ web


def _upload(client: Any, name: str, data: bytes) -> Any:
    # Encoded here, in memory: the test client spools bodies over 500 KB to a temporary
    # file it never closes (a ResourceWarning, an error under filterwarnings).
    upload = FileStorage(io.BytesIO(data), filename=name, content_type="application/json")
    boundary, body = encode_multipart({"kind": "360giving", "file": upload})
    return client.post(
        "/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_upload_checks_then_applies(
    app: Flask,
    client: Any,
    logged_in: Any,
    session: so.Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    logged_in(Role.STAFF)
    assert "360Giving" in client.get("/imports").get_data(as_text=True)
    preview = _upload(client, "alwf.json", ALWF.read_bytes())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Every row passed the checks" in page and "360G-ALWF-1978" in page
    assert _count(session, Grant) == 0
    checked = session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc())).first()
    assert checked is not None and checked.status == ImportStatus.DRY_RUN
    applied = client.post(f"/imports/runs/{checked.id}/apply")
    assert applied.status_code == 302
    assert _count(session, Grant) == 475
    assert session.scalar(sa.select(sa.func.sum(Grant.amount_awarded))) == ALWF_TOTAL


def test_upload_shows_the_errors(
    app: Flask,
    client: Any,
    logged_in: Any,
    session: so.Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    logged_in(Role.STAFF)
    data = (SAMPLES / "fundingproviders-grants_broken_grants.json").read_bytes()
    page = _upload(client, "broken.json", data).get_data(as_text=True)
    assert "10 problems found" in page and "24/07/2014" in page and "already on grant 1" in page
    assert _counts(session) == dict.fromkeys(_counts(session), 0)


def test_trustees_cannot_import_or_export(client: Any, logged_in: Any) -> None:
    anonymous = client.get("/exports/360giving.json")
    assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
    logged_in(Role.TRUSTEE)
    assert _upload(client, "bom.csv", (SAMPLES / "bom.csv").read_bytes()).status_code == 403
    assert client.get("/exports/360giving.json").status_code == 403
    assert "360giving.json" not in client.get("/grants").get_data(as_text=True)


def test_download_streams_a_valid_package(
    app: Flask,
    client: Any,
    logged_in: Any,
    register: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "GIVING360_PREFIX", "360G-xyz")
    monkeypatch.setitem(app.config, "FUNDER_ORG_ID", "IT-CF-80012650158")
    monkeypatch.setitem(app.config, "FUNDER_NAME", "Fondazione di prova")
    logged_in(Role.STAFF)
    assert "/exports/360giving.json" in client.get("/grants").get_data(as_text=True)
    response = client.get("/exports/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="360G-xyz-')
    package = json.loads(response.get_data(as_text=True), parse_float=Decimal)
    assert schema.package_errors(package) == []
    assert len(package["grants"]) == 3  # public grants only


def test_download_without_settings_explains(
    app: Flask, client: Any, logged_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "FUNDER_ORG_ID", None)
    logged_in(Role.STAFF)
    response = client.get("/exports/360giving.json", follow_redirects=True)
    assert response.status_code == 200
    assert "FUNDER_ORG_ID" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "FUNDER_ORG_ID", "GB-CHC-1")
    monkeypatch.setitem(app.config, "FUNDER_NAME", "Us")
    response = client.get("/exports/360giving.json", follow_redirects=True)
    assert "no public grants" in response.get_data(as_text=True)
