"""Read queries for the home page: the portfolio's headline figures, kept while they hold.

The figures are those of ``app.portfolio.queries.portfolio_overview`` (one definition of a
counted grant: ``app.portfolio.definitions``), read in three parts so that each is kept
(app/records/cache.py) until the table under it changes: an edited output does not make
the grant totals (100,000 grants summed, 80 ms) be read again, nor the reverse. The trials
are few and read each time, from the trials' side (a few hundred rows, not every output).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import ClinicalTrial, Confidentiality, Grant, Output
from app.portfolio.definitions import counted_grant
from app.portfolio.queries import PortfolioOverview, TrialSummary
from app.records.cache import cached_read
from app.records.listing import OrderedJoin
from app.visibility import ALL_LEVELS

RECENT_TRIALS = 8


@dataclass(frozen=True)
class GrantFigures:
    """Shared between requests (cached): never changed in place."""

    count: int
    total_eur: Decimal
    first_award: date | None
    last_award: date | None
    institutions: int
    fictional: bool


def _level_in(
    column: so.Mapped[Confidentiality] | sa.ColumnElement[Confidentiality],
    levels: Sequence[Confidentiality],
) -> list[sa.ColumnElement[bool]]:
    # Staff see every level: no test at all, so that counts can read an index alone.
    return [] if set(levels) >= set(ALL_LEVELS) else [column.in_(levels)]


def _grant_figures(session: so.Session, levels: Sequence[Confidentiality]) -> GrantFigures:
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(Grant.amount_eur),
            sa.func.min(Grant.award_date),
            sa.func.max(Grant.award_date),
            sa.func.count(sa.distinct(Grant.host_organisation_id)),
            sa.func.max(sa.cast(Grant.is_fictional, sa.Integer)),
        ).where(counted_grant(), *_level_in(Grant.confidentiality, levels))
    ).one()
    return GrantFigures(row[0], row[1] or Decimal(0), row[2], row[3], row[4], bool(row[5]))


def _live_outputs(levels: Sequence[Confidentiality]) -> list[sa.ColumnElement[bool]]:
    return [Output.deleted_at.is_(None), *_level_in(Output.confidentiality, levels)]


def _trials(
    session: so.Session, levels: Sequence[Confidentiality]
) -> tuple[int, tuple[TrialSummary, ...]]:
    """How many trials the user may see, and the latest started."""
    # Trials first, each output found by its key: SQLite would otherwise read every output.
    trials = OrderedJoin(
        ClinicalTrial.__table__, Output.__table__, Output.id == ClinicalTrial.output_id
    )
    visible = _live_outputs(levels)
    count = session.scalar(sa.select(sa.func.count()).select_from(trials).where(*visible))
    rows = session.execute(
        sa.select(
            Output.id,
            Output.title,
            ClinicalTrial.acronym,
            ClinicalTrial.phase,
            ClinicalTrial.start_date,
        )
        .select_from(trials)
        .where(*visible)
        .order_by(ClinicalTrial.start_date.desc().nulls_last(), Output.id.desc())
        .limit(RECENT_TRIALS)
    )
    recent = tuple(
        TrialSummary(t.id, t.title, t.acronym, t.phase, t.start_date.year if t.start_date else None)
        for t in rows
    )
    return count or 0, recent


def overview(session: so.Session, levels: Sequence[Confidentiality]) -> PortfolioOverview:
    """Headline figures for the home page, restricted to the visible levels."""
    key = tuple(levels)
    grants = cached_read(
        session, ("grants",), ("home grants", key), lambda: _grant_figures(session, levels)
    )
    count = sa.select(sa.func.count()).select_from(Output).where(*_live_outputs(levels))
    outputs = cached_read(
        session, ("outputs",), ("home outputs", key), lambda: session.scalar(count) or 0
    )
    trial_count, recent = _trials(session, levels)
    return PortfolioOverview(
        grant_count=grants.count,
        total_awarded_eur=grants.total_eur,
        first_award_year=grants.first_award.year if grants.first_award else None,
        last_award_year=grants.last_award.year if grants.last_award else None,
        output_count=outputs,
        trial_count=trial_count,
        institution_count=grants.institutions,
        recent_trials=recent,
        has_fictional_data=grants.fictional,
    )
