"""Domain writes for highlights: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import Grant, Highlight, Output
from app.records.errors import FieldErrors
from app.records.services import RecordLifecycle

FIRST_YEAR = 1900


@dataclass
class HighlightData:
    """What a user supplies for a highlight."""

    year: int
    title: str
    body: str
    output_id: int | None = None
    grant_id: int | None = None
    position: int | None = None  # None: after the year's other highlights
    author_id: int | None = None  # set on creation only


def last_year() -> int:
    """The latest year a highlight may belong to: next year's report is written this year."""
    return date.today().year + 1


def next_position(session: so.Session, year: int, leaving_out: int | None = None) -> int:
    """The position after every live highlight of a year."""
    query = sa.select(sa.func.max(Highlight.position)).where(
        Highlight.year == year, Highlight.deleted_at.is_(None)
    )
    if leaving_out is not None:
        query = query.where(Highlight.id != leaving_out)
    return (session.scalar(query) or 0) + 1


def _live(session: so.Session, model: Any, record_id: int) -> bool:
    return (
        session.scalar(sa.select(model.id).where(model.id == record_id, model.deleted_at.is_(None)))
        is not None
    )


def _values(
    session: so.Session, data: HighlightData, highlight: Highlight | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not FIRST_YEAR <= data.year <= last_year():
        errors["year"] = f"Give a year between {FIRST_YEAR} and {last_year()}."
    title, body = data.title.strip(), data.body.strip()
    if not title:
        errors["title"] = "Give the highlight a title."
    if not body:
        errors["body"] = "Write the text of the highlight."
    if data.output_id is not None and data.grant_id is not None:
        errors["grant_label"] = (
            "A highlight is about one record at most: choose a trial or output, or a grant."
        )
    elif data.output_id is not None and not _live(session, Output, data.output_id):
        errors["output_label"] = "Choose the trial or output from the list."
    elif data.grant_id is not None and not _live(session, Grant, data.grant_id):
        errors["grant_label"] = "Choose the grant from the list."
    if data.position is not None and data.position < 1:
        errors["position"] = "Use 1 for the first highlight of the year, 2 for the next, …"
    if errors:
        raise FieldErrors(errors)
    position = data.position
    if position is None:
        unchanged = highlight is not None and highlight.year == data.year
        position = (
            highlight.position
            if unchanged and highlight is not None
            else next_position(session, data.year, highlight.id if highlight else None)
        )
    values: dict[str, Any] = {
        "year": data.year,
        "title": title,
        # Paragraphs are separated by blank lines; keep them, drop trailing spaces.
        "body": "\n".join(line.rstrip() for line in body.splitlines()),
        "output_id": data.output_id,
        "grant_id": data.grant_id,
        "position": position,
    }
    if highlight is None:
        values["author_id"] = data.author_id
    return values


HIGHLIGHTS = RecordLifecycle(
    Highlight, _values, lambda highlight: f"Highlight “{highlight.title}” ({highlight.year})"
)
create_highlight, update_highlight = HIGHLIGHTS.create, HIGHLIGHTS.update
delete_highlight, restore_highlight = HIGHLIGHTS.delete, HIGHLIGHTS.restore
