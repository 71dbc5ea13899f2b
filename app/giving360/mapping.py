"""From a schema-valid 360Giving grant to the facts grantpath records, and back.

The rules are listed in the package docstring (app/giving360/__init__.py).
Everything here is pure: no database, no request. Problems are reported
through a callback as (field path, value, reason).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from app.identifiers import InvalidIdentifier, normalise_org_id
from app.models import GrantStatus, OrganisationKind
from app.organisations.services import COUNTRIES

from .reading import Path, Source

Problem = Callable[[Path, Any, str], None]

CENT = Decimal("0.01")
FLOAT_NOISE = Decimal("0.000001")  # 41133.770000000004 is 41133.77 written by a float
MAX_AMOUNT = Decimal(10) ** 15
REFERENCE_MAX = 120
TITLE_MAX = 500
SUMMARY_MAX = 20_000
ORG_ID_MAX = 120
ORG_NAME_MAX = 300
CITY_MAX = 120
PROGRAMME_MAX = 200
# The columns grantpath needs (schema "required", first branch): description is tolerated.
REQUIRED = ("id", "title", "currency", "amountAwarded", "awardDate", "fundingOrganization")
TOLERATED = ("description",)

_GIVING_ID = re.compile(r"360G-[A-Za-z0-9]\S*\Z", re.IGNORECASE)
_PARTIAL = re.compile(r"(\d{4})(?:-(\d{2}))?\Z")
_COUNTRY_NAMES = {name.casefold(): code for code, name in COUNTRIES.items()}
_COUNTRY_NAMES.update({"uk": "GB", "united kingdom": "GB", "great britain": "GB", "usa": "US"})
NOT_COUNTRIES = {"XI", "XM"}  # org-id.guide's international and multilateral lists

# org-id.guide list codes that say what kind of body an organisation is.
_SCHEME_KINDS = {
    "CHC": OrganisationKind.CHARITY,
    "SC": OrganisationKind.CHARITY,
    "NIC": OrganisationKind.CHARITY,
    "CRA": OrganisationKind.CHARITY,
    "COH": OrganisationKind.COMPANY,
    "GOR": OrganisationKind.PUBLIC_BODY,
    "LAE": OrganisationKind.PUBLIC_BODY,
    "LAS": OrganisationKind.PUBLIC_BODY,
    "LANI": OrganisationKind.PUBLIC_BODY,
    "PLA": OrganisationKind.PUBLIC_BODY,
    "NHS": OrganisationKind.HOSPITAL,
    "HESA": OrganisationKind.UNIVERSITY,
    "UKPRN": OrganisationKind.UNIVERSITY,
}
_TYPE_WORDS = (
    ("universit", OrganisationKind.UNIVERSITY),
    ("hospital", OrganisationKind.HOSPITAL),
    ("nhs", OrganisationKind.HOSPITAL),
    ("research", OrganisationKind.RESEARCH_INSTITUTE),
    ("charit", OrganisationKind.CHARITY),
    ("local authority", OrganisationKind.PUBLIC_BODY),
    ("government", OrganisationKind.PUBLIC_BODY),
    ("public", OrganisationKind.PUBLIC_BODY),
    ("company", OrganisationKind.COMPANY),
    ("business", OrganisationKind.COMPANY),
)


@dataclass(frozen=True)
class OrgFacts:
    """An organisation as a grant names it."""

    path: Path
    org_id: str | None  # normalised; None when the file gives none
    name: str
    country: str | None
    city: str | None
    kind: OrganisationKind


@dataclass(frozen=True)
class GrantFacts:
    """What one 360Giving grant says, in grantpath's terms."""

    source: Source
    reference: str
    title: str
    summary: str | None
    has_description: bool
    currency: str
    amount: Decimal
    award_date: date
    start_date: date | None
    end_date: date | None
    duration_months: Decimal | None
    has_planned_dates: bool
    recipient: OrgFacts
    extra_recipients: int
    funders: tuple[OrgFacts, ...]
    programme: str | None


# ------------------------------------------------------------------------------ org-ids


def org_identifier(raw: str) -> str:
    """A normalised org-id; 360Giving's own ``360G-`` form is kept as written.

    The standard lets a funder name an organisation without a registered number
    with its own prefix (360G-ALWF-1234). Raises ValueError with the reason.
    """
    value = raw.strip()
    if _GIVING_ID.match(value):
        return value
    try:
        return normalise_org_id(value)
    except InvalidIdentifier as error:
        raise ValueError(error.message) from None


def org_id_country(org_id: str | None) -> str | None:
    """The country an org-id's list belongs to (GB-CHC-... -> GB), if it is one."""
    if not org_id or _GIVING_ID.match(org_id):
        return None
    code = org_id[:2].upper()
    return code if code in COUNTRIES and code not in NOT_COUNTRIES else None


def country_code(text: Any) -> str | None:
    """An ISO 3166-1 code from a code or an English country name."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.upper() in COUNTRIES:
        return value.upper()
    return _COUNTRY_NAMES.get(value.casefold())


def organisation_kind(org_id: str | None, organisation_type: Any) -> OrganisationKind:
    """The kind of a new organisation, from its stated type or its org-id's list."""
    if isinstance(organisation_type, str):
        lowered = organisation_type.casefold()
        for word, kind in _TYPE_WORDS:
            if word in lowered:
                return kind
    if org_id and not _GIVING_ID.match(org_id):
        scheme = org_id.split("-")[1].upper() if org_id.count("-") >= 2 else ""
        return _SCHEME_KINDS.get(scheme, OrganisationKind.OTHER)
    return OrganisationKind.OTHER


# ------------------------------------------------------------------------------ dates


def whole_date(text: str) -> date:
    """The date of an awardDate: a date, or the calendar date of a date-time as written."""
    return date.fromisoformat(text[:10])


def period_date(text: str, *, end: bool) -> date:
    """A planned date that may be only a year or a month: its first (or last) day."""
    match = _PARTIAL.match(text)
    if match is None:
        return whole_date(text)
    year, month = int(match[1]), int(match[2] or (12 if end else 1))
    if not 1 <= month <= 12:
        raise ValueError("not a month")
    day = calendar.monthrange(year, month)[1] if end else 1
    return date(year, month, day)


def add_months(day: date, months: Decimal) -> date:
    """A date some whole months later (the day clipped to the month's length)."""
    count = int(months)
    month_index = day.month - 1 + count
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def derive_status(
    award: date,
    start: date | None,
    end: date | None,
    duration: Decimal | None,
    today: date,
) -> GrantStatus:
    """Awarded, active or completed, from the planned dates as of today.

    Without an end date the planned duration counts from the start (or, with
    no start, from the award date); with no planned dates at all the one fact
    known is that the grant was awarded.
    """
    if end is None and duration is not None:
        end = add_months(start or award, duration)
    if start is None and end is None:
        return GrantStatus.AWARDED
    if end is not None and end < today:
        return GrantStatus.COMPLETED
    if start is not None and start > today:
        return GrantStatus.AWARDED
    return GrantStatus.ACTIVE


# ------------------------------------------------------------------------------ grants


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def _clean(value: Any, path: Path, limit: int, problem: Problem, *, one_line: bool) -> str | None:
    text = _text(value)
    if text is None:
        return None
    allowed = "" if one_line else "\r\n\t"
    if any(not ch.isprintable() and ch not in allowed for ch in text):
        problem(path, value, "remove the invisible control characters from this text")
        return None
    if len(text) > limit:
        problem(path, value, f"at most {limit} characters (this has {len(text)})")
        return None
    return text


def _amount(value: Any, path: Path, problem: Problem) -> Decimal | None:
    amount = Decimal(value)
    cents = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if abs(amount - cents) > FLOAT_NOISE:
        problem(path, value, "money is kept to the cent: use at most two decimals")
        return None
    if cents < 0:
        problem(path, value, "the amount cannot be negative")
        return None
    if cents >= MAX_AMOUNT:
        problem(path, value, "the amount is too large")
        return None
    return cents


def _organisation(
    item: dict[str, Any], path: Path, problem: Problem, fallback_country: str | None
) -> OrgFacts | None:
    org_id: str | None = None
    raw_id = item.get("id")
    if isinstance(raw_id, str) and raw_id.strip():
        try:
            org_id = org_identifier(raw_id)
        except ValueError as error:
            problem((*path, "id"), raw_id, str(error))
            return None
        if len(org_id) > ORG_ID_MAX:
            problem((*path, "id"), raw_id, f"an org-id of at most {ORG_ID_MAX} characters")
            return None
    name = _clean(item.get("name"), (*path, "name"), ORG_NAME_MAX, problem, one_line=True)
    if name is None:
        if _text(item.get("name")) is None:
            problem((*path, "name"), item.get("name"), "the organisation needs a name")
        return None
    city = _text(item.get("addressLocality"))
    locations = item.get("location")
    stated = (
        country_code(locations[0].get("countryCode"))
        if isinstance(locations, list) and locations and isinstance(locations[0], dict)
        else None
    )
    country = (
        stated
        or country_code(item.get("addressCountry"))
        or org_id_country(org_id)
        or fallback_country
    )
    return OrgFacts(
        path=path,
        org_id=org_id,
        name=name,
        country=country,
        city=city if city is None or len(city) <= CITY_MAX else None,
        kind=organisation_kind(org_id, item.get("organisationType")),
    )


def grant_facts(source: Source, reference: str, problem: Problem) -> GrantFacts | None:
    """The facts of one schema-valid grant; None (and problems reported) if unusable."""
    grant: dict[str, Any] = source.data
    before = [0]

    def counted(path: Path, value: Any, reason: str) -> None:
        before[0] += 1
        problem(path, value, reason)

    title = _clean(grant.get("title"), ("title",), TITLE_MAX, counted, one_line=False)
    if title is None and before[0] == 0:
        counted(("title",), grant.get("title"), "the grant needs a title")
    has_description = "description" in grant
    summary = _clean(
        grant.get("description"), ("description",), SUMMARY_MAX, counted, one_line=False
    )
    if summary is not None and summary == title:
        summary = None  # our export repeats the title of a grant without a summary
    amount = _amount(grant["amountAwarded"], ("amountAwarded",), counted)
    award_date = whole_date(grant["awardDate"])

    start = end = None
    duration: Decimal | None = None
    planned = grant.get("plannedDates") or []
    first = planned[0] if planned and isinstance(planned[0], dict) else {}
    try:
        if isinstance(first.get("startDate"), str):
            start = period_date(first["startDate"], end=False)
        if isinstance(first.get("endDate"), str):
            end = period_date(first["endDate"], end=True)
    except ValueError:
        counted(("plannedDates", 0), first, "not a date")
    if isinstance(first.get("duration"), int | Decimal) and not isinstance(first["duration"], bool):
        duration = Decimal(first["duration"])
    if start is not None and end is not None and end < start:
        counted(
            ("plannedDates", 0, "endDate"),
            first.get("endDate"),
            f"the end date is before the start date ({start.isoformat()})",
        )

    funder_items = grant["fundingOrganization"]
    funders = []
    for index, item in enumerate(funder_items):
        path: Path = ("fundingOrganization", index)
        if not _text(item.get("id")):
            counted((*path, "id"), item.get("id"), "a funder needs its org-id")
            continue
        found = _organisation(item, path, counted, None)
        if found is not None:
            if found.country is None:
                counted(
                    (*path, "id"),
                    item.get("id"),
                    "the funder's country is unknown: give its Country "
                    "(or an org-id of a national list, such as GB-CHC-...)",
                )
            else:
                funders.append(found)
    funder_country = next((f.country for f in funders), None)

    recipients = grant["recipientOrganization"]
    recipient = _organisation(recipients[0], ("recipientOrganization", 0), counted, funder_country)
    if recipient is not None and recipient.country is None:
        counted(
            ("recipientOrganization", 0, "addressCountry"),
            None,
            "the recipient's country is unknown: give Recipient Org:Country "
            "(or an org-id of a national list, such as GB-CHC-...)",
        )

    programmes = grant.get("grantProgramme") or []
    programme = None
    if programmes and isinstance(programmes[0], dict):
        programme = _clean(
            programmes[0].get("title"),
            ("grantProgramme", 0, "title"),
            PROGRAMME_MAX,
            counted,
            one_line=True,
        )

    if before[0] or title is None or amount is None or recipient is None:
        return None
    if recipient.country is None:
        return None
    return GrantFacts(
        source=source,
        reference=reference,
        title=title,
        summary=summary,
        has_description=has_description,
        currency=grant["currency"],
        amount=amount,
        award_date=award_date,
        start_date=start,
        end_date=end,
        duration_months=duration,
        has_planned_dates=bool(first.get("startDate") or first.get("endDate")),
        recipient=recipient,
        extra_recipients=len(recipients) - 1,
        funders=tuple(funders),
        programme=programme,
    )
