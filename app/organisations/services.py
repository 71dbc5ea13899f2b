"""Domain writes for organisations and people: validate, set, flush, audit. Never commit."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import babel
import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import InvalidIdentifier, normalise_orcid, normalise_org_id, normalise_ror
from app.models import Organisation, OrganisationKind, Person
from app.records.errors import FieldErrors
from app.records.services import (
    RecordLifecycle,
)


def _sort_key(name: str) -> str:
    """Sort Åland with the A's and Türkiye before Turkmenistan."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


# Babel's territories also hold CLDR codes that ISO 3166-1 never assigned (EU, UN, XK,
# ZZ...); left out, the rest is exactly the 249 codes of ISO 3166-1 (and of the
# 360Giving countryCode codelist).
_NOT_ISO_3166_1 = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
COUNTRIES: dict[str, str] = dict(
    sorted(
        (
            (code, name)
            for code, name in babel.Locale("en").territories.items()
            if len(code) == 2 and code.isalpha() and code not in _NOT_ISO_3166_1
        ),
        key=lambda item: _sort_key(item[1]),
    )
)

_CROSSREF_PREFIXES = (
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi:",
    "10.13039/",
)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True)
class Other:
    """The record that already holds an identifier."""

    id: int
    name: str


class RecordErrors(FieldErrors):
    """Field errors, some saying that another record already uses an identifier."""

    def __init__(self, errors: dict[str, str], others: dict[str, Other]) -> None:
        super().__init__(errors)
        self.others = others


@dataclass
class OrganisationData:
    """What a user or an import supplies for an organisation."""

    name: str
    kind: OrganisationKind
    country: str
    city: str | None = None
    ror_id: str | None = None
    crossref_funder_id: str | None = None
    org_id: str | None = None
    website: str | None = None


@dataclass
class PersonData:
    """What a user or an import supplies for a person."""

    family_name: str
    given_names: str = ""
    orcid: str | None = None
    email: str | None = None
    organisation_id: int | None = None
    # What was typed in the affiliation picker: text without a chosen id is an error.
    organisation_text: str = ""


def normalise_crossref_funder_id(value: str) -> str:
    """Return the digits of a Crossref Funder ID, without any 10.13039/ DOI prefix."""
    text = value.strip()
    lowered = text.lower()
    for prefix in _CROSSREF_PREFIXES:
        if lowered.startswith(prefix):
            text, lowered = text[len(prefix) :], lowered[len(prefix) :]
    if not text.isascii() or not text.isdigit() or len(text) > 40:
        raise InvalidIdentifier(
            "Crossref Funder ID",
            value,
            f"{value.strip()!r} is not a Crossref Funder ID (expected digits, e.g. 501100000780, "
            "optionally after 10.13039/)",
        )
    return text


def http_url(value: str | None) -> str | None:
    """The value if it is an absolute http(s) URL with a host, else None."""
    if not value or any(ch.isspace() for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def _blank_to_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def _normalised(raw: str | None, normalise: Any, field: str, errors: dict[str, str]) -> str | None:
    """Normalise an optional identifier, noting a readable error on its field."""
    text = _blank_to_none(raw)
    if text is None:
        return None
    try:
        return normalise(text)
    except InvalidIdentifier as error:
        errors[field] = error.message
        return None


def _holder_label(name: str, deleted: bool) -> str:
    return f"{name} (deleted; restore it instead)" if deleted else name


def _organisation_values(
    session: so.Session, data: OrganisationData, organisation: Organisation | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    others: dict[str, Other] = {}
    country = data.country.strip().upper()
    if country not in COUNTRIES:
        errors["country"] = f"{data.country!r} is not an ISO 3166-1 country code."
    website = _blank_to_none(data.website)
    if website is not None and http_url(website) is None:
        errors["website"] = "Give the full address starting with http:// or https://."
    values = {
        "name": data.name.strip(),
        "kind": data.kind,
        "country": country,
        "city": _blank_to_none(data.city),
        "ror_id": _normalised(data.ror_id, normalise_ror, "ror_id", errors),
        "crossref_funder_id": _normalised(
            data.crossref_funder_id, normalise_crossref_funder_id, "crossref_funder_id", errors
        ),
        "org_id": _normalised(data.org_id, normalise_org_id, "org_id", errors),
        "website": website,
    }
    if not values["name"]:
        errors["name"] = "Give the organisation's name."
    labels = {"ror_id": "ROR ID", "crossref_funder_id": "Crossref Funder ID", "org_id": "org-id"}
    for field, label in labels.items():
        if values[field] is None or field in errors:
            continue
        clash = session.execute(
            sa.select(Organisation.id, Organisation.name, Organisation.deleted_at).where(
                getattr(Organisation, field) == values[field],
                Organisation.id != (organisation.id if organisation else -1),
            )
        ).first()
        if clash is not None:
            others[field] = Other(clash.id, clash.name)
            holder = _holder_label(clash.name, clash.deleted_at is not None)
            errors[field] = f"{label} {values[field]} is already used by {holder}."
    if errors:
        raise RecordErrors(errors, others)
    return values


ORGANISATIONS = RecordLifecycle(
    Organisation, _organisation_values, lambda organisation: f"Organisation {organisation.name}"
)
create_organisation, update_organisation = ORGANISATIONS.create, ORGANISATIONS.update
delete_organisation, restore_organisation = ORGANISATIONS.delete, ORGANISATIONS.restore


def _person_values(session: so.Session, data: PersonData, person: Person | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    others: dict[str, Other] = {}
    values: dict[str, Any] = {
        "family_name": data.family_name.strip(),
        "given_names": data.given_names.strip(),
        "orcid": _normalised(data.orcid, normalise_orcid, "orcid", errors),
        "email": _blank_to_none(data.email),
        "organisation_id": data.organisation_id,
    }
    if not values["family_name"]:
        errors["family_name"] = "Give the family name."
    if values["email"] is not None and not _EMAIL_RE.fullmatch(values["email"]):
        errors["email"] = f"{values['email']!r} is not an e-mail address (name@example.org)."
    if data.organisation_id is None and data.organisation_text.strip():
        errors["organisation_label"] = "Choose the organisation from the list, or clear the box."
    elif (
        data.organisation_id is not None and session.get(Organisation, data.organisation_id) is None
    ):
        errors["organisation_label"] = "Choose the organisation from the list."
    if values["orcid"] is not None:
        clash = session.execute(
            sa.select(Person.id, Person.given_names, Person.family_name, Person.deleted_at).where(
                Person.orcid == values["orcid"], Person.id != (person.id if person else -1)
            )
        ).first()
        if clash is not None:
            name = f"{clash.given_names} {clash.family_name}".strip()
            others["orcid"] = Other(clash.id, name)
            holder = _holder_label(name, clash.deleted_at is not None)
            errors["orcid"] = f"ORCID {values['orcid']} already belongs to {holder}."
    if errors:
        raise RecordErrors(errors, others)
    return values


PEOPLE = RecordLifecycle(Person, _person_values, lambda person: f"Person {person.name}")
create_person, update_person = PEOPLE.create, PEOPLE.update
delete_person, restore_person = PEOPLE.delete, PEOPLE.restore
