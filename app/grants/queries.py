"""Read queries for grant pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import (
    Attribution,
    ClinicalTrial,
    CoFunding,
    Confidentiality,
    FundAllocation,
    Grant,
    GrantInvestigator,
    GrantStatus,
    Organisation,
    Output,
    Programme,
    ResearchArea,
    grant_areas,
)
from app.records.listing import ListParams, Page, like_pattern, paginate

FILTERS = ("year", "programme", "area", "status", "institution")
SORTS = {
    "award_date": Grant.award_date,
    "reference": Grant.reference,
    "title": Grant.title,
    "institution": Organisation.name,
    "amount_eur": Grant.amount_eur,
    "status": Grant.status,
}
DEFAULT_SORT = "award_date"


@dataclass(frozen=True)
class GrantRow:
    id: int
    reference: str
    title: str
    institution: str
    programme: str | None
    award_date: date
    amount_awarded: Decimal
    currency: str
    amount_eur: Decimal | None
    status: GrantStatus
    confidentiality: Confidentiality
    deleted: bool


@dataclass(frozen=True)
class FilterChoices:
    years: list[int]
    programmes: list[tuple[int, str]]
    areas: list[tuple[int, str]]


def grant_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[GrantRow]:
    """One page of the grant register, filtered and sorted as asked."""
    query = (
        sa.select(
            Grant.id,
            Grant.reference,
            Grant.title,
            Organisation.name.label("institution"),
            Programme.name.label("programme"),
            Grant.award_date,
            Grant.amount_awarded,
            Grant.currency,
            Grant.amount_eur,
            Grant.status,
            Grant.confidentiality,
            Grant.deleted_at,
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .where(Grant.confidentiality.in_(levels))
    )
    query = query.where(
        Grant.deleted_at.is_not(None) if params.show_deleted else Grant.deleted_at.is_(None)
    )
    if params.q:
        pattern = like_pattern(params.q.lower())
        query = query.where(
            sa.or_(
                sa.func.lower(Grant.title).like(pattern, escape="\\"),
                sa.func.lower(Grant.reference).like(pattern, escape="\\"),
            )
        )
    if (year := params.filter_int("year")) is not None:
        query = query.where(
            Grant.award_date >= date(year, 1, 1), Grant.award_date < date(year + 1, 1, 1)
        )
    if (programme := params.filter_int("programme")) is not None:
        query = query.where(Grant.programme_id == programme)
    if (institution := params.filter_int("institution")) is not None:
        query = query.where(Grant.host_organisation_id == institution)
    if (area := params.filter_int("area")) is not None:
        query = query.where(
            Grant.id.in_(
                sa.select(grant_areas.c.grant_id).where(grant_areas.c.research_area_id == area)
            )
        )
    if params.filters.get("status") in GrantStatus.__members__.values():
        query = query.where(Grant.status == params.filters["status"])
    column = SORTS[params.sort]
    order = column.desc() if params.descending else column.asc()
    query = query.order_by(order.nulls_last(), Grant.id.desc() if params.descending else Grant.id)
    page = paginate(session, query, params, scalars=False)
    return Page(
        items=[
            GrantRow(
                r.id,
                r.reference,
                r.title,
                r.institution,
                r.programme,
                r.award_date,
                r.amount_awarded,
                r.currency,
                r.amount_eur,
                r.status,
                r.confidentiality,
                r.deleted_at is not None,
            )
            for r in page.items
        ],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def filter_choices(session: so.Session) -> FilterChoices:
    """Options for the list filters."""
    year = sa.extract("year", Grant.award_date)
    years = [
        int(y)
        for y in session.scalars(
            sa.select(year).where(Grant.deleted_at.is_(None)).group_by(year).order_by(year.desc())
        )
    ]
    programmes = [
        (p.id, p.name)
        for p in session.execute(
            sa.select(Programme.id, Programme.name)
            .where(Programme.deleted_at.is_(None))
            .order_by(Programme.year.desc().nulls_last(), Programme.name)
        )
    ]
    areas = [
        (a.id, a.name)
        for a in session.execute(
            sa.select(ResearchArea.id, ResearchArea.name).order_by(ResearchArea.name)
        )
    ]
    return FilterChoices(years, programmes, areas)


def get_grant(
    session: so.Session, grant_id: int, levels: Sequence[Confidentiality]
) -> Grant | None:
    """A grant with what its page shows, loaded up front (no lazy loads in templates)."""
    return session.scalar(
        sa.select(Grant)
        .where(Grant.id == grant_id, Grant.confidentiality.in_(levels))
        .options(
            so.joinedload(Grant.host),
            so.joinedload(Grant.programme),
            so.joinedload(Grant.principal_investigator),
            so.joinedload(Grant.previous_grant),
            so.selectinload(Grant.areas),
            so.selectinload(Grant.payments),
            so.selectinload(Grant.investigators).joinedload(GrantInvestigator.person),
            so.selectinload(Grant.co_fundings).joinedload(CoFunding.funder),
            so.selectinload(Grant.fund_allocations).joinedload(FundAllocation.fund),
            so.selectinload(Grant.continuations),
        )
    )


@dataclass(frozen=True)
class AttributedOutput:
    output_id: int
    title: str
    type_label: str
    year: int | None
    share: Decimal | None
    evidence_label: str
    confirmed: bool
    is_trial: bool


def attributed_outputs(
    session: so.Session, grant_id: int, levels: Sequence[Confidentiality]
) -> list[AttributedOutput]:
    """Outputs this grant is credited with, newest first."""
    rows = session.execute(
        sa.select(
            Output.id,
            Output.title,
            Output.type,
            Output.output_date,
            Attribution.share,
            Attribution.evidence,
            Attribution.confirmed_by_id,
            ClinicalTrial.output_id.label("trial_id"),
        )
        .join(Attribution, Attribution.output_id == Output.id)
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(
            Attribution.grant_id == grant_id,
            Output.deleted_at.is_(None),
            Output.confidentiality.in_(levels),
        )
        .order_by(Output.output_date.desc().nulls_last(), Output.id)
    )
    return [
        AttributedOutput(
            r.id,
            r.title,
            r.type.label,
            r.output_date.year if r.output_date else None,
            r.share,
            r.evidence.label,
            r.confirmed_by_id is not None,
            r.trial_id is not None,
        )
        for r in rows
    ]
