"""Import of outputs with their typed details and the grants they are attributed to.

Rows go through the output services (create_output, update_output,
add_attribution, update_attribution): the same validation, duplicate checks
and per-record audit as the forms. An output is matched by its id (``#12``) or
by any of its identifiers (DOI, PMID, PMCID, trial registry ids, patent); no
match creates it. Columns missing from the file leave stored values alone.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import (
    InvalidIdentifier,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_trial_registry_id,
)
from app.models import (
    Attribution,
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    Grant,
    Output,
    OutputType,
    Patent,
    PatentStatus,
    Publication,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
)
from app.outputs import services
from app.records.errors import FieldErrors

from . import lookups
from .columns import Column, Header, Outcome, is_blank
from .context import ImportContext
from .parsing import (
    CellError,
    clean_text,
    parse_date,
    parse_enum,
    parse_int,
    parse_money,
    parse_partial,
    parse_share,
    refuse_formula,
    split_list,
)

KIND = "outputs"
COLUMNS = (
    Column(
        "output_id",
        False,
        ("id", "output", "output number"),
        "Blank for a new output, or #12 to update output 12. Without it an output is "
        "matched by its DOI, PMID, PMCID, registry ids or patent.",
        "",
    ),
    Column(
        "type",
        True,
        ("output type", "outcome type"),
        "publication, collaboration, further_funding, next_destination, engagement, "
        "policy_influence, research_tool, database_model, intellectual_property, "
        "medical_product, software, spin_out or award (or their labels).",
        "publication",
    ),
    Column(
        "title",
        True,
        ("output title",),
        "At most 500 characters.",
        "Neural precursor cells in chronic EAE",
    ),
    Column(
        "date",
        False,
        ("output date", "published", "publication date"),
        "2017, 2017-05, 2017-05-11 or 11/05/2017.",
        "2017-05-11",
    ),
    Column(
        "date_precision",
        False,
        ("precision",),
        "year, month or day; blank: as precise as the date written.",
        "",
    ),
    Column("description", False, (), "Free text.", ""),
    Column("url", False, ("link", "web address"), "http:// or https:// address.", ""),
    Column(
        "confidentiality",
        False,
        ("visibility",),
        "public, trustees or internal; blank: public for new outputs, unchanged otherwise.",
        "public",
    ),
    Column(
        "doi",
        False,
        (),
        "Publications: DOI, with or without https://doi.org/.",
        "10.1038/nature01591",
    ),
    Column("pmid", False, ("pubmed id",), "Publications: PubMed id.", "12700710"),
    Column("pmcid", False, ("pmc id",), "Publications: PubMed Central id.", ""),
    Column("journal", False, (), "Publications: journal name.", "Nature"),
    Column(
        "year", False, ("publication year",), "Publications: year (default: the date's).", "2003"
    ),
    Column("volume", False, (), "Publications.", "422"),
    Column("pages", False, (), "Publications.", "688-694"),
    Column("authors", False, (), "Publications: authors as cited.", "Pluchino S, Quattrini A"),
    Column(
        "registry_ids",
        False,
        ("registry id", "trial registry ids", "trial ids"),
        "Medical products that are trials: NCT, EudraCT, EU CT, ISRCTN or WHO UTN numbers "
        "separated by semicolons.",
        "",
    ),
    Column(
        "phase",
        False,
        ("trial phase",),
        "Trials: Early Phase 1, Phase 1, Phase 1/2, Phase 2, Phase 2/3, Phase 3, Phase 4 or N/A.",
        "",
    ),
    Column(
        "trial_status",
        False,
        ("recruitment status", "overall status"),
        "Trials: ClinicalTrials.gov overall status (Recruiting, Completed ...).",
        "",
    ),
    Column("acronym", False, ("trial acronym",), "Trials.", ""),
    Column("condition", False, (), "Trials.", ""),
    Column("intervention", False, (), "Trials.", ""),
    Column(
        "sponsor",
        False,
        ("trial sponsor",),
        "Trials: the sponsor organisation (exact name, org-id or ROR id).",
        "",
    ),
    Column("trial_start_date", False, ("study start date",), "Trials: date.", ""),
    Column("first_patient_date", False, ("first patient",), "Trials: date.", ""),
    Column("completion_date", False, ("study completion date",), "Trials: date.", ""),
    Column(
        "enrolment_planned",
        False,
        ("planned enrolment", "enrollment planned"),
        "Trials: number of participants.",
        "",
    ),
    Column(
        "enrolment_actual",
        False,
        ("actual enrolment", "enrollment actual"),
        "Trials: number of participants.",
        "",
    ),
    Column(
        "funder",
        False,
        ("further funder",),
        "Further funding: the funder (an organisation's name, org-id or ROR id, or any name).",
        "",
    ),
    Column("funding_amount", False, ("further funding amount",), "Further funding: amount.", ""),
    Column(
        "funding_currency",
        False,
        ("further funding currency",),
        "Further funding: currency (default EUR).",
        "",
    ),
    Column("patent_office", False, ("office",), "Intellectual property: EP, US, WO, IT ...", ""),
    Column("patent_number", False, (), "Intellectual property.", ""),
    Column(
        "patent_status",
        False,
        (),
        "Intellectual property: filed, published, granted, lapsed, withdrawn or licensed.",
        "",
    ),
    Column(
        "grants",
        False,
        ("grant", "grant references", "grant reference", "attributed to"),
        "References of the grants credited with the output, separated by semicolons.",
        "FM-2004-017",
    ),
    Column(
        "evidence",
        False,
        ("evidence kind",),
        "Why the grants are credited: acknowledged, registry_record, "
        "reported_by_investigator or staff_judgement (default acknowledged).",
        "acknowledged",
    ),
    Column(
        "shares",
        False,
        ("share",),
        "Optional share of the output per grant (50% or 0.5), one per grant or one for all.",
        "",
    ),
    Column("evidence_text", False, ("acknowledgement",), "Evidence text.", ""),
    Column("source", False, ("evidence source",), "Where the evidence was found.", ""),
)

PUBLICATION_COLUMNS = ("doi", "pmid", "pmcid", "journal", "year", "volume", "pages", "authors")
TRIAL_COLUMNS = (
    "registry_ids",
    "phase",
    "trial_status",
    "acronym",
    "condition",
    "intervention",
    "sponsor",
    "trial_start_date",
    "first_patient_date",
    "completion_date",
    "enrolment_planned",
    "enrolment_actual",
)
FUNDING_COLUMNS = ("funder", "funding_amount", "funding_currency")
PATENT_COLUMNS = ("patent_office", "patent_number", "patent_status")
DETAIL_TYPES = {
    OutputType.PUBLICATION: PUBLICATION_COLUMNS,
    OutputType.MEDICAL_PRODUCT: TRIAL_COLUMNS,
    OutputType.FURTHER_FUNDING: FUNDING_COLUMNS,
    OutputType.INTELLECTUAL_PROPERTY: PATENT_COLUMNS,
}
# Service field names (form fields) -> import columns.
FIELD_COLUMNS = {
    "title": "title",
    "url": "url",
    "doi": "doi",
    "pmid": "pmid",
    "pmcid": "pmcid",
    "publication_year": "year",
    "phase": "phase",
    "trial_status": "trial_status",
    "enrolment_planned": "enrolment_planned",
    "enrolment_actual": "enrolment_actual",
    "sponsor_label": "sponsor",
    "completion_date": "completion_date",
    "first_patient_date": "first_patient_date",
    "registry_ids": "registry_ids",
    "funder_label": "funder",
    "amount": "funding_amount",
    "currency": "funding_currency",
    "patent_number": "patent_number",
    "patent_office": "patent_office",
    "patent_status": "patent_status",
    "grant_label": "grants",
    "share": "shares",
}


def data_of(output: Output) -> services.OutputData:
    """An existing output as the service's input shape (the base for an update)."""
    data = services.OutputData(
        type=output.type,
        title=output.title,
        output_date=output.output_date,
        date_precision=output.date_precision,
        description=output.description,
        url=output.url,
        confidentiality=output.confidentiality,
    )
    if (p := output.publication) is not None:
        data.publication = services.PublicationData(
            doi=p.doi,
            pmid=p.pmid,
            pmcid=p.pmcid,
            journal=p.journal,
            year=p.year,
            volume=p.volume,
            pages=p.pages,
            authors=p.authors,
        )
    if (t := output.trial) is not None:
        data.trial = services.TrialData(
            phase=t.phase,
            status=t.status,
            acronym=t.acronym,
            enrolment_planned=t.enrolment_planned,
            enrolment_actual=t.enrolment_actual,
            condition=t.condition,
            intervention=t.intervention,
            sponsor_organisation_id=t.sponsor_organisation_id,
            start_date=t.start_date,
            first_patient_date=t.first_patient_date,
            completion_date=t.completion_date,
            registry_ids=[r.value for r in t.registry_ids],
        )
    if (ff := output.further_funding) is not None:
        data.further_funding = services.FurtherFundingData(
            funder_organisation_id=ff.funder_organisation_id,
            funder_name=ff.funder_name,
            amount=ff.amount,
            currency=ff.currency,
        )
    if (pt := output.patent) is not None:
        data.patent = services.PatentData(number=pt.number, office=pt.office, status=pt.status)
    return data


class OutputImport:
    """State of one outputs import."""

    def __init__(self, session: so.Session, header: Header, outcome: Outcome) -> None:
        self.session = session
        self.header = header
        self.outcome = outcome
        self.present = {c.name for c in COLUMNS if header.has(c.name)}
        self.organisations = lookups.Organisations(session)
        self.currencies = set(services.known_currencies(session))
        self.seen: dict[str, int] = {}

    def run(self, rows: Any) -> None:
        for number, cells in rows:
            if is_blank(cells):
                self.outcome.counts["skipped"] += 1
                continue
            self.row(number, cells)

    # ---------------------------------------------------------------- one row

    def row(self, number: int, cells: list[str]) -> None:
        errors_before = self.outcome.error_count
        cell = self.header.cell

        def check(column: str, parse: Callable[[str], Any]) -> Any:
            text = cell(cells, column)
            try:
                return parse(text)
            except CellError as problem:
                self.outcome.error(number, column, text.strip(), str(problem))
                return None

        def fail(column: str | None, reason: str) -> None:
            value = cell(cells, column).strip() if column else None
            self.outcome.error(number, column, value, reason)

        output_type = check("type", lambda t: parse_enum(t, OutputType))
        title = check("title", lambda t: clean_text(t, 500))
        if output_type is None and not cell(cells, "type").strip():
            fail("type", "this column needs a value")
        if title is None and not cell(cells, "title").strip():
            fail("title", "this column needs a value")
        identifiers = self.identifiers(number, cells, check)
        if output_type is not None:
            for other_type, columns in DETAIL_TYPES.items():
                if other_type == output_type:
                    continue
                for column in columns:
                    if cell(cells, column).strip():
                        fail(column, f"only for {other_type.label.lower()} outputs")
        if self.outcome.error_count > errors_before:
            return
        existing = self.find(number, cells, identifiers, fail)
        if existing is None and not identifiers and self.outcome.error_count == errors_before:
            existing = self.same_title(cells, output_type, title, fail)
        if self.outcome.error_count > errors_before:
            return
        keys = [key for key, _ in identifiers] or [
            f"{output_type.label} “{title}” of {cell(cells, 'date').strip() or 'no date'}"
        ]
        for key in keys:
            first = self.seen.get(key.casefold())
            if first is not None:
                fail(None, f"{key} is also on row {first} of this file")
                return
            self.seen[key.casefold()] = number
        data = (
            data_of(existing)
            if existing is not None
            else services.OutputData(type=output_type, title=title)
        )
        data.type, data.title = output_type, title
        self.overlay(data, cells, check, existing is None)
        grants = self.attributions(number, cells, check, fail)
        if self.outcome.error_count > errors_before or grants is None:
            return
        try:
            if existing is None:
                output = services.create_output(self.session, data)
                action, detail = "created", ""
            else:
                changes = services.update_output(self.session, existing, data, existing.version)
                output = existing
                action = "updated" if changes else "unchanged"
                detail = ", ".join(sorted(changes))
            credited = self.credit(output, grants)
        except FieldErrors as error:
            for field, message in error.errors.items():
                where = FIELD_COLUMNS.get(field)
                self.outcome.error(
                    number, where, cell(cells, where).strip() if where else None, message
                )
            return
        if credited and action == "unchanged":
            action = "updated"
        detail = ", ".join(part for part in (detail, credited) if part)
        key = identifiers[0][0] if identifiers else ""
        if existing is not None:
            key = f"#{output.id}"
        self.outcome.done(number, action, key, title or "", detail)

    def identifiers(
        self, number: int, cells: list[str], check: Callable[..., Any]
    ) -> list[tuple[str, Any]]:
        """(label, query for the output holding it) for each identifier in the row."""
        found: list[tuple[str, Any]] = []
        for column, normalise, label in (
            ("doi", normalise_doi, "DOI"),
            ("pmid", normalise_pmid, "PMID"),
            ("pmcid", normalise_pmcid, "PMCID"),
        ):
            value = check(column, lambda t, n=normalise: _identifier(t, n))
            if value:
                query = sa.select(Publication.output_id).where(
                    getattr(Publication, column) == value
                )
                found.append((f"{label} {value}", query))
        for scheme, value in check("registry_ids", _registry_ids) or []:
            registry = TrialRegistry(scheme)
            query = sa.select(TrialRegistryId.trial_output_id).where(
                TrialRegistryId.scheme == registry, TrialRegistryId.value == value
            )
            found.append((f"{registry.label} {value}", query))
        office = self.header.cell(cells, "patent_office").strip().upper()
        patent = "".join(self.header.cell(cells, "patent_number").split()).upper()
        if office and patent:
            query = sa.select(Patent.output_id).where(
                Patent.office == office, Patent.number == patent
            )
            found.append((f"Patent {office} {patent}", query))
        return found

    def find(
        self,
        number: int,
        cells: list[str],
        identifiers: list[tuple[str, Any]],
        fail: Callable[[str | None, str], None],
    ) -> Output | None:
        """The output the row is about, by id or identifiers; None for a new one."""
        text = self.header.cell(cells, "output_id").strip().lstrip("#")
        if text:
            output = self.session.get(Output, int(text)) if text.isdigit() else None
            if output is None:
                fail("output_id", "no output has this number; leave it blank for a new output")
            elif output.deleted_at is not None:
                fail("output_id", "this output is deleted; restore it first")
            return output
        ids: set[int] = set()
        for _, query in identifiers:
            ids.update(self.session.scalars(query))
        if len(ids) > 1:
            listed = ", ".join(f"#{i}" for i in sorted(ids))
            fail(
                None,
                f"the identifiers of this row belong to different outputs ({listed}); "
                "merge them first or correct the row",
            )
            return None
        if not ids:
            return None
        output = self.session.get(Output, ids.pop())
        if output is not None and output.deleted_at is not None:
            fail(None, f"output #{output.id} with these identifiers is deleted; restore it first")
        return output

    def same_title(
        self,
        cells: list[str],
        output_type: OutputType,
        title: str,
        fail: Callable[[str | None, str], None],
    ) -> Output | None:
        """Without identifiers, an output of the same type, title and date is this one."""
        query = sa.select(Output).where(
            Output.type == output_type,
            sa.func.lower(Output.title) == title.lower(),
            Output.deleted_at.is_(None),
        )
        if self.header.has("date"):
            try:
                parsed = parse_partial(self.header.cell(cells, "date"))
            except CellError:
                return None  # reported when the row's columns are read
            query = query.where(Output.output_date == (parsed[0] if parsed else None))
        found = self.session.scalars(query.limit(2)).all()
        if len(found) > 1:
            fail(
                "title",
                "several outputs have this type, title and date; "
                "give the output number (#12) in the output_id column",
            )
            return None
        return found[0] if found else None

    def overlay(
        self, data: services.OutputData, cells: list[str], check: Callable[..., Any], new: bool
    ) -> None:
        """Set the columns present in the file on the output's data."""
        present = self.present
        if "date" in present:
            parsed = check("date", parse_partial)
            data.output_date, data.date_precision = parsed or (None, DatePrecision.DAY)
        if "date_precision" in present:
            precision = check("date_precision", lambda t: parse_enum(t, DatePrecision))
            if precision is not None:
                data.date_precision = precision
        if "description" in present:
            data.description = check("description", lambda t: clean_text(t, 20_000))
        if "url" in present:
            data.url = check("url", lambda t: clean_text(t, 500))
        if "confidentiality" in present:
            level = check("confidentiality", lambda t: parse_enum(t, Confidentiality))
            if level is not None:
                data.confidentiality = level
        if data.type == OutputType.PUBLICATION:
            p = data.publication = data.publication or services.PublicationData()
            for column, parse in (
                ("doi", _text(300)),
                ("pmid", _text(60)),
                ("pmcid", _text(60)),
                ("journal", _text(300)),
                ("volume", _text(20)),
                ("pages", _text(30)),
                ("authors", _text(20_000)),
            ):
                if column in present:
                    setattr(p, column, check(column, parse))
            if "year" in present:
                p.year = check("year", parse_int)
        if data.type == OutputType.MEDICAL_PRODUCT:
            self.overlay_trial(data, cells, check)
        if data.type == OutputType.FURTHER_FUNDING:
            ff = data.further_funding = data.further_funding or services.FurtherFundingData()
            if "funder" in present:
                text = self.header.cell(cells, "funder")
                try:
                    ff.funder_organisation_id = self.organisations.resolve(text)
                    ff.funder_name = None
                except CellError:
                    ff.funder_organisation_id = None  # a funder we do not keep: its name
                    ff.funder_name = check("funder", _text(300))
            if "funding_amount" in present:
                ff.amount = check("funding_amount", parse_money)
            if "funding_currency" in present:
                ff.currency = check("funding_currency", self.currency) or "EUR"
        if data.type == OutputType.INTELLECTUAL_PROPERTY:
            pt = data.patent = data.patent or services.PatentData()
            if "patent_office" in present:
                pt.office = check("patent_office", _text(10))
            if "patent_number" in present:
                pt.number = check("patent_number", _text(40))
            if "patent_status" in present:
                pt.status = check("patent_status", lambda t: parse_enum(t, PatentStatus))

    def overlay_trial(
        self, data: services.OutputData, cells: list[str], check: Callable[..., Any]
    ) -> None:
        present = self.present
        given = any(self.header.cell(cells, c).strip() for c in TRIAL_COLUMNS)
        if data.trial is None and not given:
            return
        t = data.trial = data.trial or services.TrialData(phase=None, status=None)
        if "registry_ids" in present:
            t.registry_ids = split_list(self.header.cell(cells, "registry_ids"))
        if "phase" in present:
            t.phase = check("phase", lambda x: parse_enum(x, TrialPhase))
        if "trial_status" in present:
            t.status = check("trial_status", lambda x: parse_enum(x, TrialStatus))
        for column, attribute, parse in (
            ("acronym", "acronym", _text(40)),
            ("condition", "condition", _text(300)),
            ("intervention", "intervention", _text(500)),
            ("trial_start_date", "start_date", parse_date),
            ("first_patient_date", "first_patient_date", parse_date),
            ("completion_date", "completion_date", parse_date),
            ("enrolment_planned", "enrolment_planned", parse_int),
            ("enrolment_actual", "enrolment_actual", parse_int),
        ):
            if column in present:
                setattr(t, attribute, check(column, parse))
        if "sponsor" in present:
            t.sponsor_organisation_id = check("sponsor", self.organisations.resolve)

    def currency(self, text: str) -> str | None:
        value = text.strip().upper()
        if not value:
            return None
        refuse_formula(text)
        if value not in self.currencies:
            raise CellError(f"no exchange rate is known for {value}")
        return value

    # ---------------------------------------------------------------- attributions

    def attributions(
        self,
        number: int,
        cells: list[str],
        check: Callable[..., Any],
        fail: Callable[[str | None, str], None],
    ) -> list[services.AttributionData] | None:
        """The grants to credit, or None if the row's attribution columns are wrong."""
        references = split_list(self.header.cell(cells, "grants"))
        if not references:
            for column in ("shares", "evidence_text", "source"):
                if self.header.cell(cells, column).strip():
                    fail(column, "give the grants this applies to in the grants column")
                    return None
            return []
        evidence = check("evidence", lambda t: parse_enum(t, EvidenceKind))
        shares: list[Decimal | None] = []
        for part in split_list(self.header.cell(cells, "shares")):
            try:
                shares.append(parse_share(part))
            except CellError as problem:
                fail("shares", f"“{part}”: {problem}")
                return None
        if len(shares) not in (0, 1, len(references)):
            fail(
                "shares",
                f"{len(shares)} shares for {len(references)} grants: "
                "give one share per grant, or one for all",
            )
            return None
        if len(shares) <= 1:
            shares = [shares[0] if shares else None] * len(references)
        found = {
            row.reference: row
            for row in self.session.execute(
                sa.select(Grant.id, Grant.reference, Grant.deleted_at).where(
                    Grant.reference.in_(references)
                )
            )
        }
        evidence_text = check("evidence_text", _text(5000))
        source = check("source", _text(500))
        result = []
        for reference, share in zip(references, shares, strict=True):
            row = found.get(reference)
            if row is None:
                fail("grants", f"no grant has reference {reference}; import the grants first")
                return None
            if row.deleted_at is not None:
                fail("grants", f"grant {reference} is deleted; restore it first")
                return None
            result.append(
                services.AttributionData(
                    grant_id=row.id,
                    evidence=evidence or EvidenceKind.ACKNOWLEDGED,
                    share=share,
                    evidence_text=evidence_text,
                    source=source,
                )
            )
        return result

    def credit(self, output: Output, grants: list[services.AttributionData]) -> str:
        """Add or update the output's attributions; a note of what changed."""
        if not grants:
            return ""
        existing = {
            a.grant_id: a
            for a in self.session.scalars(
                sa.select(Attribution).where(Attribution.output_id == output.id)
            )
        }
        added = changed = 0
        for data in grants:
            attribution = existing.get(data.grant_id) if data.grant_id is not None else None
            if attribution is None:
                services.add_attribution(self.session, output, data)
                added += 1
                continue
            if "evidence" not in self.present:
                data.evidence = attribution.evidence
            for column, attribute in (
                ("shares", "share"),
                ("evidence_text", "evidence_text"),
                ("source", "source"),
            ):
                if column not in self.present:
                    setattr(data, attribute, getattr(attribution, attribute))
            if services.update_attribution(self.session, attribution, data, attribution.version):
                changed += 1
        notes = []
        if added:
            notes.append(f"{added} grant{'s' if added > 1 else ''} credited")
        if changed:
            notes.append(f"{changed} attribution{'s' if changed > 1 else ''} changed")
        return ", ".join(notes)


def _text(limit: int) -> Callable[[str], str | None]:
    return lambda text: clean_text(text, limit)


def _identifier(text: str, normalise: Callable[[str], str]) -> str | None:
    if not text.strip():
        return None
    refuse_formula(text)
    try:
        return normalise(text)
    except InvalidIdentifier as error:
        raise CellError(error.message) from None


def _registry_ids(text: str) -> list[tuple[str, str]]:
    refuse_formula(text)
    found = []
    for part in split_list(text):
        try:
            found.append(parse_trial_registry_id(part))
        except InvalidIdentifier as error:
            raise CellError(error.message) from None
    return found


def import_outputs(
    session: so.Session, header: Header, rows: Any, outcome: Outcome, context: ImportContext
) -> None:
    """Create or update each row's output and credit its grants (services do the rules)."""
    OutputImport(session, header, outcome).run(rows)
