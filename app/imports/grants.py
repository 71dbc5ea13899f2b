"""Import of grants: upsert by reference through a bulk path.

The rules are the grant service's (app.grants.services._validate): unique
reference, a live host institution, programme and investigator, amounts not
negative with at most two decimals, a currency with a known rate, the end not
before the start, plus the model's enums and lengths. They are checked in
Python against lookups loaded once (one query per table; existing grants one
query per chunk of rows), and rows are written with Core executemany through
app.demo.synthetic.BulkWriter: 100,000 grants in a few seconds.

Audit: an updated grant gets its own UPDATE event with the fields before and
after (its history page and the stale-edit check rely on them); created grants
are covered by the run's single IMPORT event, as an event per created row
would double the cost of a large import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import RateTable
from app.demo.synthetic import BulkWriter, insert_rows
from app.models import AuditAction, AuditEvent, Confidentiality, Grant, GrantStatus, grant_areas
from app.records.changes import plain

from . import lookups
from .columns import Column, Header, Outcome, is_blank
from .context import ImportContext
from .parsing import (
    CellError,
    clean_text,
    parse_date,
    parse_enum,
    parse_money,
    refuse_formula,
    split_list,
)

KIND = "grants"
COLUMNS = (
    Column(
        "reference",
        True,
        ("ref", "grant reference", "grant ref", "grant id"),
        "Unique grant reference (at most 120 characters): the key for updates.",
        "FM-2004-017",
    ),
    Column(
        "title", True, ("grant title",), "At most 500 characters.", "Neurospheres in chronic EAE"
    ),
    Column("summary", False, ("abstract", "description"), "Free text.", ""),
    Column(
        "programme",
        False,
        ("programme name", "program", "call", "scheme"),
        "Name of an existing programme; blank for none.",
        "Annual call 2004",
    ),
    Column(
        "institution",
        True,
        (
            "host",
            "host institution",
            "host organisation",
            "host organization",
            "organisation",
            "organization",
            "recipient org",
        ),
        "Host institution: its exact name, 360Giving org-id or ROR id. It must exist.",
        "Istituto di Neuroscienze di Valdorno",
    ),
    Column(
        "country",
        False,
        ("institution country", "host country"),
        "Two-letter country of the institution, to tell apart organisations with the same name.",
        "IT",
    ),
    Column(
        "principal_investigator",
        False,
        ("pi", "principal investigator orcid", "investigator"),
        "ORCID, or “Family, Given” (or “Given Family”) exactly as recorded. The person must exist.",
        "0000-0002-1825-0097",
    ),
    Column(
        "status",
        True,
        ("grant status",),
        "awarded, active, completed, terminated or withdrawn.",
        "completed",
    ),
    Column(
        "award_date",
        True,
        ("awarded", "date awarded", "award"),
        "2004-03-01 or 01/03/2004 (day first).",
        "2004-03-01",
    ),
    Column("start_date", False, ("start", "planned start date"), "Optional date.", "2004-04-01"),
    Column(
        "end_date",
        False,
        ("end", "planned end date"),
        "Optional date, not before the start date.",
        "2006-03-31",
    ),
    Column(
        "amount",
        True,
        ("amount awarded", "amount_awarded", "awarded amount"),
        "150000, 150,000.00 or 150.000,00; at most two decimals.",
        "250.000,00",
    ),
    Column(
        "currency",
        True,
        ("currency code",),
        "ISO 4217 code with a known rate: EUR, ITL, DEM, GBP ...",
        "EUR",
    ),
    Column(
        "confidentiality",
        False,
        ("visibility",),
        "public, trustees or internal; blank: public for new grants, unchanged otherwise.",
        "public",
    ),
    Column(
        "areas",
        False,
        ("research areas", "research area", "tags"),
        "Existing research areas separated by semicolons; blank clears them.",
        "neural stem cells; remyelination",
    ),
    Column(
        "amount_eur",
        False,
        ("amount in eur",),
        "Ignored: the euro equivalent is derived from the exchange-rate table.",
        "",
    ),
)

CHUNK_ROWS = 5_000
# Fields of the grants table an import sets, in a fixed order for executemany.
FIELDS = (
    "title",
    "summary",
    "programme_id",
    "host_organisation_id",
    "principal_investigator_id",
    "status",
    "award_date",
    "start_date",
    "end_date",
    "amount_awarded",
    "currency",
    "amount_eur",
    "confidentiality",
)
_TABLE: sa.Table = Grant.__table__  # type: ignore[assignment]
_EXISTING = sa.select(
    _TABLE.c.id,
    _TABLE.c.reference,
    _TABLE.c.version,
    _TABLE.c.deleted_at,
    *(_TABLE.c[name] for name in FIELDS),
)


def queue_new(
    writer: BulkWriter,
    values: dict[str, Any],
    area_ids: list[int],
    area_rows: list[tuple[int, int]],
) -> None:
    """Queue one new grant and its research areas."""
    grant_id = writer.new(_TABLE, values)
    for area_id in area_ids:
        area_rows.append((grant_id, area_id))


class GrantImport:
    """State of one grants import: lookups, seen references, queued writes."""

    def __init__(
        self, session: so.Session, header: Header, outcome: Outcome, context: ImportContext
    ) -> None:
        self.session = session
        self.header = header
        self.outcome = outcome
        self.context = context
        self.writer = BulkWriter(session) if context.apply else None
        self.rates = RateTable.load(session)
        self.currencies = {"EUR", *self.rates.fixed, *self.rates.dated}
        self.organisations = lookups.Organisations(session)
        self.people = lookups.People(session)
        self.programmes = lookups.programmes(session)
        self.areas = lookups.areas(session)
        self.seen: dict[str, int] = {}
        # Every reference in one query: most rows of a large file are new, and an
        # IN list of new references per chunk would cost more than this.
        self.known: dict[str, int] = {
            row.reference: row.id
            for row in session.execute(sa.select(_TABLE.c.reference, _TABLE.c.id))
        }
        self.present = {c.name for c in COLUMNS if header.has(c.name)}
        self.get: dict[str, Callable[[list[str]], str]] = {
            c.name: header.getter(c.name) for c in COLUMNS
        }
        self.country_at = header.position.get("country")
        self.row_country: str | None = None
        self.parsers = self.steps()
        self.updates: list[dict[str, Any]] = []
        # (grant id, area id) of new grants: written with one executemany after the grants.
        self.area_rows: list[tuple[int, int]] = []
        self.area_updates: dict[int, list[int]] = {}

    # ---------------------------------------------------------------- rows

    def run(self, rows: Any) -> None:
        chunk: list[tuple[int, list[str]]] = []
        for number, cells in rows:
            if is_blank(cells):
                self.outcome.counts["skipped"] += 1
                continue
            chunk.append((number, cells))
            if len(chunk) >= CHUNK_ROWS:
                self.chunk(chunk)
                chunk = []
        self.chunk(chunk)
        if self.writer is not None and self.outcome.ok:
            self.writer.finish()

    def chunk(self, rows: list[tuple[int, list[str]]]) -> None:
        if not rows:
            return
        get_reference = self.get["reference"]
        ids = [
            self.known[ref]
            for ref in {_reference_key(get_reference(cells)) for _, cells in rows}
            if ref in self.known
        ]
        existing = (
            {
                row.reference: row
                for row in self.session.execute(_EXISTING.where(_TABLE.c.id.in_(ids)))
            }
            if ids
            else {}
        )
        current_areas: dict[int, list[int]] = {}
        if existing and "areas" in self.present:
            for grant_id, area_id in self.session.execute(
                sa.select(grant_areas.c.grant_id, grant_areas.c.research_area_id).where(
                    grant_areas.c.grant_id.in_(ids)
                )
            ):
                current_areas.setdefault(grant_id, []).append(area_id)
        for number, cells in rows:
            self.row(number, cells, existing, current_areas)
        self.write()

    def row(
        self,
        number: int,
        cells: list[str],
        existing: dict[str, Any],
        current_areas: dict[int, list[int]],
    ) -> None:
        errors_before = self.outcome.error_count
        given, area_ids = self.parse(number, cells)
        reference = given.pop("reference", None)
        if reference is None:
            return
        first = self.seen.get(reference)
        if first is not None:
            self.outcome.error(
                number,
                "reference",
                reference,
                f"the same reference is already on row {first} of this file",
            )
            return
        self.seen[reference] = number
        old = existing.get(reference)
        if old is not None and old.deleted_at is not None:
            self.outcome.error(
                number,
                "reference",
                reference,
                "this grant is deleted; restore it before importing into it",
            )
            return
        values: dict[str, Any] = (
            {name: getattr(old, name) for name in FIELDS}
            if old is not None
            else {
                "summary": None,
                "programme_id": None,
                "principal_investigator_id": None,
                "start_date": None,
                "end_date": None,
                "confidentiality": Confidentiality.PUBLIC,
            }
        )
        values.update(given)
        start, end = values.get("start_date"), values.get("end_date")
        if start is not None and end is not None and end < start:
            self.outcome.error(
                number,
                "end_date",
                self.get["end_date"](cells).strip(),
                f"the end date is before the start date ({start.isoformat()})",
            )
        if self.outcome.error_count > errors_before:
            return
        currency = values["currency"]
        values["amount_eur"] = (
            values["amount_awarded"]
            if currency == "EUR"
            else (self.rates.to_eur(values["amount_awarded"], currency, values["award_date"]))
        )
        title = values["title"]
        if old is None:
            values["reference"] = reference
            if self.writer is not None and self.outcome.ok:
                queue_new(self.writer, values, area_ids or [], self.area_rows)
            self.outcome.done(number, "created", reference, title)
            return
        changes = {
            name: [plain(getattr(old, name)), plain(values[name])]
            for name in FIELDS
            if values[name] != getattr(old, name)
        }
        if area_ids is not None:
            before = sorted(current_areas.get(old.id, []))
            after = sorted(set(area_ids))
            if before != after:
                names = self.areas.names
                changes["areas"] = [
                    ", ".join(sorted(names[i] for i in before)),
                    ", ".join(sorted(names[i] for i in after)),
                ]
                self.area_updates[old.id] = after
        if not changes:
            self.outcome.done(number, "unchanged", reference, title)
            return
        if self.writer is not None and self.outcome.ok:
            self.updates.append(
                {
                    "id": old.id,
                    "version": old.version,
                    "reference": reference,
                    "values": values,
                    "changes": changes,
                }
            )
        self.outcome.done(number, "updated", reference, title, ", ".join(sorted(changes)))

    def steps(self) -> list[tuple[str, str, int, Callable[[str], Any], bool]]:
        """(field, column, position, parser, required) for each column in the file, once."""
        parsers: tuple[tuple[str, str, Callable[[str], Any], bool], ...] = (
            ("reference", "reference", _reference, True),
            ("title", "title", _title, True),
            ("summary", "summary", _summary, False),
            ("programme_id", "programme", self.programmes.resolve, False),
            ("host_organisation_id", "institution", self.institution, True),
            ("principal_investigator_id", "principal_investigator", self.people.resolve, False),
            ("status", "status", _status, True),
            ("award_date", "award_date", parse_date, True),
            ("start_date", "start_date", parse_date, False),
            ("end_date", "end_date", parse_date, False),
            ("amount_awarded", "amount", parse_money, True),
            ("currency", "currency", self.currency, True),
            ("confidentiality", "confidentiality", _confidentiality, False),
            ("areas", "areas", self.area_list, False),
        )
        position = self.header.position
        return [
            (field, column, position[column], parse, required)
            for field, column, parse, required in parsers
            if column in position
        ]

    def parse(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[int] | None]:
        """The present columns of a row as field values; errors go to the outcome."""
        given: dict[str, Any] = {}
        width = len(cells)
        country = self.country_at
        self.row_country = (
            cells[country].strip().upper() or None
            if country is not None and country < width
            else None
        )
        for field, column, index, parse, required in self.parsers:
            text = cells[index] if index < width else ""
            try:
                value = parse(text)
            except CellError as problem:
                self.outcome.error(number, column, text.strip(), str(problem))
                continue
            if value is None and required:
                self.outcome.error(number, column, "", "this column needs a value")
            given[field] = value
        area_ids = given.pop("areas", None)
        if "areas" in self.present and area_ids is None:
            area_ids = []
        if "confidentiality" in given and given["confidentiality"] is None:
            del given["confidentiality"]  # blank: public when new, unchanged otherwise
        if given.get("reference") is None:
            given.pop("reference", None)
        return given, area_ids

    def institution(self, text: str) -> int | None:
        return self.organisations.resolve(text, self.row_country)

    def currency(self, text: str) -> str | None:
        value = text.strip().upper()
        if not value:
            return None
        refuse_formula(text)
        if value not in self.currencies:
            raise CellError(f"no exchange rate is known for {value}")
        return value

    def area_list(self, text: str) -> list[int]:
        refuse_formula(text)
        ids: list[int] = []
        for name in split_list(text):
            try:
                area_id = self.areas.resolve(name)
            except CellError as problem:
                raise CellError(f"“{name}”: {problem}") from None
            if area_id is not None and area_id not in ids:
                ids.append(area_id)
        return ids

    # ---------------------------------------------------------------- writes

    def write(self) -> None:
        """Write the queued rows of a chunk (nothing once any row was refused)."""
        if self.writer is None or not self.outcome.ok:
            self.updates.clear()
            self.area_updates.clear()
            self.area_rows.clear()
            return
        self.writer.flush()
        if self.area_rows:
            self.insert_areas(self.area_rows)
            self.area_rows.clear()
        if self.updates:
            self.write_updates()

    def insert_areas(self, rows: list[tuple[int, int]]) -> None:
        """Plain integer pairs straight to the driver (no per-row processing needed)."""
        connection = self.session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        insert_rows(
            connection,
            f"INSERT INTO grant_areas (grant_id, research_area_id) VALUES ({mark}, {mark})",
            rows,
        )

    def write_updates(self) -> None:
        assert self.writer is not None
        now = self.writer.now
        statement = (
            sa.update(_TABLE)
            .where(_TABLE.c.id == sa.bindparam("b_id"))
            .values(
                {
                    **{name: sa.bindparam(f"b_{name}") for name in FIELDS},
                    "version": _TABLE.c.version + 1,
                    "updated_at": now,
                }
            )
        )
        self.session.execute(
            statement,
            [
                {"b_id": u["id"], **{f"b_{name}": u["values"][name] for name in FIELDS}}
                for u in self.updates
            ],
        )
        if self.area_updates:
            ids = list(self.area_updates)
            self.session.execute(sa.delete(grant_areas).where(grant_areas.c.grant_id.in_(ids)))
            pairs = [(g, a) for g, areas in self.area_updates.items() for a in areas]
            if pairs:
                self.insert_areas(pairs)
        context = self.context
        for update in self.updates:
            self.writer.new(
                AuditEvent.__table__,
                {
                    "occurred_at": now,
                    "user_id": context.user_id,
                    "actor": context.actor,
                    "action": AuditAction.UPDATE,
                    "entity_type": _TABLE.name,
                    "entity_id": update["id"],
                    "entity_version": update["version"] + 1,
                    "summary": f"Grant {update['reference']} updated by {context.label}",
                    "changes": update["changes"],
                    "remote_addr": context.remote_addr,
                },
            )
        self.writer.flush()
        self.updates.clear()
        self.area_updates.clear()


def _reference(text: str) -> str | None:
    refuse_formula(text)
    value = clean_text(text, 120)
    if value is not None and ("\n" in value or "\r" in value):
        raise CellError("a reference is one line")
    return value


def _reference_key(text: str) -> str | None:
    """The reference as the row's check will read it (None if it will be refused)."""
    try:
        return _reference(text)
    except CellError:
        return None


def _title(text: str) -> str | None:
    return clean_text(text, 500)


def _summary(text: str) -> str | None:
    return clean_text(text, 20_000)


def _status(text: str) -> GrantStatus | None:
    return parse_enum(text, GrantStatus)


def _confidentiality(text: str) -> Confidentiality | None:
    return parse_enum(text, Confidentiality)


def import_grants(
    session: so.Session, header: Header, rows: Any, outcome: Outcome, context: ImportContext
) -> None:
    """Validate every row; when applying and nothing was refused, write them."""
    GrantImport(session, header, outcome, context).run(rows)
