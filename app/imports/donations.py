"""Import of donations, creating donors that are not known yet.

Rows go through app.funds.services (create_donor, update_donor,
create_donation, update_donation): the same rules and audit as the forms, and
audit summaries that never name a donor. A donation is matched by its
reference; without one, by donor, fund, date, amount and currency, so
importing the same file twice records each gift once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.funds import services
from app.models import Donation, Donor, DonorKind, Fund
from app.records.errors import FieldErrors

from .columns import Column, Header, Outcome, is_blank
from .context import ImportContext
from .lookups import Named
from .parsing import (
    CellError,
    clean_text,
    name_key,
    parse_bool,
    parse_date,
    parse_enum,
    parse_money,
    refuse_formula,
)

KIND = "donations"
COLUMNS = (
    Column(
        "donor",
        True,
        ("donor name", "name", "giver"),
        "The donor's name as recorded (or #12 for donor 12); a new name creates the donor.",
        "Fondazione Rossi",
    ),
    Column(
        "donor_kind",
        False,
        ("kind", "donor type", "type"),
        "individual, company, trust, bequest or public_body; needed for a new donor.",
        "trust",
    ),
    Column(
        "anonymous",
        False,
        ("is anonymous", "anonymous donor"),
        "yes or no: an anonymous donor is never named to trustees or in reports.",
        "no",
    ),
    Column("fund", True, ("fund name",), "Name of an existing fund.", "General fund"),
    Column(
        "date",
        True,
        ("received", "received on", "date received", "donation date"),
        "Date received: 2010-05-01 or 01/05/2010.",
        "2010-05-01",
    ),
    Column(
        "amount",
        True,
        ("gift", "donation amount"),
        "More than zero, at most two decimals: 1500, 1,500.00 or 1.500,00.",
        "1.500,00",
    ),
    Column("currency", True, ("currency code",), "ISO 4217 code with a known rate.", "EUR"),
    Column(
        "reference",
        False,
        ("donation reference", "receipt"),
        "Optional unique reference (receipt number): the key for updates.",
        "RIC-2010-0042",
    ),
)
# Service field names -> import columns.
FIELD_COLUMNS = {
    "donor_label": "donor",
    "fund_id": "fund",
    "received_on": "date",
    "amount": "amount",
    "currency": "currency",
    "reference": "reference",
    "name": "donor",
}


class Donors:
    """Donors by name (live ones) or #id, remembering those created by this import."""

    def __init__(self, session: so.Session) -> None:
        self.session = session
        self.by_name: dict[str, list[int]] = {}
        for ident, name in session.execute(
            sa.select(Donor.id, Donor.name).where(Donor.deleted_at.is_(None))
        ):
            self.by_name.setdefault(name_key(name), []).append(ident)

    def find(self, text: str) -> Donor | None:
        """The donor a cell names; None if nobody has that name."""
        value = text.strip()
        refuse_formula(text)
        if value.startswith("#") and value[1:].strip().isdigit():
            donor = self.session.get(Donor, int(value[1:]))
            if donor is None:
                raise CellError("no donor has this number")
            if donor.deleted_at is not None:
                raise CellError("this donor is deleted; restore them first")
            return donor
        ids = self.by_name.get(name_key(value), [])
        if len(ids) > 1:
            raise CellError(f"{len(ids)} donors have this name; write #id for the right one")
        return self.session.get(Donor, ids[0]) if ids else None

    def add(self, donor: Donor) -> None:
        self.by_name.setdefault(name_key(donor.name), []).append(donor.id)


def import_donations(
    session: so.Session, header: Header, rows: Any, outcome: Outcome, context: ImportContext
) -> None:
    """Create or update each row's donation (and its donor) through the fund services."""
    donors = Donors(session)
    funds = Named(session, Fund, "fund", "Funds › New fund")
    currencies = set(services.known_currencies(session))
    seen: dict[str, int] = {}
    for number, cells in rows:
        if is_blank(cells):
            outcome.counts["skipped"] += 1
            continue
        before = outcome.error_count

        def check(
            column: str,
            parse: Callable[[str], Any],
            required: bool = False,
            number: int = number,
            cells: list[str] = cells,
        ) -> Any:
            text = header.cell(cells, column)
            try:
                value = parse(text)
            except CellError as problem:
                outcome.error(number, column, text.strip(), str(problem))
                return None
            if value is None and required:
                outcome.error(number, column, "", "this column needs a value")
            return value

        def currency(text: str) -> str | None:
            value = text.strip().upper()
            if value and value not in currencies:
                raise CellError(f"no exchange rate is known for {value}")
            return value or None

        name = check("donor", lambda t: clean_text(t, 300), required=True)
        donor = check("donor", donors.find) if name else None
        kind = check("donor_kind", lambda t: parse_enum(t, DonorKind))
        anonymous = check("anonymous", parse_bool)
        fund_id = check("fund", funds.resolve, required=True)
        received_on = check("date", parse_date, required=True)
        amount = check("amount", parse_money, required=True)
        if amount is not None and amount == 0:
            outcome.error(
                number,
                "amount",
                header.cell(cells, "amount").strip(),
                "the amount must be more than zero",
            )
        money = check("currency", currency, required=True)
        reference = check("reference", lambda t: clean_text(t, 60))
        if name and donor is None and kind is None and outcome.error_count == before:
            outcome.error(
                number,
                "donor_kind",
                header.cell(cells, "donor_kind").strip(),
                "a new donor needs a kind (individual, company, trust, bequest or public_body)",
            )
        if reference is not None:
            first = seen.get(reference)
            if first is not None:
                outcome.error(
                    number,
                    "reference",
                    reference,
                    f"the same reference is already on row {first} of this file",
                )
            seen[reference] = number
        elif outcome.error_count == before:
            gift = f"{name_key(name)}|{fund_id}|{received_on}|{amount}|{money}"
            first = seen.get(gift)
            if first is not None:
                outcome.error(
                    number,
                    "reference",
                    "",
                    f"the same gift is already on row {first} of this file; "
                    "give each gift its own reference",
                )
            seen[gift] = number
        if outcome.error_count > before:
            continue
        try:
            action, detail, donor = _donor(session, donors, donor, name, kind, anonymous)
            data = services.DonationData(
                donor_id=donor.id,
                fund_id=fund_id,
                received_on=received_on,
                amount=amount,
                currency=money,
                reference=reference,
            )
            existing = _existing(session, data)
            if existing is None:
                services.create_donation(session, data)
                action = "created"
            else:
                changes = services.update_donation(session, existing, data, existing.version)
                if changes:
                    action = "updated"
                    detail = ", ".join(part for part in (detail, *sorted(changes)) if part)
        except FieldErrors as error:
            for field, message in error.errors.items():
                column = FIELD_COLUMNS.get(field)
                outcome.error(
                    number, column, header.cell(cells, column).strip() if column else None, message
                )
            continue
        label = f"{name} · {amount} {money} on {received_on.isoformat()}"
        outcome.done(number, action, reference or "", label, detail)


def _donor(
    session: so.Session,
    donors: Donors,
    donor: Donor | None,
    name: str,
    kind: DonorKind | None,
    anonymous: bool | None,
) -> tuple[str, str, Donor]:
    """The row's donor, created or updated as the row says: (row action, note, donor)."""
    if donor is None:
        assert kind is not None
        donor = services.create_donor(
            session, services.DonorData(name=name, kind=kind, is_anonymous=bool(anonymous))
        )
        donors.add(donor)
        return "updated", "new donor", donor
    data = services.DonorData(
        name=donor.name,
        kind=kind or donor.kind,
        is_anonymous=donor.is_anonymous if anonymous is None else anonymous,
    )
    if (data.kind, data.is_anonymous) == (donor.kind, donor.is_anonymous):
        return "unchanged", "", donor
    changes = services.update_donor(session, donor, data, donor.version)
    return "updated", "donor " + ", ".join(sorted(changes)), donor


def _existing(session: so.Session, data: services.DonationData) -> Donation | None:
    """The donation this row describes: by reference, else the same gift without one."""
    if data.reference:
        return session.scalar(sa.select(Donation).where(Donation.reference == data.reference))
    return session.scalar(
        sa.select(Donation)
        .where(
            Donation.reference.is_(None),
            Donation.donor_id == data.donor_id,
            Donation.fund_id == data.fund_id,
            Donation.received_on == data.received_on,
            Donation.amount == data.amount,
            Donation.currency == data.currency,
        )
        .limit(1)
    )
