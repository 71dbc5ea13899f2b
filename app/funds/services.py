"""Domain writes for funds, donors, donations and allocations: validate, set, flush, audit.

Never commit. Audit summaries never contain a donor's name: the history pages are
read by trustees, who must not learn who an anonymous donor is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import RateTable
from app.grants.services import known_currencies
from app.models import Donation, Donor, DonorKind, Fund, FundAllocation, Grant
from app.records.errors import FieldErrors
from app.records.services import (
    RecordLifecycle,
    audit_create,
    check_version,
    hard_delete,
    update_fields,
)

CENT = Decimal("0.01")


def _amount_error(amount: Decimal | None, *, positive: bool) -> str | None:
    if amount is None:
        return "Enter the amount."
    if positive and amount <= 0:
        return "The amount must be more than zero."
    if amount < 0:
        return "The amount cannot be negative."
    if amount != amount.quantize(CENT):
        return "Use at most two decimals."
    return None


# Funds -------------------------------------------------------------------------------


@dataclass
class FundData:
    """What a user supplies for a fund."""

    name: str
    is_restricted: bool = False
    purpose: str | None = None


def _validate_fund(session: so.Session, data: FundData, fund: Fund | None) -> dict[str, Any]:
    name = data.name.strip()
    clash = session.scalar(sa.select(Fund.id).where(sa.func.lower(Fund.name) == name.lower()))
    if clash is not None and (fund is None or clash != fund.id):
        raise FieldErrors({"name": f"A fund called {name} already exists (perhaps deleted)."})
    return {
        "name": name,
        "is_restricted": data.is_restricted,
        "purpose": (data.purpose or "").strip() or None,
    }


FUNDS = RecordLifecycle(Fund, _validate_fund, lambda fund: f"Fund {fund.name}")
create_fund, update_fund = FUNDS.create, FUNDS.update
delete_fund, restore_fund = FUNDS.delete, FUNDS.restore


# Donors ------------------------------------------------------------------------------


@dataclass
class DonorData:
    """What a user supplies for a donor."""

    name: str
    kind: DonorKind
    is_anonymous: bool = False


def _donor_values(session: so.Session, data: DonorData, donor: Donor | None) -> dict[str, Any]:
    name = data.name.strip()
    if not name:
        raise FieldErrors({"name": "Enter the donor's name (kept from trustees if anonymous)."})
    return {"name": name, "kind": data.kind, "is_anonymous": data.is_anonymous}


# Donors are named by number: an anonymous donor's name must not reach the audit log.
DONORS = RecordLifecycle(Donor, _donor_values, lambda donor: f"Donor #{donor.id}")
create_donor, update_donor = DONORS.create, DONORS.update
delete_donor, restore_donor = DONORS.delete, DONORS.restore


# Donations ---------------------------------------------------------------------------


@dataclass
class DonationData:
    """What a user or an import supplies for a donation."""

    donor_id: int | None
    fund_id: int | None
    received_on: date | None
    amount: Decimal | None
    currency: str
    reference: str | None = None


def _donation_values(
    session: so.Session, data: DonationData, donation: Donation | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    donor = session.get(Donor, data.donor_id) if data.donor_id else None
    # A deleted donor or fund may stay on an existing donation but takes no new ones.
    if donor is None or (donor.is_deleted and (donation is None or donation.donor_id != donor.id)):
        errors["donor_label"] = "Choose the donor from the list."
    fund = session.get(Fund, data.fund_id) if data.fund_id else None
    if fund is None or (fund.is_deleted and (donation is None or donation.fund_id != fund.id)):
        errors["fund_id"] = "Choose the fund the gift went into."
    if data.received_on is None:
        errors["received_on"] = "Enter the date the gift was received."
    if (message := _amount_error(data.amount, positive=True)) is not None:
        errors["amount"] = message
    if data.currency not in known_currencies(session):
        errors["currency"] = f"No exchange rate is known for {data.currency}."
    reference = (data.reference or "").strip() or None
    if reference is not None:
        clash = session.scalar(sa.select(Donation.id).where(Donation.reference == reference))
        if clash is not None and (donation is None or clash != donation.id):
            errors["reference"] = f"Reference {reference} is already used by another donation."
    if errors:
        raise FieldErrors(errors)
    assert data.received_on is not None and data.amount is not None
    return {
        "donor_id": data.donor_id,
        "fund_id": data.fund_id,
        "received_on": data.received_on,
        "amount": data.amount,
        "currency": data.currency,
        "amount_eur": RateTable.load(session).to_eur(data.amount, data.currency, data.received_on),
        "reference": reference,
    }


def _donation_summary(donation: Donation, verb: str) -> str:
    return (
        f"Donation of {donation.amount} {donation.currency} into fund {donation.fund.name} {verb}"
    )


def create_donation(session: so.Session, data: DonationData) -> Donation:
    """Record a gift; its euro value comes from the rate on the day it was received."""
    donation = Donation(**_donation_values(session, data, None))
    session.add(donation)
    session.flush()
    audit_create(session, donation, _donation_summary(donation, "recorded"))
    return donation


def update_donation(
    session: so.Session, donation: Donation, data: DonationData, version: int | None
) -> dict[str, list[Any]]:
    """Apply an edit made on the given version; refuse it if the donation changed since."""
    check_version(session, donation, version, f"Donation #{donation.id}")
    values = _donation_values(session, data, donation)
    changes = update_fields(session, donation, values, f"Donation #{donation.id} edited")
    return changes


def delete_donation(session: so.Session, donation: Donation) -> None:
    """Remove a donation; the audit event keeps the whole record for restoring."""
    hard_delete(session, donation, _donation_summary(donation, "removed"))


# Fund allocations --------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationResult:
    """A new allocation, and a warning if the grant is now over-allocated."""

    allocation: FundAllocation
    warning: str | None


def add_allocation(
    session: so.Session,
    fund: Fund,
    grant_id: int | None,
    amount: Decimal | None,
    currency: str | None,
) -> AllocationResult:
    """Record that a fund pays part of a grant; warn (not refuse) past the grant's amount."""
    grant = session.get(Grant, grant_id) if grant_id else None
    if grant is None or grant.is_deleted:
        raise FieldErrors({"grant_label": "Choose the grant from the list."})
    taken = session.scalar(
        sa.select(FundAllocation.id).where(
            FundAllocation.fund_id == fund.id, FundAllocation.grant_id == grant.id
        )
    )
    if taken is not None:
        raise FieldErrors(
            {
                "grant_label": f"Fund {fund.name} already pays towards grant {grant.reference}; "
                "remove that allocation first to change its amount."
            }
        )
    currency = currency or grant.currency
    errors: dict[str, str] = {}
    if (message := _amount_error(amount, positive=False)) is not None:
        errors["amount"] = message
    if currency not in known_currencies(session):
        errors["currency"] = f"No exchange rate is known for {currency}."
    if errors:
        raise FieldErrors(errors)
    assert amount is not None
    allocation = FundAllocation(
        fund_id=fund.id,
        grant_id=grant.id,
        amount=amount,
        currency=currency,
        amount_eur=RateTable.load(session).to_eur(amount, currency, grant.award_date),
    )
    session.add(allocation)
    audit_create(
        session,
        allocation,
        f"Fund {fund.name} pays {amount} {currency} of grant {grant.reference}",
    )
    return AllocationResult(allocation, _over_allocation_warning(session, grant))


def _over_allocation_warning(session: so.Session, grant: Grant) -> str | None:
    if grant.amount_eur is None:
        return None
    total = session.scalar(
        sa.select(sa.func.sum(FundAllocation.amount_eur)).where(FundAllocation.grant_id == grant.id)
    )
    if total is None or total <= grant.amount_eur:
        return None
    return (
        f"Funds now pay {total:,.2f} EUR towards grant {grant.reference}, "
        f"more than its {grant.amount_eur:,.2f} EUR. Check the allocations."
    )


def delete_allocation(session: so.Session, allocation: FundAllocation) -> None:
    """Remove an allocation; the audit event keeps the whole record for restoring."""
    hard_delete(
        session,
        allocation,
        f"Allocation of fund {allocation.fund.name} to grant {allocation.grant.reference} removed",
    )
