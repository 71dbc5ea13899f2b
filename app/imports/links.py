"""Import of output links: an output stands on an earlier (upstream) one.

Each row goes through app.outputs.services.add_link, which refuses self links
and any link that would close a cycle (checked in SQL against the links
already written, those of earlier rows included). A link that exists is
updated (relation, evidence) or left unchanged.
"""

from __future__ import annotations

import re
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
from app.models import EvidenceKind, LinkRelation, Output, OutputLink, Publication, TrialRegistry
from app.models import TrialRegistryId as RegistryId
from app.outputs import services
from app.records.errors import FieldErrors
from app.records.services import update_fields

from .columns import Column, Header, Outcome, is_blank
from .context import ImportContext
from .parsing import CellError, clean_text, parse_enum, refuse_formula

KIND = "links"
_IDENTIFIER_HELP = (
    "#12 (output number), a DOI, PMID:12345678, a PMCID or a trial registry id "
    "(NCT, EudraCT, EU CT, ISRCTN, WHO UTN)."
)
COLUMNS = (
    Column(
        "output",
        True,
        ("output identifier", "downstream", "downstream output", "from"),
        "The later output, which stands on the upstream one: " + _IDENTIFIER_HELP,
        "NCT03269071",
    ),
    Column(
        "upstream",
        True,
        ("upstream output", "upstream identifier", "stands on", "to"),
        "The earlier output: " + _IDENTIFIER_HELP,
        "10.1038/nature01591",
    ),
    Column(
        "relation",
        True,
        ("link relation",),
        "builds_on, reports_results_of, follow_up_of or cites.",
        "builds_on",
    ),
    Column(
        "evidence",
        False,
        ("evidence kind",),
        "acknowledged, registry_record, reported_by_investigator or staff_judgement "
        "(default staff_judgement).",
        "registry_record",
    ),
    Column("evidence_text", False, (), "Why the link is believed.", ""),
)

_OUTPUT_NUMBER = re.compile(r"#?\s*(\d+)$")


class OutputFinder:
    """Outputs named by number, DOI, PMID, PMCID or trial registry id."""

    def __init__(self, session: so.Session) -> None:
        self.session = session

    def resolve(self, text: str) -> Output:
        value = text.strip()
        if not value:
            raise CellError("this column needs a value")
        refuse_formula(text)
        query, label = self.query(value)
        ids = set(self.session.scalars(query))
        if not ids:
            raise CellError(f"no output has {label}; import the outputs first")
        if len(ids) > 1:  # not possible for unique identifiers; guard anyway
            raise CellError(f"{label} belongs to several outputs")
        output = self.session.get(Output, ids.pop())
        assert output is not None
        if output.deleted_at is not None:
            raise CellError(f"output #{output.id} is deleted; restore it first")
        return output

    @staticmethod
    def query(value: str) -> tuple[Any, str]:
        try:
            if match := _OUTPUT_NUMBER.match(value):
                return sa.select(Output.id).where(Output.id == int(match[1])), f"number #{match[1]}"
            lowered = value.lower()
            if lowered.startswith("pmid"):
                pmid = normalise_pmid(value)
                return sa.select(Publication.output_id).where(
                    Publication.pmid == pmid
                ), f"PMID {pmid}"
            if lowered.startswith("pmc"):
                pmcid = normalise_pmcid(value)
                return sa.select(Publication.output_id).where(
                    Publication.pmcid == pmcid
                ), f"PMCID {pmcid}"
            if "10." in value and "/" in value:
                doi = normalise_doi(value)
                return sa.select(Publication.output_id).where(Publication.doi == doi), f"DOI {doi}"
            scheme, canonical = parse_trial_registry_id(value)
        except InvalidIdentifier as error:
            raise CellError(error.message) from None
        registry = TrialRegistry(scheme)
        query = sa.select(RegistryId.trial_output_id).where(
            RegistryId.scheme == registry, RegistryId.value == canonical
        )
        return query, f"{registry.label} id {canonical}"


def import_links(
    session: so.Session, header: Header, rows: Any, outcome: Outcome, context: ImportContext
) -> None:
    """Create or update each row's link; cycles, self links and duplicates are refused."""
    finder = OutputFinder(session)
    seen: dict[tuple[int, int], int] = {}
    has_evidence = header.has("evidence")
    has_text = header.has("evidence_text")
    for number, cells in rows:
        if is_blank(cells):
            outcome.counts["skipped"] += 1
            continue
        before = outcome.error_count
        values: dict[str, Any] = {}
        for column, parse in (
            ("output", finder.resolve),
            ("upstream", finder.resolve),
            ("relation", lambda t: parse_enum(t, LinkRelation)),
            ("evidence", lambda t: parse_enum(t, EvidenceKind)),
            ("evidence_text", lambda t: clean_text(t, 5000)),
        ):
            text = header.cell(cells, column)
            try:
                values[column] = parse(text)
            except CellError as problem:
                outcome.error(number, column, text.strip(), str(problem))
        if not header.cell(cells, "relation").strip():
            outcome.error(number, "relation", "", "this column needs a value")
        if outcome.error_count > before:
            continue
        down, up = values["output"], values["upstream"]
        key = f"#{down.id} → #{up.id}"
        first = seen.get((down.id, up.id))
        if first is not None:
            outcome.error(
                number,
                "upstream",
                header.cell(cells, "upstream").strip(),
                f"the same link is already on row {first} of this file",
            )
            continue
        seen[(down.id, up.id)] = number
        label = f"{down.title[:60]} → {up.title[:60]}"
        link = session.scalar(
            sa.select(OutputLink).where(
                OutputLink.output_id == down.id, OutputLink.upstream_output_id == up.id
            )
        )
        if link is not None:
            wanted = {"relation": values["relation"]}
            if has_evidence and values["evidence"] is not None:
                wanted["evidence"] = values["evidence"]
            if has_text:
                wanted["evidence_text"] = values["evidence_text"]
            changes = update_fields(
                session,
                link,
                wanted,
                f"Link {services.describe(down)} → {services.describe(up)} updated by import",
            )
            outcome.done(
                number,
                "updated" if changes else "unchanged",
                key,
                label,
                ", ".join(sorted(changes)),
            )
            continue
        data = services.LinkData(
            other_id=up.id,
            direction="upstream",
            relation=values["relation"],
            evidence=values["evidence"] or EvidenceKind.STAFF_JUDGEMENT,
            evidence_text=values["evidence_text"],
        )
        try:
            services.add_link(session, down, data)
        except FieldErrors as error:
            for message in error.errors.values():
                outcome.error(number, "upstream", header.cell(cells, "upstream").strip(), message)
            continue
        outcome.done(number, "created", key, label)
