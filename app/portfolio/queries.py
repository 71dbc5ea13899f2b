"""Read queries for portfolio figures (aggregates in SQL, no ORM walks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import ClinicalTrial, Confidentiality, Grant, Output, TrialPhase


@dataclass(frozen=True)
class TrialSummary:
    output_id: int
    title: str
    acronym: str | None
    phase: TrialPhase
    start_year: int | None


@dataclass(frozen=True)
class PortfolioOverview:
    grant_count: int
    total_awarded_eur: Decimal
    first_award_year: int | None
    last_award_year: int | None
    output_count: int
    trial_count: int
    institution_count: int
    recent_trials: tuple[TrialSummary, ...]
    has_fictional_data: bool


def _live_grants(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))


def _live_outputs(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Output.deleted_at.is_(None), Output.confidentiality.in_(levels))


def portfolio_overview(
    session: so.Session, levels: Sequence[Confidentiality]
) -> PortfolioOverview:
    """Headline figures for the home page, restricted to the visible levels."""
    grant_row = session.execute(
        sa.select(
            sa.func.count(Grant.id),
            sa.func.sum(Grant.amount_eur),
            sa.func.min(Grant.award_date),
            sa.func.max(Grant.award_date),
            sa.func.count(sa.distinct(Grant.host_organisation_id)),
            sa.func.max(sa.cast(Grant.is_fictional, sa.Integer)),
        ).where(_live_grants(levels))
    ).one()
    output_count = session.scalar(sa.select(sa.func.count(Output.id)).where(_live_outputs(levels)))
    trials = session.execute(
        sa.select(
            Output.id, Output.title, ClinicalTrial.acronym, ClinicalTrial.phase,
            ClinicalTrial.start_date,
        )
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(_live_outputs(levels))
        .order_by(ClinicalTrial.start_date.desc().nulls_last(), Output.id.desc())
    ).all()
    return PortfolioOverview(
        grant_count=grant_row[0],
        total_awarded_eur=grant_row[1] or Decimal(0),
        first_award_year=grant_row[2].year if grant_row[2] else None,
        last_award_year=grant_row[3].year if grant_row[3] else None,
        output_count=output_count or 0,
        trial_count=len(trials),
        institution_count=grant_row[4],
        recent_trials=tuple(
            TrialSummary(t.id, t.title, t.acronym, t.phase,
                         t.start_date.year if t.start_date else None)
            for t in trials[:8]
        ),
        has_fictional_data=bool(grant_row[5]),
    )
