"""Domain writes for outputs, attributions and links: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.currency import RateTable
from app.identifiers import (
    InvalidIdentifier,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_trial_registry_id,
)
from app.models import (
    Attribution,
    AuditAction,
    ClinicalTrial,
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    FurtherFunding,
    Grant,
    LinkRelation,
    Organisation,
    Output,
    OutputLink,
    OutputType,
    Patent,
    PatentStatus,
    Publication,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
    utcnow,
)
from app.records.changes import diff, snapshot
from app.records.errors import FieldErrors
from app.records.services import (
    audit_create,
    check_version,
    hard_delete,
    restore,
    soft_delete,
    update_fields,
)

# --------------------------------------------------------------------------- input shapes


@dataclass
class PublicationData:
    """Bibliographic details as typed; identifiers are normalised here."""

    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: str | None = None
    pages: str | None = None
    authors: str | None = None


@dataclass
class TrialData:
    """Registry details of a trial; registry_ids are raw, one per entry."""

    phase: TrialPhase | None
    status: TrialStatus | None
    acronym: str | None = None
    enrolment_planned: int | None = None
    enrolment_actual: int | None = None
    condition: str | None = None
    intervention: str | None = None
    sponsor_organisation_id: int | None = None
    start_date: date | None = None
    first_patient_date: date | None = None
    completion_date: date | None = None
    registry_ids: list[str] = field(default_factory=list)


@dataclass
class FurtherFundingData:
    funder_organisation_id: int | None = None
    funder_name: str | None = None
    amount: Decimal | None = None
    currency: str = "EUR"


@dataclass
class PatentData:
    number: str | None = None
    office: str | None = None
    status: PatentStatus | None = None


@dataclass
class OutputData:
    """What a user or an import supplies for an output."""

    type: OutputType
    title: str
    output_date: date | None = None
    date_precision: DatePrecision = DatePrecision.DAY
    description: str | None = None
    url: str | None = None
    confidentiality: Confidentiality = Confidentiality.PUBLIC
    publication: PublicationData | None = None
    trial: TrialData | None = None
    further_funding: FurtherFundingData | None = None
    patent: PatentData | None = None
    # Registry ids typed for a medical product that is not marked as a trial.
    stray_registry_ids: list[str] = field(default_factory=list)


@dataclass
class AttributionData:
    """A grant's claim on an output; grant_id None means 'typed but not picked'."""

    grant_id: int | None
    evidence: EvidenceKind = EvidenceKind.ACKNOWLEDGED
    share: Decimal | None = None
    evidence_text: str | None = None
    source: str | None = None


@dataclass
class LinkData:
    """A link from this output to another: 'upstream' = this output stands on the other."""

    other_id: int | None
    direction: str = "upstream"
    relation: LinkRelation = LinkRelation.BUILDS_ON
    evidence: EvidenceKind = EvidenceKind.STAFF_JUDGEMENT
    evidence_text: str | None = None


@dataclass(frozen=True)
class Clash:
    """An identifier that already belongs to another output."""

    field: str
    identifier: str
    output_id: int
    title: str
    deleted: bool


class DuplicateOutput(FieldErrors):
    """The output's identifiers already belong to another output; nothing was written."""

    def __init__(self, errors: dict[str, str], clash: Clash) -> None:
        super().__init__(errors)
        self.clash = clash


# --------------------------------------------------------------------------- helpers


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def describe(output: Output) -> str:
    """How messages and audit summaries name an output."""
    return f"#{output.id} “{output.title}”"


def known_currencies(session: so.Session) -> list[str]:
    """EUR and every currency with a rate."""
    rates = RateTable.load(session)
    return ["EUR", *sorted(set(rates.fixed) | set(rates.dated))]


def parse_registry_ids(lines: list[str]) -> list[tuple[TrialRegistry, str]]:
    """Recognise registry ids (one per entry, blanks ignored); errors name the line."""
    found: list[tuple[TrialRegistry, str]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            scheme, value = parse_trial_registry_id(line)
        except InvalidIdentifier as error:
            problems.append(f"Line {number}: {error.message}.")
            continue
        if (TrialRegistry(scheme), value) not in found:
            found.append((TrialRegistry(scheme), value))
    if problems:
        raise FieldErrors({"registry_ids": " ".join(problems)})
    return found


def _normalise(errors: dict[str, str], key: str, value: str | None, normalise: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return str(normalise(text))
    except InvalidIdentifier as error:
        errors[key] = f"{error.message}."
        return None


def _precise(value: date | None, precision: DatePrecision) -> date | None:
    """Store a partial date as the first day of its period."""
    if value is None or precision == DatePrecision.DAY:
        return value
    if precision == DatePrecision.MONTH:
        return value.replace(day=1)
    return date(value.year, 1, 1)


def _url(errors: dict[str, str], value: str | None) -> str | None:
    text = _text(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in text:
        errors["url"] = "Give a web address starting with http:// or https://."
    return text


# --------------------------------------------------------------------------- outputs


@dataclass
class _Clean:
    """Validated, normalised values ready to be set."""

    common: dict[str, Any]
    publication: dict[str, Any] | None = None
    trial: dict[str, Any] | None = None
    registry_ids: list[tuple[TrialRegistry, str]] = field(default_factory=list)
    further_funding: dict[str, Any] | None = None
    patent: dict[str, Any] | None = None


def _clean(session: so.Session, data: OutputData, errors: dict[str, str]) -> _Clean:
    if not data.title.strip():
        errors["title"] = "Give the output a title."
    clean = _Clean(
        common={
            "type": data.type,
            "title": data.title.strip(),
            "output_date": _precise(data.output_date, data.date_precision),
            "date_precision": data.date_precision,
            "description": _text(data.description),
            "url": _url(errors, data.url),
            "confidentiality": data.confidentiality,
        }
    )
    if data.type == OutputType.PUBLICATION:
        clean.publication = _clean_publication(data.publication or PublicationData(), data, errors)
    if data.type == OutputType.MEDICAL_PRODUCT and data.trial is not None:
        clean.trial, clean.registry_ids = _clean_trial(session, data.trial, errors)
    elif data.stray_registry_ids and any(line.strip() for line in data.stray_registry_ids):
        errors["registry_ids"] = "Tick “This is a clinical trial” to record registry ids."
    if data.type == OutputType.FURTHER_FUNDING:
        clean.further_funding = _clean_further_funding(
            session, data.further_funding or FurtherFundingData(), data.output_date, errors
        )
    if data.type == OutputType.INTELLECTUAL_PROPERTY and data.patent is not None:
        clean.patent = _clean_patent(data.patent, errors)
    return clean


def _clean_publication(
    p: PublicationData, data: OutputData, errors: dict[str, str]
) -> dict[str, Any]:
    year = p.year if p.year is not None else (data.output_date.year if data.output_date else None)
    if year is not None and not 1800 <= year <= 2100:
        errors["publication_year"] = "Give a year between 1800 and 2100."
    return {
        "doi": _normalise(errors, "doi", p.doi, normalise_doi),
        "pmid": _normalise(errors, "pmid", p.pmid, normalise_pmid),
        "pmcid": _normalise(errors, "pmcid", p.pmcid, normalise_pmcid),
        "journal": _text(p.journal),
        "year": year,
        "volume": _text(p.volume),
        "pages": _text(p.pages),
        "authors": _text(p.authors),
    }


def _clean_trial(
    session: so.Session, t: TrialData, errors: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[TrialRegistry, str]]]:
    if t.phase is None:
        errors["phase"] = "Choose the trial phase (N/A if it has none)."
    if t.status is None:
        errors["trial_status"] = "Choose the trial status (Unknown if not known)."
    for key in ("enrolment_planned", "enrolment_actual"):
        value = getattr(t, key)
        if value is not None and value < 0:
            errors[key] = "Enrolment cannot be negative."
    if t.sponsor_organisation_id is not None and (
        session.get(Organisation, t.sponsor_organisation_id) is None
    ):
        errors["sponsor_label"] = "Choose the sponsor from the list."
    if t.start_date and t.completion_date and t.completion_date < t.start_date:
        errors["completion_date"] = "The completion date is before the start date."
    if t.start_date and t.first_patient_date and t.first_patient_date < t.start_date:
        errors["first_patient_date"] = "The first patient is treated before the trial starts."
    registry_ids: list[tuple[TrialRegistry, str]] = []
    try:
        registry_ids = parse_registry_ids(t.registry_ids)
    except FieldErrors as error:
        errors.update(error.errors)
    values = {
        "phase": t.phase,
        "status": t.status,
        "acronym": _text(t.acronym),
        "enrolment_planned": t.enrolment_planned,
        "enrolment_actual": t.enrolment_actual,
        "condition": _text(t.condition),
        "intervention": _text(t.intervention),
        "sponsor_organisation_id": t.sponsor_organisation_id,
        "start_date": t.start_date,
        "first_patient_date": t.first_patient_date,
        "completion_date": t.completion_date,
    }
    return values, registry_ids


def _clean_further_funding(
    session: so.Session, ff: FurtherFundingData, on: date | None, errors: dict[str, str]
) -> dict[str, Any]:
    name = _text(ff.funder_name)
    # Both may be given: the name then records how the funder was written at the time.
    if ff.funder_organisation_id is not None and (
        session.get(Organisation, ff.funder_organisation_id) is None
    ):
        errors["funder_label"] = "Choose the funder from the list."
    if ff.amount is not None:
        if ff.amount < 0:
            errors["amount"] = "The amount cannot be negative."
        elif ff.amount != ff.amount.quantize(Decimal("0.01")):
            errors["amount"] = "Use at most two decimals."
    if ff.currency not in known_currencies(session):
        errors["currency"] = f"No exchange rate is known for {ff.currency}."
        amount_eur = None
    else:
        amount_eur = RateTable.load(session).to_eur(ff.amount, ff.currency, on or date.today())
    return {
        "funder_organisation_id": ff.funder_organisation_id,
        "funder_name": name,
        "amount": ff.amount,
        "currency": ff.currency,
        "amount_eur": amount_eur,
    }


def _clean_patent(p: PatentData, errors: dict[str, str]) -> dict[str, Any] | None:
    number = "".join((p.number or "").split()).upper() or None
    office = (p.office or "").strip().upper() or None
    if number is None and office is None:
        return None
    if number is None:
        errors["patent_number"] = "Give the patent number, or clear the office."
    if office is None:
        errors["patent_office"] = "Give the patent office, e.g. EP, US, WO or IT."
    elif not office.isalnum():
        errors["patent_office"] = "Use the office code, e.g. EP, US, WO or IT."
    if p.status is None:
        errors["patent_status"] = "Choose the patent status."
    return {"number": number, "office": office, "status": p.status}


def _clashes(session: so.Session, clean: _Clean, exclude_id: int | None) -> list[Clash]:
    """Other outputs (deleted ones too: identifiers are unique) holding these identifiers."""
    not_self = Output.id != exclude_id if exclude_id is not None else sa.true()
    checks: list[tuple[str, str, Any]] = []
    base = sa.select(Output.id, Output.title, Output.deleted_at)
    if clean.publication:
        for key, label in (("doi", "DOI"), ("pmid", "PMID"), ("pmcid", "PMCID")):
            value = clean.publication[key]
            if value:
                column = getattr(Publication, key)
                query = base.join(Publication, Publication.output_id == Output.id)
                checks.append((key, f"{label} {value}", query.where(column == value)))
    for scheme, value in clean.registry_ids:
        query = base.join(TrialRegistryId, TrialRegistryId.trial_output_id == Output.id).where(
            TrialRegistryId.scheme == scheme, TrialRegistryId.value == value
        )
        checks.append(("registry_ids", f"{scheme.label} {value}", query))
    if clean.patent and clean.patent["number"] and clean.patent["office"]:
        query = base.join(Patent, Patent.output_id == Output.id).where(
            Patent.office == clean.patent["office"], Patent.number == clean.patent["number"]
        )
        label = f"Patent {clean.patent['office']} {clean.patent['number']}"
        checks.append(("patent_number", label, query))
    if not checks:
        return []
    # One round trip for every identifier.
    union = sa.union_all(
        *(
            query.where(not_self).add_columns(sa.literal_column(str(i)).label("idx"))
            for i, (_, _, query) in enumerate(checks)
        )
    ).subquery()
    rows = session.execute(sa.select(union).order_by(union.c.idx)).all()
    return [
        Clash(checks[r.idx][0], checks[r.idx][1], r.id, r.title, r.deleted_at is not None)
        for r in rows
    ]


def _raise_clashes(clashes: list[Clash]) -> None:
    if not clashes:
        return
    errors: dict[str, str] = {}
    for clash in clashes:
        note = " (deleted)" if clash.deleted else ""
        message = f"{clash.identifier} already belongs to output #{clash.output_id}{note}."
        errors[clash.field] = (
            f"{errors[clash.field]} {message}" if clash.field in errors else message
        )
    raise DuplicateOutput(errors, clashes[0])


def full_snapshot(output: Output) -> dict[str, Any]:
    """An output's columns plus its typed details and registry ids, as plain values."""
    values = snapshot(output)
    for detail in (output.publication, output.trial, output.further_funding, output.patent):
        if detail is not None:
            values.update({k: v for k, v in snapshot(detail).items() if k != "output_id"})
    if output.trial is not None:
        values["registry_ids"] = ", ".join(sorted(r.value for r in output.trial.registry_ids))
    return values


def _apply(output: Output, clean: _Clean) -> None:
    for key, value in clean.common.items():
        setattr(output, key, value)
    if clean.publication is not None:
        output.publication = output.publication or Publication()
        for key, value in clean.publication.items():
            setattr(output.publication, key, value)
    else:
        output.publication = None
    if clean.trial is not None:
        trial = output.trial = output.trial or ClinicalTrial()
        for key, value in clean.trial.items():
            setattr(trial, key, value)
        wanted = set(clean.registry_ids)
        # Keep unchanged rows: deleting and re-inserting the same id would hit the UNIQUE.
        for row in list(trial.registry_ids):
            if (row.scheme, row.value) not in wanted:
                trial.registry_ids.remove(row)
        have = {(row.scheme, row.value) for row in trial.registry_ids}
        for scheme, value in clean.registry_ids:
            if (scheme, value) not in have:
                trial.registry_ids.append(TrialRegistryId(scheme=scheme, value=value))
    else:
        output.trial = None
    if clean.further_funding is not None:
        output.further_funding = output.further_funding or FurtherFunding()
        for key, value in clean.further_funding.items():
            setattr(output.further_funding, key, value)
    else:
        output.further_funding = None
    if clean.patent is not None:
        output.patent = output.patent or Patent()
        for key, value in clean.patent.items():
            setattr(output.patent, key, value)
    else:
        output.patent = None


def _validated(
    session: so.Session,
    data: OutputData,
    output: Output | None,
    extra_errors: dict[str, str] | None = None,
) -> _Clean:
    errors: dict[str, str] = dict(extra_errors or {})
    clean = _clean(session, data, errors)
    if errors:
        raise FieldErrors(errors)
    _raise_clashes(_clashes(session, clean, output.id if output else None))
    return clean


def create_output(
    session: so.Session, data: OutputData, attribution: AttributionData | None = None
) -> Output:
    """Create an output with its typed details (and optionally credit a grant)."""
    extra = _attribution_errors(session, None, attribution) if attribution else {}
    clean = _validated(session, data, None, extra)
    output = Output()
    session.add(output)
    _apply(output, clean)
    session.flush()
    record(
        session,
        AuditAction.CREATE,
        entity=output,
        summary=f"Output {describe(output)} created",
        changes={k: [None, v] for k, v in full_snapshot(output).items() if v not in (None, "")},
    )
    if attribution is not None:
        add_attribution(session, output, attribution)
    return output


def update_output(
    session: so.Session, output: Output, data: OutputData, version: int | None
) -> dict[str, list[Any]]:
    """Apply an edit made on the given version; refuse it if the output changed since."""
    check_version(session, output, version, f"Output {describe(output)}")
    clean = _validated(session, data, output)
    before = full_snapshot(output)
    _apply(output, clean)
    changes = diff(before, full_snapshot(output))
    if changes:
        # Details live in other tables: touch the output so its version moves on.
        output.updated_at = utcnow()
        session.flush()
        record(
            session,
            AuditAction.UPDATE,
            entity=output,
            summary=f"Output {describe(output)} edited",
            changes=changes,
        )
    return changes


def delete_output(session: so.Session, output: Output) -> None:
    """Soft-delete an output (restorable from its page or history)."""
    soft_delete(session, output, f"Output {describe(output)} deleted")


def restore_output(session: so.Session, output: Output) -> None:
    """Restore a soft-deleted output."""
    restore(session, output, f"Output {describe(output)} restored")


# --------------------------------------------------------------------------- attributions

SHARE_STEP = Decimal("0.0001")


def _share_errors(
    session: so.Session, output_id: int | None, share: Decimal | None, exclude_id: int | None
) -> dict[str, str]:
    if share is None:
        return {}
    if share <= 0 or share > 1:
        return {"share": "The share must be more than 0% and at most 100%."}
    if share != share.quantize(SHARE_STEP):
        return {"share": "Give the share to at most two decimals of a percent (e.g. 33.33%)."}
    if output_id is None:
        return {}
    others = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Attribution.share), 0)).where(
            Attribution.output_id == output_id,
            Attribution.id != exclude_id if exclude_id is not None else sa.true(),
        )
    )
    total = (others or Decimal(0)) + share
    if total > 1:
        return {"share": f"The shares of this output would add up to {total * 100:.2f}%."}
    return {}


def _attribution_errors(
    session: so.Session, output: Output | None, data: AttributionData
) -> dict[str, str]:
    errors: dict[str, str] = {}
    grant = session.get(Grant, data.grant_id) if data.grant_id is not None else None
    if grant is None:
        errors["grant_label"] = "Choose the grant from the list."
    elif grant.deleted_at is not None:
        errors["grant_label"] = f"Grant {grant.reference} is deleted; restore it first."
    elif output is not None and output.id is not None:
        taken = session.scalar(
            sa.select(Attribution.id).where(
                Attribution.grant_id == grant.id, Attribution.output_id == output.id
            )
        )
        if taken is not None:
            errors["grant_label"] = f"Grant {grant.reference} is already credited with this output."
    if output is not None and output.deleted_at is not None:
        errors["grant_label"] = "This output is deleted; restore it first."
    errors.update(_share_errors(session, output.id if output else None, data.share, None))
    return errors


def add_attribution(session: so.Session, output: Output, data: AttributionData) -> Attribution:
    """Credit a grant with an output, with its evidence."""
    errors = _attribution_errors(session, output, data)
    if errors:
        raise FieldErrors(errors)
    attribution = Attribution(
        grant_id=data.grant_id,
        output_id=output.id,
        share=data.share,
        evidence=data.evidence,
        evidence_text=_text(data.evidence_text),
        source=_text(data.source),
    )
    session.add(attribution)
    grant = session.get(Grant, data.grant_id)
    assert grant is not None
    audit_create(
        session, attribution, f"Grant {grant.reference} credited with output {describe(output)}"
    )
    return attribution


def update_attribution(
    session: so.Session, attribution: Attribution, data: AttributionData, version: int | None
) -> dict[str, list[Any]]:
    """Change an attribution's share or evidence, refusing a stale edit."""
    label = f"Attribution of grant {attribution.grant.reference}"
    check_version(session, attribution, version, label)
    errors = _share_errors(session, attribution.output_id, data.share, attribution.id)
    if errors:
        raise FieldErrors(errors)
    return update_fields(
        session,
        attribution,
        {
            "share": data.share,
            "evidence": data.evidence,
            "evidence_text": _text(data.evidence_text),
            "source": _text(data.source),
        },
        f"{label} to output {describe(attribution.output)} edited",
    )


def confirm_attribution(session: so.Session, attribution: Attribution, user_id: int) -> bool:
    """Record who confirmed an attribution and when; False if it already was."""
    if attribution.confirmed_by_id is not None:
        return False
    # Both together: a CHECK constraint refuses one without the other.
    update_fields(
        session,
        attribution,
        {"confirmed_by_id": user_id, "confirmed_at": utcnow()},
        f"Attribution of grant {attribution.grant.reference} to output "
        f"{describe(attribution.output)} confirmed",
    )
    return True


def delete_attribution(session: so.Session, attribution: Attribution) -> None:
    """Remove an attribution (kept whole in the audit trail)."""
    hard_delete(
        session,
        attribution,
        f"Grant {attribution.grant.reference} no longer credited with output "
        f"{describe(attribution.output)}",
    )


# --------------------------------------------------------------------------- links


def upstream_path(session: so.Session, start_id: int, target_id: int) -> list[int] | None:
    """Ids from start to target following 'stands on' links upstream, or None if unreachable.

    Not app.lineage's upstream walk: that one skips deleted outputs (whose links would
    close a cycle once restored) and returns no path to name in the refusal.
    """
    reach = (
        sa.select(OutputLink.output_id.label("down"), OutputLink.upstream_output_id.label("up"))
        .where(OutputLink.output_id == start_id)
        .cte("reach", recursive=True)
    )
    # UNION (not UNION ALL) collects each edge once, so the walk ends even on bad data.
    reach = reach.union(
        sa.select(OutputLink.output_id, OutputLink.upstream_output_id).join(
            reach, OutputLink.output_id == reach.c.up
        )
    )
    edges = session.execute(sa.select(reach.c.down, reach.c.up)).all()
    if not any(up == target_id for _, up in edges):
        return None
    # Rebuild one shortest path from the reachable edges.
    parents: dict[int, int] = {}
    queue = deque([start_id])
    by_down: dict[int, list[int]] = {}
    for down, up in edges:
        by_down.setdefault(down, []).append(up)
    while queue:
        node = queue.popleft()
        for up in sorted(by_down.get(node, [])):
            if up not in parents and up != start_id:
                parents[up] = node
                queue.append(up)
    path = [target_id]
    while path[-1] != start_id:
        path.append(parents[path[-1]])
    return path[::-1]


def _titles(session: so.Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(sa.select(Output.id, Output.title).where(Output.id.in_(ids)))
    return {r.id: f"“{r.title}”" for r in rows}


def _link_errors(session: so.Session, down: Output, up: Output) -> dict[str, str]:
    if down.id == up.id:
        return {"other_label": "An output cannot stand on itself."}
    exists = session.scalar(
        sa.select(OutputLink.id).where(
            OutputLink.output_id == down.id, OutputLink.upstream_output_id == up.id
        )
    )
    if exists is not None:
        return {"other_label": f"{describe(down)} already stands on {describe(up)}."}
    path = upstream_path(session, up.id, down.id)
    if path is not None:
        titles = _titles(session, path)
        through = path[1:-1]
        via = " through " + ", ".join(titles[i] for i in through) if through else " directly"
        return {
            "other_label": f"{titles[up.id]} already stands on {titles[down.id]}{via}; "
            "the new link would make a cycle."
        }
    return {}


def add_link(session: so.Session, output: Output, data: LinkData) -> OutputLink:
    """Record that one output stands on another; cycles, self links and duplicates refused."""
    other = session.get(Output, data.other_id) if data.other_id is not None else None
    if other is None:
        raise FieldErrors({"other_label": "Choose the other output from the list."})
    if other.deleted_at is not None or output.deleted_at is not None:
        raise FieldErrors({"other_label": "Deleted outputs cannot be linked; restore first."})
    down, up = (output, other) if data.direction == "upstream" else (other, output)
    errors = _link_errors(session, down, up)
    if errors:
        raise FieldErrors(errors)
    link = OutputLink(
        output_id=down.id,
        upstream_output_id=up.id,
        relation=data.relation,
        evidence=data.evidence,
        evidence_text=_text(data.evidence_text),
    )
    session.add(link)
    audit_create(
        session, link, f"{describe(down)} stands on {describe(up)} ({data.relation.label})"
    )
    return link


def confirm_link(session: so.Session, link: OutputLink, user_id: int) -> bool:
    """Record who confirmed a link and when; False if it already was."""
    if link.confirmed_by_id is not None:
        return False
    update_fields(
        session,
        link,
        {"confirmed_by_id": user_id, "confirmed_at": utcnow()},
        f"Link {describe(link.output)} → {describe(link.upstream)} confirmed",
    )
    return True


def delete_link(session: so.Session, link: OutputLink) -> None:
    """Remove a link (kept whole in the audit trail)."""
    hard_delete(
        session,
        link,
        f"{describe(link.output)} no longer stands on {describe(link.upstream)}",
    )


# --------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    moved: int = 0
    dropped: int = 0


def merge_output(session: so.Session, source: Output, target: Output) -> MergeResult:
    """Move source's attributions and links onto target, then soft-delete source."""
    if source.id == target.id:
        raise FieldErrors({"merge": "An output cannot be merged into itself."})
    if source.deleted_at is not None or target.deleted_at is not None:
        raise FieldErrors({"merge": "Restore both outputs before merging them."})
    result = MergeResult()
    where = f"(merge of {describe(source)} into {describe(target)})"
    target_grants = {a.grant_id for a in target.attributions}
    for attribution in list(source.attributions):
        if attribution.grant_id in target_grants:
            hard_delete(session, attribution, f"Duplicate attribution dropped {where}")
            result.dropped += 1
        else:
            update_fields(
                session, attribution, {"output_id": target.id}, f"Attribution moved {where}"
            )
            target_grants.add(attribution.grant_id)
            result.moved += 1
    for link in list(source.upstream_links) + list(source.downstream_links):
        is_upstream = link.output_id == source.id
        down = target.id if is_upstream else link.output_id
        up = link.upstream_output_id if is_upstream else target.id
        duplicate = session.scalar(
            sa.select(OutputLink.id).where(
                OutputLink.output_id == down, OutputLink.upstream_output_id == up
            )
        )
        if down == up or duplicate is not None or upstream_path(session, up, down) is not None:
            hard_delete(session, link, f"Self, duplicate or cyclic link dropped {where}")
            result.dropped += 1
        else:
            key = "output_id" if is_upstream else "upstream_output_id"
            update_fields(session, link, {key: target.id}, f"Link moved {where}")
            result.moved += 1
    session.expire(source, ["attributions", "upstream_links", "downstream_links"])
    session.expire(target, ["attributions", "upstream_links", "downstream_links"])
    soft_delete(session, source, f"Output {describe(source)} merged into {describe(target)}")
    record(
        session,
        AuditAction.UPDATE,
        entity=target,
        summary=f"Output {describe(source)} merged into this output",
        changes={
            "merged_from": [None, describe(source)],
            "records_moved": [None, result.moved],
            "duplicates_dropped": [None, result.dropped],
        },
    )
    return result
