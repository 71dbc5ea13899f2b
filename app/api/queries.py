"""Read queries the API needs beyond those of the pages (which it calls, not copies)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import InvalidIdentifier, parse_trial_registry_id
from app.lineage.queries import RegistryId, registry_ids
from app.models import (
    ApiToken,
    ClinicalTrial,
    Confidentiality,
    DatePrecision,
    Grant,
    Organisation,
    Output,
    Role,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
    User,
)
from app.records.listing import ListParams, Page, like_pattern, paginate

from .tokens import status

TRIAL_FILTERS = ("phase", "status")
TRIAL_SORTS = {
    "start_date": ClinicalTrial.start_date,
    "title": Output.title,
    "phase": ClinicalTrial.phase,
}
TRIAL_DEFAULT_SORT = "start_date"


# --------------------------------------------------------------------------- tokens


def token_by_hash(session: so.Session, digest: str) -> ApiToken | None:
    """The token with this SHA-256, with its owner."""
    return session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == digest)
        .options(so.joinedload(ApiToken.owner))
    )


def get_token(session: so.Session, token_id: int) -> ApiToken | None:
    """One token, with its owner."""
    return session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id).options(so.joinedload(ApiToken.owner))
    )


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    owner_email: str
    owner_role: Role
    issued_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str


def token_list(session: so.Session, now: datetime) -> list[TokenRow]:
    """Every token ever issued, usable ones first, newest first."""
    tokens = session.scalars(
        sa.select(ApiToken)
        .options(so.joinedload(ApiToken.owner), so.joinedload(ApiToken.created_by))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    rows = [
        TokenRow(
            t.id,
            t.name,
            t.prefix,
            t.owner.email,
            t.owner.role,
            t.created_by.email if t.created_by else None,
            t.created_at,
            t.last_used_at,
            t.expires_at,
            t.revoked_at,
            status(t, now),
        )
        for t in tokens
    ]
    # A stable sort: usable tokens first, each group still newest first.
    return sorted(rows, key=lambda r: r.status != "active")


def owner_choices(session: so.Session) -> list[tuple[int, str]]:
    """Active users a token may act as: (id, "email (Role)")."""
    return [
        (row.id, f"{row.email} ({row.role.label})")
        for row in session.execute(
            sa.select(User.id, User.email, User.role)
            .where(User.is_active.is_(True))
            .order_by(User.email)
        )
    ]


# --------------------------------------------------------------------------- grants


def grant_id_by_reference(
    session: so.Session, reference: str, levels: Sequence[Confidentiality]
) -> int | None:
    """The id of the live grant with this reference, if the caller may see it."""
    return session.scalar(
        sa.select(Grant.id).where(
            Grant.reference == reference,
            Grant.deleted_at.is_(None),
            Grant.confidentiality.in_(levels),
        )
    )


def fictional_grant_ids(session: so.Session, grant_ids: Collection[int]) -> set[int]:
    """Which of these grants are invented demo records."""
    if not grant_ids:
        return set()
    return set(
        session.scalars(
            sa.select(Grant.id).where(Grant.id.in_(list(grant_ids)), Grant.is_fictional.is_(True))
        )
    )


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class OutputDates:
    date: date | None
    precision: DatePrecision
    is_fictional: bool


def output_dates(session: so.Session, output_ids: Collection[int]) -> dict[int, OutputDates]:
    """Machine-readable dates (the list rows carry labels) and the fiction flag of outputs."""
    if not output_ids:
        return {}
    rows = session.execute(
        sa.select(Output.id, Output.output_date, Output.date_precision, Output.is_fictional).where(
            Output.id.in_(list(output_ids))
        )
    )
    return {r.id: OutputDates(r.output_date, r.date_precision, r.is_fictional) for r in rows}


# --------------------------------------------------------------------------- trials


@dataclass(frozen=True)
class TrialRow:
    id: int
    title: str
    acronym: str | None
    phase: TrialPhase
    status: TrialStatus
    registry_ids: list[RegistryId]
    enrolment_planned: int | None
    enrolment_actual: int | None
    condition: str | None
    intervention: str | None
    sponsor: str | None
    start_date: date | None
    first_patient_date: date | None
    completion_date: date | None
    confidentiality: Confidentiality
    is_fictional: bool


def _trial_search(text: str) -> sa.ColumnElement[bool]:
    """Title or acronym words, or an exact trial registry id."""
    pattern = like_pattern(text.lower())
    conditions: list[sa.ColumnElement[bool]] = [
        sa.func.lower(Output.title).like(pattern, escape="\\"),
        sa.func.lower(ClinicalTrial.acronym).like(pattern, escape="\\"),
    ]
    try:
        scheme, value = parse_trial_registry_id(text)
    except InvalidIdentifier:
        pass
    else:
        conditions.append(
            Output.id.in_(
                sa.select(TrialRegistryId.trial_output_id).where(
                    TrialRegistryId.scheme == TrialRegistry(scheme),
                    TrialRegistryId.value == value,
                )
            )
        )
    return sa.or_(*conditions)


def trial_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[TrialRow]:
    """One page of the live clinical-trial outputs the caller may see (three queries)."""
    sponsor = so.aliased(Organisation)
    query = (
        sa.select(
            Output.id,
            Output.title,
            Output.confidentiality,
            Output.is_fictional,
            ClinicalTrial.acronym,
            ClinicalTrial.phase,
            ClinicalTrial.status,
            ClinicalTrial.enrolment_planned,
            ClinicalTrial.enrolment_actual,
            ClinicalTrial.condition,
            ClinicalTrial.intervention,
            sponsor.name.label("sponsor"),
            ClinicalTrial.start_date,
            ClinicalTrial.first_patient_date,
            ClinicalTrial.completion_date,
        )
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .outerjoin(sponsor, sponsor.id == ClinicalTrial.sponsor_organisation_id)
        .where(Output.deleted_at.is_(None), Output.confidentiality.in_(levels))
    )
    if params.q:
        query = query.where(_trial_search(params.q))
    if (phase := params.filters.get("phase")) is not None:
        query = query.where(ClinicalTrial.phase == TrialPhase(phase))
    if (trial_status := params.filters.get("status")) is not None:
        query = query.where(ClinicalTrial.status == TrialStatus(trial_status))
    column = TRIAL_SORTS[params.sort]
    order = column.desc() if params.descending else column.asc()
    query = query.order_by(order.nulls_last(), Output.id.desc() if params.descending else Output.id)
    page = paginate(session, query, params, scalars=False)
    registry = registry_ids(session, [r.id for r in page.items])
    return Page(
        items=[
            TrialRow(
                r.id,
                r.title,
                r.acronym,
                r.phase,
                r.status,
                registry.get(r.id, []),
                r.enrolment_planned,
                r.enrolment_actual,
                r.condition,
                r.intervention,
                r.sponsor,
                r.start_date,
                r.first_patient_date,
                r.completion_date,
                r.confidentiality,
                r.is_fictional,
            )
            for r in page.items
        ],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )
