"""Read queries for highlights: the list by year, one highlight, and a period's for the report.

The output or grant a highlight is about is shown only when it is live and
visible at the reader's confidentiality levels; otherwise the highlight reads
as if it were about nothing in particular.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import ClinicalTrial, Confidentiality, Grant, Highlight, Output, OutputType, User
from app.records.listing import ListParams, Page, like_pattern, paginate

FILTERS = ("year",)
SORTS = ("year",)
DEFAULT_SORT = "year"
# A blank line (spaces allowed) ends a paragraph.
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> tuple[str, ...]:
    """Plain text split at blank lines; line breaks inside a paragraph are kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = (part.strip() for part in PARAGRAPH_BREAK.split(text))
    return tuple("\n".join(line.strip() for line in part.splitlines()) for part in parts if part)


@dataclass(frozen=True)
class Subject:
    """The trial, other output or grant a highlight is about."""

    kind: str  # "output" or "grant"
    id: int
    label: str  # "STEMS", "FMR-2010-001 · Neurospheres in EAE"
    kind_label: str  # "Clinical trial", "Publication", "Grant"


@dataclass(frozen=True)
class HighlightRow:
    id: int
    year: int
    position: int
    title: str
    body: str
    subject: Subject | None
    author: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    deleted: bool

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return paragraphs(self.body)

    @property
    def excerpt(self) -> str:
        """The first paragraph, shortened for the list."""
        first = " ".join(self.paragraphs[0].split()) if self.paragraphs else ""
        return first if len(first) <= 220 else first[:219].rstrip() + "…"


def _rows(levels: Sequence[Confidentiality]) -> sa.Select[*tuple[Any, ...]]:
    """Highlights with their author and their visible subject, in one statement."""
    return (
        sa.select(
            Highlight.id,
            Highlight.year,
            Highlight.position,
            Highlight.title,
            Highlight.body,
            Highlight.created_at,
            Highlight.updated_at,
            Highlight.version,
            Highlight.deleted_at,
            sa.func.coalesce(User.name, User.email).label("author"),
            Output.id.label("output_id"),
            Output.title.label("output_title"),
            Output.type.label("output_type"),
            ClinicalTrial.output_id.label("trial_id"),
            ClinicalTrial.acronym,
            Grant.id.label("grant_id"),
            Grant.reference,
            Grant.title.label("grant_title"),
        )
        .outerjoin(User, User.id == Highlight.author_id)
        .outerjoin(
            Output,
            sa.and_(
                Output.id == Highlight.output_id,
                Output.deleted_at.is_(None),
                Output.confidentiality.in_(levels),
            ),
        )
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .outerjoin(
            Grant,
            sa.and_(
                Grant.id == Highlight.grant_id,
                Grant.deleted_at.is_(None),
                Grant.confidentiality.in_(levels),
            ),
        )
    )


def _subject(row: Any) -> Subject | None:
    if row.output_id is not None:
        if row.trial_id is not None:
            return Subject(
                "output", row.output_id, row.acronym or row.output_title, "Clinical trial"
            )
        kind: OutputType = row.output_type
        return Subject("output", row.output_id, row.output_title, kind.label)
    if row.grant_id is not None:
        return Subject("grant", row.grant_id, f"{row.reference} · {row.grant_title}", "Grant")
    return None


def _row(row: Any) -> HighlightRow:
    return HighlightRow(
        id=row.id,
        year=row.year,
        position=row.position,
        title=row.title,
        body=row.body,
        subject=_subject(row),
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        deleted=row.deleted_at is not None,
    )


ORDER = (Highlight.year.desc(), Highlight.position, Highlight.id)


def highlight_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[HighlightRow]:
    """One page of highlights, newest year first and in their order within a year."""
    query = _rows(levels).where(
        Highlight.deleted_at.is_not(None) if params.show_deleted else Highlight.deleted_at.is_(None)
    )
    if params.q:
        pattern = like_pattern(params.q.lower())
        query = query.where(
            sa.or_(
                sa.func.lower(Highlight.title).like(pattern, escape="\\"),
                sa.func.lower(Highlight.body).like(pattern, escape="\\"),
            )
        )
    if (year := params.filter_int("year")) is not None:
        query = query.where(Highlight.year == year)
    page = paginate(session, query.order_by(*ORDER), params, scalars=False)
    return Page([_row(r) for r in page.items], page.page, page.per_page, page.total)


def highlight_years(session: so.Session) -> list[int]:
    """Years that have live highlights, newest first (the list's filter)."""
    return list(
        session.scalars(
            sa.select(Highlight.year)
            .where(Highlight.deleted_at.is_(None))
            .group_by(Highlight.year)
            .order_by(Highlight.year.desc())
        )
    )


def highlight_row(
    session: so.Session, highlight_id: int, levels: Sequence[Confidentiality]
) -> HighlightRow | None:
    """One highlight (deleted ones too) with its author and visible subject."""
    row = session.execute(_rows(levels).where(Highlight.id == highlight_id)).first()
    return _row(row) if row is not None else None


def highlights_between(
    session: so.Session, start_year: int, end_year: int, levels: Sequence[Confidentiality]
) -> list[HighlightRow]:
    """The live highlights of some years, in report order: by year, then position."""
    rows = session.execute(
        _rows(levels)
        .where(Highlight.deleted_at.is_(None), Highlight.year.between(start_year, end_year))
        .order_by(Highlight.year, Highlight.position, Highlight.id)
    )
    return [_row(r) for r in rows]


def get_highlight(session: so.Session, highlight_id: int) -> Highlight | None:
    """The highlight record itself, for editing, deleting and restoring."""
    return session.get(Highlight, highlight_id)
