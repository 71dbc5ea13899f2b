"""What the per-record documents share: the grant dossier and the donor and fund statements.

Each is a frozen dataclass of plain values built from read-only queries:
:class:`RecordDocument` holds the head every one prints (who it is for, when it
was made, the draft and fiction marks) and gives its PDF metadata;
:class:`TrialRow` is a clinical trial downstream as both list it.
``_document.html`` holds the template parts they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import orm as so

from app.lineage.queries import DownstreamTrial
from app.models import Confidentiality

from .annual import FICTION_NOTICE
from .annual_data import has_fictional_data
from .pdf import PdfMetadata

__all__ = [
    "DocumentNotFound",
    "RecordDocument",
    "TrialRow",
    "audience_for",
    "document_head",
    "trial_rows",
]


class DocumentNotFound(LookupError):
    """The record a document is about is missing, deleted or not visible at the levels asked."""


def audience_for(levels: Sequence[Confidentiality]) -> str:
    """Who the document is prepared for, from the most confidential level it includes."""
    if Confidentiality.INTERNAL in levels:
        return "Prepared for staff: includes internal records"
    if Confidentiality.TRUSTEES in levels:
        return "Prepared for the trustees"
    return "Public records only"


@dataclass(frozen=True)
class RecordDocument:
    """The head of a per-record document; the document adds its content and its title."""

    foundation: str
    generated_at: datetime
    is_draft: bool
    is_fictional: bool
    audience: str
    fiction_notice: str

    @property
    def title(self) -> str:
        raise NotImplementedError

    def pdf_metadata(self, subject: str, keywords: tuple[str, ...]) -> PdfMetadata:
        """The PDF's metadata: titled and authored alike, marked when the data are fictional."""
        return PdfMetadata(
            title=f"{self.title} · {self.foundation}",
            author=self.foundation,
            subject=subject,
            keywords=keywords + (("fictional demonstration data",) if self.is_fictional else ()),
            created=self.generated_at,
        )


def document_head(
    session: so.Session,
    *,
    foundation: str,
    levels: Sequence[Confidentiality],
    is_draft: bool,
    now: datetime | None,
) -> dict[str, Any]:
    """The :class:`RecordDocument` fields of a document built now, as keyword arguments."""
    return {
        "foundation": foundation,
        "generated_at": now or datetime.now(UTC).replace(microsecond=0),
        "is_draft": is_draft,
        "is_fictional": has_fictional_data(session),
        "audience": audience_for(levels),
        "fiction_notice": FICTION_NOTICE,
    }


@dataclass(frozen=True)
class TrialRow:
    """A clinical trial downstream of the document's grants."""

    # The header of figures() in the CSV files attached to archive copies.
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "trial",
        "title",
        "phase",
        "status",
        "registry_ids",
        "first_patient",
        "steps",
    )

    output_id: int
    name: str
    title: str
    phase: str
    status: str
    registry_ids: tuple[str, ...]
    first_patient: date | None
    depth: int

    def figures(self) -> tuple[object, ...]:
        """The values under :attr:`COLUMNS`, unformatted."""
        return (
            self.name,
            self.title,
            self.phase,
            self.status,
            "; ".join(self.registry_ids),
            self.first_patient,
            self.depth,
        )


def trial_rows(trials: Sequence[DownstreamTrial]) -> tuple[TrialRow, ...]:
    """The trials downstream as rows, in the order given."""
    return tuple(
        TrialRow(
            output_id=t.output_id,
            name=t.acronym or t.title,
            title=t.title,
            phase=t.phase.label,
            status=t.status.label,
            registry_ids=tuple(r.value for r in t.registry_ids),
            first_patient=t.first_patient_date or t.start_date,
            depth=t.depth,
        )
        for t in trials
    )
