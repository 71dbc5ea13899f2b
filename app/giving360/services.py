"""The 360Giving import: check a file against the standard, then upsert its grants.

Called by app.imports.services.run_import inside a SAVEPOINT that is kept only
when nothing was refused and the run is not a dry run, so writing here is
always safe: a dry run writes the same rows and the savepoint rolls them back,
which makes the preview exactly what the import would do. Never commits.

Audit: created organisations, programmes and co-fundings get a CREATE event
each; an updated grant gets an UPDATE event with the fields before and after;
created grants are covered by the run's IMPORT event, as in the grants import.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from jsonschema.exceptions import ValidationError
from sqlalchemy import orm as so

from app.audit.services import record
from app.currency import RateTable
from app.identifiers import InvalidIdentifier, normalise_ror
from app.imports.columns import Outcome
from app.imports.context import ImportContext
from app.imports.parsing import FileProblem, name_key
from app.models import (
    AuditAction,
    CoFunding,
    Confidentiality,
    Grant,
    GrantStatus,
    Organisation,
    Programme,
    ProgrammeKind,
    utcnow,
)
from app.records.changes import snapshot
from app.records.services import update_fields

from . import schema
from .mapping import REFERENCE_MAX, REQUIRED, GrantFacts, OrgFacts, derive_status, grant_facts
from .reading import Path, Read, Source, dotted, read
from .settings import Settings, SettingsProblem

CHUNK = 1_000
# Statuses a person set that no 360Giving file speaks of: a re-import keeps them.
KEPT_STATUSES = (GrantStatus.TERMINATED, GrantStatus.WITHDRAWN)
_NOUNS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "empty",
}


def import_360giving(
    session: so.Session, data: bytes, filename: str, outcome: Outcome, context: ImportContext
) -> None:
    """Check every grant of a 360Giving file; upsert them all if none was refused."""
    try:
        settings = Settings.current()
    except SettingsProblem as problem:
        raise FileProblem(f"The 360Giving settings are wrong: {problem}") from None
    found = read(data, filename)
    outcome.notes.extend(found.notes)
    outcome.counts["skipped"] += found.skipped
    for title, reason in found.header_errors:
        outcome.error(1, title, None, reason)
    if found.package is not None:
        _check_package(found.package, outcome)
    if not found.grants and outcome.ok:
        outcome.error(None, None, None, "The file holds no grants.")
    facts = _check_grants(found, settings, outcome)
    if outcome.ok:
        Upsert(session, settings, outcome, context).run(facts)


# ------------------------------------------------------------------------------ checks


def _shown(value: Any) -> str | None:
    """A value for the error report: scalars as written, containers left out."""
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _check_package(package: dict[str, Any], outcome: Outcome) -> None:
    for error in schema.metadata_validator().iter_errors(package):
        path = tuple(error.absolute_path)
        if error.validator == "required" and not path:
            outcome.error(
                None,
                "grants",
                None,
                'the file has no "grants" list: is it a 360Giving package?',
            )
        elif path == ("grants",):
            reason = (
                "the grants list is empty"
                if error.validator == "minItems"
                else ('"grants" must be a list of grants')
            )
            outcome.error(None, "grants", None, reason)
        else:
            outcome.error(
                None, dotted(path) or "package", _shown(error.instance), _reason(error, path)
            )


def _reason(error: ValidationError, path: Path) -> str:
    """A schema error in plain words."""
    validator, expected = error.validator, error.validator_value
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return "should be " + " or ".join(_NOUNS.get(str(k), str(k)) for k in kinds)
    if validator == "enum":
        if path and path[-1] == "currency":
            return "not a currency code of the standard's codelist (ISO 4217, e.g. GBP, EUR)"
        if path and path[-1] == "countryCode":
            return "not a country code of the standard's codelist (ISO 3166-1, e.g. GB)"
        return "not one of the values the standard allows"
    if validator == "format":
        if expected == "date-time":
            return "not a date and time: write it as 2014-07-24T00:00:00+00:00"
        if expected == "uri":
            return "not a web address: write it in full, starting with https://"
    if validator == "oneOf" and path:
        partial = path[-1] in ("startDate", "endDate")
        return "not a date: write 2014-07-24 or 2014-07-24T10:00:00Z" + (
            " (a year, 2014, or a month, 2014-07, also does)" if partial else ""
        )
    if validator == "minItems":
        return "needs at least one entry"
    if validator == "minimum":
        return f"must be at least {expected}"
    if validator == "pattern":
        return "does not have the form the standard expects"
    return error.message


class _GrantCheck:
    """Schema errors of one grant, turned into (path, value, reason) problems."""

    def __init__(self, source: Source, outcome: Outcome, tolerated: Counter[str]) -> None:
        self.source = source
        self.outcome = outcome
        self.tolerated = tolerated

    def problem(self, path: Path, value: Any, reason: str) -> None:
        self.outcome.error(self.source.row, self.source.column(path), _shown(value), reason)

    def schema(self) -> bool:
        """Report the grant's departures from the schema; True if it is usable."""
        grant = self.source.data
        before = self.outcome.error_count
        if not isinstance(grant, dict):
            self.problem((), grant, "each grant is an object ({...}) of the 360Giving schema")
            return False
        errors = list(schema.grant_validator().iter_errors(grant))
        # A wrong type is the one thing to say about a field (null is not a date, nor a code).
        mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
        reported: set[Path] = set()
        for error in errors:
            path = tuple(error.absolute_path)
            if path in reported or (path in mistyped and error.validator != "type"):
                continue
            reported.add(path)
            if error.validator == "oneOf" and not path:
                self._branches(grant)
            elif error.validator == "required":
                self._required(path, error)
            else:
                self.problem(path, error.instance, _reason(error, path))
        if () not in reported and "recipientOrganization" not in grant:
            self._branches(grant)  # valid for the standard (to an individual), not for us
        if "description" not in grant:
            self.tolerated["description"] += 1
        return self.outcome.error_count == before

    def _list_path(self, name: str, field: str) -> Path:
        """Where to point at a missing list: its first column in a sheet, the list in JSON."""
        return (name, 0, field) if self.source.headers is not None else (name,)

    def _branches(self, grant: dict[str, Any]) -> None:
        """The grant-level oneOf: required fields, and a recipient organisation."""
        for name in REQUIRED:
            if name not in grant:
                path = self._list_path(name, "id") if name == "fundingOrganization" else (name,)
                self.problem(path, None, "this field is required by the 360Giving standard")
        has_org, has_person = "recipientOrganization" in grant, "recipientIndividual" in grant
        if has_org and has_person:
            self.problem(
                ("recipientIndividual",),
                None,
                "a grant goes to an organisation or to an individual, not both",
            )
        elif has_person:
            self.problem(
                ("recipientIndividual",),
                None,
                "grants to individuals cannot be imported: grantpath records the "
                "host organisation of every grant",
            )
        elif not has_org:
            self.problem(
                self._list_path("recipientOrganization", "name"),
                None,
                "the grant needs a recipient organisation",
            )

    def _required(self, path: Path, error: ValidationError) -> None:
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in error.validator_value if name not in instance]
        for name in missing:
            if name == "id" and path[:1] == ("recipientOrganization",) and "name" in instance:
                self.tolerated["recipient id"] += 1  # matched by name and country instead
                continue
            self.problem((*path, name), None, "this field is required by the 360Giving standard")


def _check_grants(found: Read, settings: Settings, outcome: Outcome) -> list[GrantFacts]:
    tolerated: Counter[str] = Counter()
    seen: dict[str, int] = {}
    facts: list[GrantFacts] = []
    for source in found.grants:
        check = _GrantCheck(source, outcome, tolerated)
        valid = check.schema()
        reference = _reference(check, seen, settings, "grant" if found.package else "row")
        if not valid or reference is None:
            continue
        parsed = grant_facts(source, reference, check.problem)
        if parsed is not None:
            facts.append(parsed)
            if parsed.extra_recipients:
                tolerated["extra recipients"] += 1
    if outcome.ok:
        _tolerance_notes(tolerated, outcome)
    return facts


def _reference(
    check: _GrantCheck, seen: dict[str, int], settings: Settings, noun: str
) -> str | None:
    """The reference a grant's id gives, once it is known usable and not a duplicate."""
    raw = check.source.data.get("id") if isinstance(check.source.data, dict) else None
    if not isinstance(raw, str):
        return None  # the schema check has said why
    grant_id = raw.strip()
    reference = settings.reference(grant_id)
    if not reference:
        check.problem(("id",), raw, "the identifier is empty")
        return None
    if len(reference) > REFERENCE_MAX:
        check.problem(
            ("id",), grant_id, f"identifiers of at most {REFERENCE_MAX} characters can be imported"
        )
        return None
    if not reference.isprintable():
        check.problem(("id",), grant_id, "an identifier is one line of visible characters")
        return None
    first = seen.get(reference)
    if first is not None:
        check.problem(("id",), grant_id, f"the same identifier is already on {noun} {first}")
        return None
    seen[reference] = check.source.row
    return reference


def _tolerance_notes(tolerated: Counter[str], outcome: Outcome) -> None:
    if tolerated["description"]:
        outcome.notes.append(
            f"{tolerated['description']} grant(s) have no Description (the standard requires "
            "one): imported without a summary."
        )
    if tolerated["recipient id"]:
        outcome.notes.append(
            f"{tolerated['recipient id']} recipient organisation(s) have no Identifier: "
            "matched by exact name and country, or created without an org-id."
        )
    if tolerated["extra recipients"]:
        outcome.notes.append(
            f"{tolerated['extra recipients']} grant(s) name more than one recipient "
            "organisation: the first is recorded as the host institution."
        )


# ------------------------------------------------------------------------------ writes


class Organisations:
    """Organisations by org-id (or ROR, or our own minted id), else by name and country."""

    def __init__(self, session: so.Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.by_org_id: dict[str, tuple[int, bool]] = {}
        self.by_ror: dict[str, tuple[int, bool]] = {}
        self.by_id: dict[int, bool] = {}
        self.names: dict[int, str] = {}
        self.by_name: dict[tuple[str, str], list[tuple[int, bool]]] = defaultdict(list)
        self.created: dict[tuple[str, str], Organisation] = {}
        rows = session.execute(
            sa.select(
                Organisation.id,
                Organisation.name,
                Organisation.country,
                Organisation.org_id,
                Organisation.ror_id,
                Organisation.deleted_at,
            )
        )
        for ident, name, country, org_id, ror_id, deleted_at in rows:
            entry = (ident, deleted_at is not None)
            self.by_id[ident] = entry[1]
            self.names[ident] = name
            if org_id:
                self.by_org_id[org_id.upper()] = entry
            if ror_id:
                self.by_ror[ror_id] = entry
            self.by_name[(name_key(name), country)].append(entry)

    def _known(self, org_id: str) -> tuple[int, bool] | None:
        found = self.by_org_id.get(org_id.upper())
        if found is not None:
            return found
        minted = self.settings.minted_org(org_id)
        if minted is not None and minted in self.by_id:
            return minted, self.by_id[minted]
        if org_id.upper().startswith("XI-ROR-"):
            try:
                return self.by_ror.get(normalise_ror(org_id[7:]))
            except InvalidIdentifier:
                return None
        return None

    def resolve(self, facts: OrgFacts) -> int | Organisation | str:
        """An organisation's id, a new Organisation (pending), or why it cannot be used."""
        assert facts.country is not None
        if facts.org_id is not None:
            found = self._known(facts.org_id)
            key = ("id", facts.org_id.upper())
        else:
            matches = self.by_name.get((name_key(facts.name), facts.country), [])
            live = [ident for ident, deleted in matches if not deleted]
            if len(live) > 1:
                return (
                    f"{len(live)} organisations in {facts.country} are called this; give the "
                    "recipient's org-id (Recipient Org:Identifier)"
                )
            found = (live[0], False) if live else (matches[0] if matches else None)
            key = ("name", f"{name_key(facts.name)}|{facts.country}")
        if found is not None:
            if found[1]:
                return "this organisation is deleted in grantpath; restore it first"
            return found[0]
        pending = self.created.get(key)
        if pending is None:
            pending = Organisation(
                name=facts.name,
                kind=facts.kind,
                country=facts.country,
                city=facts.city,
                org_id=facts.org_id,
            )
            self.created[key] = pending
            self.session.add(pending)
        return pending


class Upsert:
    """Write checked grants: organisations and programmes first, then grants by reference."""

    def __init__(
        self, session: so.Session, settings: Settings, outcome: Outcome, context: ImportContext
    ) -> None:
        self.session = session
        self.settings = settings
        self.outcome = outcome
        self.context = context
        self.organisations = Organisations(session, settings)
        self.rates = RateTable.load(session)
        self.today = utcnow().date()
        self.programmes: dict[str, tuple[int, bool] | Programme] = {
            name_key(name): (ident, deleted_at is not None)
            for ident, name, deleted_at in session.execute(
                sa.select(Programme.id, Programme.name, Programme.deleted_at)
            )
        }
        self.new_programmes: list[Programme] = []
        self.new_co_fundings: list[CoFunding] = []
        self.without_rate: Counter[str] = Counter()

    def problem(self, facts: GrantFacts, path: Path, value: Any, reason: str) -> None:
        self.outcome.error(facts.source.row, facts.source.column(path), _shown(value), reason)

    def run(self, all_facts: list[GrantFacts]) -> None:
        links = [self._links(facts) for facts in all_facts]
        if not self.outcome.ok:
            return
        self._create_parties()
        self.organisations.names.update((o.id, o.name) for o in self.organisations.created.values())
        for start in range(0, len(all_facts), CHUNK):
            self._chunk(all_facts[start : start + CHUNK], links[start : start + CHUNK])
            if not self.outcome.ok:
                return
        self.session.flush()
        self._audit_created(self.new_co_fundings, self._co_funding_summary)
        self._notes()

    # ---------------------------------------------------------------- parties

    def _links(self, facts: GrantFacts) -> dict[str, Any]:
        """Resolve a grant's host, co-funders and programme (pending records for new ones)."""
        host = self.organisations.resolve(facts.recipient)
        if isinstance(host, str):
            self.problem(facts, (*facts.recipient.path, "id"), facts.recipient.org_id, host)
        funders = []
        for funder in facts.funders:
            if self.settings.is_funder(funder.org_id):
                continue  # the publishing foundation itself: not a co-funder
            found = self.organisations.resolve(funder)
            if isinstance(found, str):
                self.problem(facts, (*funder.path, "id"), funder.org_id, found)
            else:
                funders.append(found)
        programme: int | Programme | None = None
        if facts.programme is not None:
            known = self.programmes.get(name_key(facts.programme))
            if isinstance(known, tuple) and known[1]:
                self.problem(
                    facts,
                    ("grantProgramme", 0, "title"),
                    facts.programme,
                    "this programme is deleted in grantpath; restore it first",
                )
            elif isinstance(known, tuple):
                programme = known[0]
            elif known is None:
                programme = Programme(name=facts.programme, kind=ProgrammeKind.OTHER)
                self.programmes[name_key(facts.programme)] = programme
                self.new_programmes.append(programme)
                self.session.add(programme)
            else:
                programme = known
        return {"host": host, "funders": funders, "programme": programme}

    def _create_parties(self) -> None:
        self.session.flush()
        self._audit_created(
            self.organisations.created.values(),
            lambda o: f"Organisation {o.name} created by {self.context.label}",
        )
        self._audit_created(
            self.new_programmes, lambda p: f"Programme {p.name} created by {self.context.label}"
        )

    def _audit_created(self, records: Iterable[Any], summary: Any) -> None:
        for item in records:
            after = snapshot(item)
            record(
                self.session,
                AuditAction.CREATE,
                entity=item,
                summary=summary(item),
                changes={key: [None, value] for key, value in after.items() if value is not None},
            )

    def _co_funding_summary(self, co: CoFunding) -> str:
        funder = self.organisations.names.get(co.funder_organisation_id, "Another funder")
        return f"{funder} co-funds grant {co.grant.reference} (from {self.context.label})"

    # ---------------------------------------------------------------- grants

    def _chunk(self, chunk: list[GrantFacts], links: list[dict[str, Any]]) -> None:
        existing = {
            grant.reference: grant
            for grant in self.session.scalars(
                sa.select(Grant)
                .where(Grant.reference.in_([facts.reference for facts in chunk]))
                .options(so.selectinload(Grant.co_fundings))
            )
        }
        for facts, link in zip(chunk, links, strict=True):
            grant = existing.get(facts.reference)
            if grant is not None and grant.deleted_at is not None:
                self.problem(
                    facts,
                    ("id",),
                    facts.source.data["id"],
                    "this grant is deleted in grantpath; restore it before importing",
                )
                continue
            if grant is None:
                self._create(facts, link)
            else:
                self._update(grant, facts, link)
        self.session.flush()

    @staticmethod
    def _id(item: int | Organisation | Programme) -> int:
        return item if isinstance(item, int) else item.id

    def _values(self, facts: GrantFacts, link: dict[str, Any], grant: Grant | None) -> dict:
        values: dict[str, Any] = {
            "title": facts.title,
            "host_organisation_id": self._id(link["host"]),
            "award_date": facts.award_date,
            "amount_awarded": facts.amount,
            "currency": facts.currency,
        }
        if facts.has_description or grant is None:
            values["summary"] = facts.summary
        if link["programme"] is not None:
            values["programme_id"] = self._id(link["programme"])
        if facts.has_planned_dates or grant is None:
            start, end = facts.start_date, facts.end_date
            values["start_date"], values["end_date"] = start, end
        else:
            start, end = grant.start_date, grant.end_date
        says_when = facts.has_planned_dates or facts.duration_months is not None
        if grant is None or (says_when and grant.status not in KEPT_STATUSES):
            values["status"] = derive_status(
                facts.award_date, start, end, facts.duration_months, self.today
            )
        values["amount_eur"] = self.rates.to_eur(facts.amount, facts.currency, facts.award_date)
        if values["amount_eur"] is None:
            self.without_rate[facts.currency] += 1
        return values

    def _create(self, facts: GrantFacts, link: dict[str, Any]) -> None:
        values = self._values(facts, link, None)
        grant = Grant(reference=facts.reference, confidentiality=Confidentiality.PUBLIC, **values)
        self.session.add(grant)
        for funder in link["funders"]:
            self._co_fund(grant, funder, facts.currency)
        self.outcome.done(facts.source.row, "created", facts.reference, facts.title)

    def _update(self, grant: Grant, facts: GrantFacts, link: dict[str, Any]) -> None:
        values = self._values(facts, link, grant)
        changes = update_fields(
            self.session, grant, values, f"Grant {grant.reference} updated by {self.context.label}"
        )
        changed = sorted(changes)
        have = {co.funder_organisation_id for co in grant.co_fundings}
        for funder in link["funders"]:
            if isinstance(funder, int) and funder in have:
                continue
            self._co_fund(grant, funder, grant.currency)
            changed.append("co-funders")
        if changed:
            self.outcome.done(
                facts.source.row,
                "updated",
                facts.reference,
                facts.title,
                ", ".join(dict.fromkeys(changed)),
            )
        else:
            self.outcome.done(facts.source.row, "unchanged", facts.reference, facts.title)

    def _co_fund(self, grant: Grant, funder: int | Organisation, currency: str) -> None:
        """Another funder named by the file: a co-funding of unknown amount."""
        co = CoFunding(grant=grant, amount=None, currency=currency, amount_eur=None)
        if isinstance(funder, int):
            co.funder_organisation_id = funder
        else:
            co.funder = funder
        self.session.add(co)
        self.new_co_fundings.append(co)

    # ---------------------------------------------------------------- notes

    def _notes(self) -> None:
        did = "were" if self.context.apply else "would be"
        created = len(self.organisations.created)
        if created:
            self.outcome.notes.append(
                f"{created} organisation(s) not found by org-id (or, without one, by name and "
                f"country) {did} created."
            )
        if self.new_programmes:
            names = ", ".join(sorted(p.name for p in self.new_programmes)[:10])
            more = "…" if len(self.new_programmes) > 10 else ""
            self.outcome.notes.append(
                f"{len(self.new_programmes)} programme(s) {did} created: {names}{more}."
            )
        if self.new_co_fundings:
            self.outcome.notes.append(
                f"{len(self.new_co_fundings)} co-funding record(s) {did} added for funders "
                "other than this foundation (amount not stated in 360Giving)."
            )
        for currency, count in sorted(self.without_rate.items()):
            self.outcome.notes.append(
                f"No exchange rate is known for {currency}: {count} grant(s) keep their amount "
                f"in {currency} and have no euro equivalent until a rate is added."
            )
