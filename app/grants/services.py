"""Domain writes for grants: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.currency import RateTable
from app.models import (
    AuditAction,
    CoFunding,
    Confidentiality,
    Grant,
    GrantRelation,
    GrantStatus,
    Organisation,
    Payment,
    Person,
    Programme,
    ResearchArea,
    utcnow,
)
from app.records.changes import snapshot
from app.records.errors import FieldErrors
from app.records.services import audit_create, check_version, restore, soft_delete, update_fields


@dataclass
class GrantData:
    """What a user or an import supplies for a grant."""

    reference: str
    title: str
    host_organisation_id: int | None
    status: GrantStatus
    award_date: date | None
    amount_awarded: Decimal | None
    currency: str
    summary: str | None = None
    programme_id: int | None = None
    principal_investigator_id: int | None = None
    area_ids: list[int] = field(default_factory=list)
    start_date: date | None = None
    end_date: date | None = None
    previous_grant_id: int | None = None
    relation_to_previous: GrantRelation | None = None
    confidentiality: Confidentiality = Confidentiality.PUBLIC
    outcome_report_due: date | None = None
    outcome_report_received: date | None = None


def known_currencies(session: so.Session) -> list[str]:
    """EUR and every currency with a rate."""
    rates = RateTable.load(session)
    return ["EUR", *sorted(set(rates.fixed) | set(rates.dated))]


def _validate(session: so.Session, data: GrantData, grant: Grant | None) -> None:
    errors: dict[str, str] = {}
    reference = data.reference.strip()
    clash = session.scalar(sa.select(Grant.id).where(Grant.reference == reference))
    if clash is not None and (grant is None or clash != grant.id):
        errors["reference"] = f"Grant reference {reference} is already used."
    if (
        data.host_organisation_id is None
        or session.get(Organisation, data.host_organisation_id) is None
    ):
        errors["host_label"] = "Choose the host institution from the list."
    if (
        data.principal_investigator_id is not None
        and session.get(Person, data.principal_investigator_id) is None
    ):
        errors["pi_label"] = "Choose the principal investigator from the list."
    if data.programme_id is not None and session.get(Programme, data.programme_id) is None:
        errors["programme_id"] = "Unknown programme."
    if data.amount_awarded is not None:
        if data.amount_awarded < 0:
            errors["amount_awarded"] = "The amount cannot be negative."
        elif data.amount_awarded != data.amount_awarded.quantize(Decimal("0.01")):
            errors["amount_awarded"] = "Use at most two decimals."
    # A grant keeps the currency it came with (a 360Giving import in pounds, say)
    # even without a euro rate; its euro amount then stays empty.
    kept = grant is not None and data.currency == grant.currency
    if not kept and data.currency not in known_currencies(session):
        errors["currency"] = f"No exchange rate is known for {data.currency}."
    if data.start_date and data.end_date and data.end_date < data.start_date:
        errors["end_date"] = "The end date is before the start date."
    if data.previous_grant_id is not None:
        if grant is not None and data.previous_grant_id == grant.id:
            errors["previous_label"] = "A grant cannot continue itself."
        elif session.get(Grant, data.previous_grant_id) is None:
            errors["previous_label"] = "Choose the earlier grant from the list."
        elif grant is not None and _continues(session, data.previous_grant_id, grant.id):
            errors["previous_label"] = "That grant already continues this one."
        if data.relation_to_previous is None:
            errors["relation_to_previous"] = "Say how this grant relates to the earlier one."
    elif data.relation_to_previous is not None:
        errors["previous_label"] = "Choose the earlier grant, or clear the relation."
    if errors:
        raise FieldErrors(errors)


def _continues(session: so.Session, grant_id: int, ancestor_id: int) -> bool:
    """True if grant_id descends from ancestor_id through previous_grant_id."""
    chain = (
        sa.select(Grant.id, Grant.previous_grant_id)
        .where(Grant.id == grant_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union(
        sa.select(Grant.id, Grant.previous_grant_id).join(
            chain, Grant.id == chain.c.previous_grant_id
        )
    )
    return bool(session.scalar(sa.select(sa.func.count()).where(chain.c.id == ancestor_id)))


def _values(session: so.Session, data: GrantData) -> dict[str, Any]:
    amount_eur = None
    if data.amount_awarded is not None and data.award_date is not None:
        amount_eur = RateTable.load(session).to_eur(
            data.amount_awarded, data.currency, data.award_date
        )
    return {
        "reference": data.reference.strip(),
        "title": data.title.strip(),
        "summary": (data.summary or "").strip() or None,
        "programme_id": data.programme_id,
        "host_organisation_id": data.host_organisation_id,
        "principal_investigator_id": data.principal_investigator_id,
        "status": data.status,
        "award_date": data.award_date,
        "start_date": data.start_date,
        "end_date": data.end_date,
        "amount_awarded": data.amount_awarded,
        "currency": data.currency,
        "amount_eur": amount_eur,
        "previous_grant_id": data.previous_grant_id,
        "relation_to_previous": data.relation_to_previous,
        "confidentiality": data.confidentiality,
        "outcome_report_due": data.outcome_report_due,
        "outcome_report_received": data.outcome_report_received,
    }


def _set_areas(session: so.Session, grant: Grant, area_ids: list[int]) -> dict[str, list[Any]]:
    before = sorted(a.name for a in grant.areas)
    areas = list(session.scalars(sa.select(ResearchArea).where(ResearchArea.id.in_(area_ids))))
    grant.areas = areas
    after = sorted(a.name for a in areas)
    return {} if before == after else {"areas": [", ".join(before), ", ".join(after)]}


def create_grant(session: so.Session, data: GrantData) -> Grant:
    """Create a grant after checking the domain rules."""
    _validate(session, data, None)
    grant = Grant(**_values(session, data))
    session.add(grant)
    _set_areas(session, grant, data.area_ids)
    audit_create(session, grant, f"Grant {grant.reference} created")
    return grant


def update_grant(
    session: so.Session, grant: Grant, data: GrantData, version: int | None
) -> dict[str, list[Any]]:
    """Apply an edit made on the given version; refuse it if the grant changed since."""
    check_version(session, grant, version, f"Grant {grant.reference}")
    _validate(session, data, grant)
    area_change = _set_areas(session, grant, data.area_ids)
    changes = update_fields(
        session, grant, _values(session, data), f"Grant {data.reference} edited"
    )
    if area_change and not changes:
        # Only the tags changed: still bump the version and audit.
        grant.updated_at = utcnow()
        session.flush()
        record(
            session,
            AuditAction.UPDATE,
            entity=grant,
            summary=f"Grant {grant.reference} edited",
            changes=area_change,
        )
    elif area_change:
        session.flush()
    return {**changes, **area_change}


def delete_grant(session: so.Session, grant: Grant) -> None:
    """Soft-delete a grant (restorable from its page or history)."""
    soft_delete(session, grant, f"Grant {grant.reference} deleted")


def restore_grant(session: so.Session, grant: Grant) -> None:
    """Restore a soft-deleted grant."""
    restore(session, grant, f"Grant {grant.reference} restored")


def add_payment(
    session: so.Session,
    grant: Grant,
    due_date: date,
    amount: Decimal | None,
    paid_date: date | None = None,
    note: str | None = None,
) -> Payment:
    """Add an instalment to a grant, in the grant's currency."""
    if amount is None:
        raise FieldErrors({"amount": "Enter the amount of the instalment."})
    if amount < 0:
        raise FieldErrors({"amount": "The amount cannot be negative."})
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldErrors({"amount": "Use at most two decimals."})
    payment = Payment(
        grant=grant,
        due_date=due_date,
        paid_date=paid_date,
        amount=amount,
        currency=grant.currency,
        note=(note or "").strip() or None,
        amount_eur=RateTable.load(session).to_eur(amount, grant.currency, due_date),
    )
    session.add(payment)
    audit_create(
        session, payment, f"Payment of {amount} {grant.currency} on grant {grant.reference}"
    )
    return payment


def delete_payment(session: so.Session, payment: Payment) -> None:
    """Remove an instalment; the audit event keeps the whole record for restoring."""
    record(
        session,
        AuditAction.DELETE,
        entity=payment,
        summary=f"Payment of {payment.amount} {payment.currency} removed from grant "
        f"{payment.grant.reference}",
        changes={key: [value, None] for key, value in snapshot(payment).items()},
    )
    payment.grant.payments.remove(payment)  # delete-orphan: also leaves the loaded list right
    session.flush()


def add_co_funding(
    session: so.Session, grant: Grant, funder_id: int | None, amount: Decimal | None, currency: str
) -> CoFunding:
    """Record that another funder put money into the grant."""
    funder = session.get(Organisation, funder_id) if funder_id else None
    if funder is None:
        raise FieldErrors({"funder_label": "Choose the co-funder from the list."})
    if any(c.funder_organisation_id == funder.id for c in grant.co_fundings):
        raise FieldErrors({"funder_label": f"{funder.name} already co-funds this grant."})
    if currency not in known_currencies(session):
        raise FieldErrors({"currency": f"No exchange rate is known for {currency}."})
    if amount is not None and amount < 0:
        raise FieldErrors({"amount": "The amount cannot be negative."})
    co = CoFunding(
        grant=grant,
        funder=funder,
        amount=amount,
        currency=currency,
        amount_eur=RateTable.load(session).to_eur(amount, currency, grant.award_date),
    )
    session.add(co)
    audit_create(session, co, f"{funder.name} co-funds grant {grant.reference}")
    return co


def delete_co_funding(session: so.Session, co: CoFunding) -> None:
    """Remove a co-funding record, keeping it whole in the audit trail."""
    record(
        session,
        AuditAction.DELETE,
        entity=co,
        summary=f"Co-funding by {co.funder.name} removed from grant {co.grant.reference}",
        changes={key: [value, None] for key, value in snapshot(co).items()},
    )
    co.grant.co_fundings.remove(co)
    session.flush()
