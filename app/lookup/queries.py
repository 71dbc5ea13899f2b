"""Small, indexed searches returning (id, label) pairs for pickers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import Confidentiality, Grant, Organisation, Output, Person
from app.records.listing import like_pattern

LIMIT = 15


@dataclass(frozen=True)
class Option:
    id: int
    label: str


def _ilike(
    column: sa.ColumnElement[str] | so.QueryableAttribute[str], text: str
) -> sa.ColumnElement[bool]:
    return sa.func.lower(column).like(like_pattern(text.lower()), escape="\\")


def organisations(
    session: so.Session, text: str, levels: Sequence[Confidentiality]
) -> list[Option]:
    rows = session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.country)
        .where(Organisation.deleted_at.is_(None), _ilike(Organisation.name, text))
        .order_by(Organisation.name)
        .limit(LIMIT)
    )
    return [Option(r.id, f"{r.name} ({r.country})") for r in rows]


def people(session: so.Session, text: str, levels: Sequence[Confidentiality]) -> list[Option]:
    full_name = Person.given_names + " " + Person.family_name
    rows = session.execute(
        sa.select(Person.id, full_name.label("name"), Person.orcid)
        .where(
            Person.deleted_at.is_(None),
            sa.or_(
                _ilike(full_name, text),
                _ilike(Person.family_name, text),
                Person.orcid == text.strip(),
            ),
        )
        .order_by(Person.family_name, Person.given_names)
        .limit(LIMIT)
    )
    return [Option(r.id, r.name + (f" · {r.orcid}" if r.orcid else "")) for r in rows]


def grants(session: so.Session, text: str, levels: Sequence[Confidentiality]) -> list[Option]:
    rows = session.execute(
        sa.select(Grant.id, Grant.reference, Grant.title)
        .where(
            Grant.deleted_at.is_(None),
            Grant.confidentiality.in_(levels),
            sa.or_(_ilike(Grant.reference, text), _ilike(Grant.title, text)),
        )
        .order_by(Grant.reference)
        .limit(LIMIT)
    )
    return [Option(r.id, f"{r.reference} · {r.title}") for r in rows]


def outputs(session: so.Session, text: str, levels: Sequence[Confidentiality]) -> list[Option]:
    condition = _ilike(Output.title, text)
    if text.strip().isdigit():
        condition = sa.or_(condition, Output.id == int(text.strip()))
    rows = session.execute(
        sa.select(Output.id, Output.title, Output.type, Output.output_date)
        .where(Output.deleted_at.is_(None), Output.confidentiality.in_(levels), condition)
        .order_by(Output.output_date.desc().nulls_last())
        .limit(LIMIT)
    )
    return [
        Option(
            r.id,
            f"#{r.id} {r.title} ({r.type.label}"
            + (f", {r.output_date.year})" if r.output_date else ")"),
        )
        for r in rows
    ]


SEARCHES: dict[str, Callable[[so.Session, str, Sequence[Confidentiality]], list[Option]]] = {
    "organisations": organisations,
    "people": people,
    "grants": grants,
    "outputs": outputs,
}


def label_for(session: so.Session, kind: str, record_id: int | None) -> str:
    """The label a picker shows for an already chosen record."""
    if record_id is None:
        return ""
    models: dict[str, type[Organisation | Person | Grant | Output]] = {
        "organisations": Organisation,
        "people": Person,
        "grants": Grant,
        "outputs": Output,
    }
    record = session.get(models[kind], record_id)
    if record is None:
        return ""
    if isinstance(record, Organisation):
        return f"{record.name} ({record.country})"
    if isinstance(record, Person):
        return record.name
    if isinstance(record, Grant):
        return f"{record.reference} · {record.title}"
    assert isinstance(record, Output)
    return f"#{record.id} {record.title}"
