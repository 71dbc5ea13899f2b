"""Rows of the grant register for export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import Confidentiality, Grant, Organisation, Person, Programme

GRANT_COLUMNS = (
    "reference",
    "title",
    "institution",
    "country",
    "programme",
    "principal_investigator",
    "award_date",
    "start_date",
    "end_date",
    "amount",
    "currency",
    "amount_eur",
    "status",
    "confidentiality",
)


def grant_register_rows(
    session: so.Session, levels: Sequence[Confidentiality]
) -> Iterator[dict[str, Any]]:
    """Every live grant the levels allow, one plain dict per grant, by award date."""
    pi = so.aliased(Person)
    query = (
        sa.select(
            Grant.reference,
            Grant.title,
            Organisation.name.label("institution"),
            Organisation.country,
            Programme.name.label("programme"),
            (pi.given_names + " " + pi.family_name).label("principal_investigator"),
            Grant.award_date,
            Grant.start_date,
            Grant.end_date,
            Grant.amount_awarded,
            Grant.currency,
            Grant.amount_eur,
            Grant.status,
            Grant.confidentiality,
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .outerjoin(pi, pi.id == Grant.principal_investigator_id)
        .where(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))
        .order_by(Grant.award_date, Grant.reference)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(query):
        yield {
            "reference": row.reference,
            "title": row.title,
            "institution": row.institution,
            "country": row.country,
            "programme": row.programme or "",
            "principal_investigator": row.principal_investigator or "",
            "award_date": row.award_date.isoformat(),
            "start_date": row.start_date.isoformat() if row.start_date else "",
            "end_date": row.end_date.isoformat() if row.end_date else "",
            "amount": f"{row.amount_awarded:.2f}",
            "currency": row.currency,
            "amount_eur": "" if row.amount_eur is None else f"{row.amount_eur:.2f}",
            "status": row.status.value,
            "confidentiality": row.confidentiality.value,
        }
