"""Read queries of the 360Giving export: grants with their host and programme, co-funders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import CoFunding, Confidentiality, Grant, Organisation, Programme

BATCH = 2_000

_LIVE = (Grant.deleted_at.is_(None),)


def export_rows(session: so.Session, levels: Sequence[Confidentiality]) -> Iterator[Any]:
    """Every live grant the levels allow, with its host and programme, by award date."""
    query = (
        sa.select(
            Grant.id,
            Grant.reference,
            Grant.title,
            Grant.summary,
            Grant.currency,
            Grant.amount_awarded,
            Grant.award_date,
            Grant.start_date,
            Grant.end_date,
            Grant.updated_at,
            Organisation.id.label("host_id"),
            Organisation.name.label("host_name"),
            Organisation.org_id.label("host_org_id"),
            Organisation.ror_id.label("host_ror_id"),
            Organisation.city.label("host_city"),
            Organisation.country.label("host_country"),
            Programme.name.label("programme"),
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .where(*_LIVE, Grant.confidentiality.in_(levels))
        .order_by(Grant.award_date, Grant.id)
        .execution_options(yield_per=BATCH)
    )
    yield from session.execute(query)


def co_funders(session: so.Session, levels: Sequence[Confidentiality]) -> dict[int, list[Any]]:
    """Grant id -> the organisations that co-fund it, for the grants the levels allow."""
    query = (
        sa.select(
            CoFunding.grant_id,
            Organisation.id,
            Organisation.name,
            Organisation.org_id,
            Organisation.ror_id,
            Organisation.city,
            Organisation.country,
        )
        .join(Organisation, Organisation.id == CoFunding.funder_organisation_id)
        .join(Grant, Grant.id == CoFunding.grant_id)
        .where(*_LIVE, Grant.confidentiality.in_(levels))
        .order_by(CoFunding.grant_id, Organisation.name, Organisation.id)
    )
    found: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        found[row.grant_id].append(row)
    return found


def organisation_name(session: so.Session, org_id: str) -> str | None:
    """The name of the organisation holding an org-id, if any."""
    return session.scalar(
        sa.select(Organisation.name).where(sa.func.upper(Organisation.org_id) == org_id.upper())
    )


def exportable_count(session: so.Session, levels: Sequence[Confidentiality]) -> int:
    """How many grants an export at these levels would hold."""
    query = sa.select(sa.func.count()).select_from(Grant)
    return session.scalar(query.where(*_LIVE, Grant.confidentiality.in_(levels))) or 0
