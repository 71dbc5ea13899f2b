"""What each figure counts: the one definition, shared by /portfolio and the reports.

The SQL conditions below (:func:`counted_grant`,
:func:`awarded_between`, :func:`grant_active_between`, :func:`trial_start`,
:func:`trial_active_between`, :func:`output_dated_between`) are the one
definition of each figure, shared by the portfolio figures
(``app.portfolio.queries``) and the annual report (``reports.annual_data``),
so the /portfolio page and the report agree; the report's method notes state
them in words:

- A grant *counts* unless it is deleted or withdrawn: a withdrawn award was
  never made, so it is left out of every figure.
- A grant is *awarded in the period* when its award date falls in it.
- A grant is *active in the period* when it started (else was awarded) before
  the period ended and ended after it began; a grant without an end date is
  active only while its status is awarded or active.
- A clinical trial *began* on its start date, else on its first patient's
  date, else on its output's date. It is *active in the period* when it began
  by the period's end and either its status says it is still running, or it
  was completed within or after the period, or (no completion date recorded,
  and stopped) it began within the period.
- An output *appeared in the period* when its date falls in it.
- Euro figures are sums of the grants' stored euro equivalents; amounts whose
  euro equivalent is unknown are counted but not summed.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.models import ClinicalTrial, Grant, GrantStatus, Output, TrialStatus

# Trial statuses that mean "still running" whatever the dates say.
ONGOING_TRIAL = (
    TrialStatus.NOT_YET_RECRUITING,
    TrialStatus.RECRUITING,
    TrialStatus.ENROLLING_BY_INVITATION,
    TrialStatus.ACTIVE_NOT_RECRUITING,
    TrialStatus.SUSPENDED,
)
# Grant statuses that mean running when no end date is known.
ONGOING_GRANT = (GrantStatus.AWARDED, GrantStatus.ACTIVE)


def counted_grant() -> sa.ColumnElement[bool]:
    """Grants that count in every figure: not deleted and not withdrawn."""
    return sa.and_(Grant.deleted_at.is_(None), Grant.status != GrantStatus.WITHDRAWN)


def awarded_between(first: date, last: date) -> sa.ColumnElement[bool]:
    """Grants awarded from ``first`` to ``last`` inclusive (a range the award-date index serves)."""
    return sa.and_(Grant.award_date >= first, Grant.award_date < last + timedelta(days=1))


def grant_active_between(first: date, last: date) -> sa.ColumnElement[bool]:
    """Grants running at some time from ``first`` to ``last`` (see the module docstring)."""
    started = sa.func.coalesce(Grant.start_date, Grant.award_date) <= last
    not_ended = sa.or_(
        Grant.end_date >= first,
        sa.and_(Grant.end_date.is_(None), Grant.status.in_(ONGOING_GRANT)),
    )
    return sa.and_(started, not_ended)


def trial_start() -> sa.ColumnElement[date]:
    """When a trial began: start date, else first patient, else its output's date (needs Output)."""
    return sa.func.coalesce(
        ClinicalTrial.start_date, ClinicalTrial.first_patient_date, Output.output_date
    )


def trial_active_between(first: date, last: date) -> sa.ColumnElement[bool]:
    """Trials running at some time from ``first`` to ``last`` (see the module docstring).

    A condition on ClinicalTrial and its Output: join them (or correlate an
    EXISTS on Output) where it is used.
    """
    began = trial_start()
    return sa.and_(
        began <= last,
        sa.or_(
            ClinicalTrial.status.in_(ONGOING_TRIAL),
            ClinicalTrial.completion_date >= first,
            # Stopped without a recorded end: it certainly ran when it began.
            sa.and_(ClinicalTrial.completion_date.is_(None), began >= first),
        ),
    )


def output_dated_between(first: date, last: date) -> sa.ColumnElement[bool]:
    """Outputs that appeared from ``first`` to ``last`` inclusive."""
    return sa.and_(Output.output_date >= first, Output.output_date < last + timedelta(days=1))
