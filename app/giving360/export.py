"""The 360Giving export: a JSON package of the grants, written as a stream.

Grants are read in batches (yield_per) and written a few hundred at a time, so
100,000 grants take seconds and little memory; the co-funders of all exported
grants are read once beforehand. The package validates against the standard's
package schema (see tests/test_giving360.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import orm as so

from app.models import Confidentiality, utcnow
from app.organisations.services import COUNTRIES

from . import queries
from .settings import Settings, SettingsProblem

STANDARD_VERSION = "1.4"
WRITE_EVERY = 500  # grants per chunk of text


@dataclass(frozen=True)
class Publisher:
    """The settings of one export with the funder's name settled."""

    settings: Settings
    funder_org_id: str
    funder_name: str


@dataclass
class Tally:
    """What a package held, filled in while it streams."""

    grants: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)


def publisher(session: so.Session, settings: Settings) -> Publisher:
    """The funder of the export; SettingsProblem if its org-id or name is not configured."""
    if not settings.funder_org_id:
        raise SettingsProblem(
            "The 360Giving export needs the foundation's org-id (e.g. IT-CF-80012650158 or "
            "GB-CHC-1234567): set FUNDER_ORG_ID (environment GRANTPATH_FUNDER_ORG_ID) or pass "
            "--funder-org-id."
        )
    name = settings.funder_name or queries.organisation_name(session, settings.funder_org_id)
    if not name:
        raise SettingsProblem(
            "The 360Giving export needs the foundation's name: set FUNDER_NAME (environment "
            "GRANTPATH_FUNDER_NAME) or FOUNDATION_NAME, or pass --funder-name."
        )
    return Publisher(settings, settings.funder_org_id, name)


def _number(amount: Decimal) -> int | float:
    # A float prints the shortest text that reads back as itself: 41133.77 stays 41133.77
    # (exact for amounts in cents below 10^13, far above any grant).
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _org_id(settings: Settings, ident: int, org_id: str | None, ror_id: str | None) -> str:
    if org_id:
        return org_id
    if ror_id:
        return f"XI-ROR-{ror_id}"
    return settings.minted_org_id(ident)


def _organisation(
    settings: Settings,
    ident: int,
    name: str,
    org_id: str | None,
    ror_id: str | None,
    city: str | None,
    country: str,
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": _org_id(settings, ident, org_id, ror_id), "name": name}
    if city:
        item["addressLocality"] = city
    item["addressCountry"] = COUNTRIES.get(country, country)
    return item


def grant_object(row: Any, funders: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """One grant in the shape of the 360Giving schema."""
    grant: dict[str, Any] = {
        "id": settings.grant_id(row.reference),
        "title": row.title,
        # Required by the standard; grants without a summary repeat their title.
        "description": row.summary or row.title,
        "currency": row.currency,
        "amountAwarded": _number(row.amount_awarded),
        "awardDate": row.award_date.isoformat(),
    }
    planned: dict[str, str] = {}
    if row.start_date:
        planned["startDate"] = row.start_date.isoformat()
    if row.end_date:
        planned["endDate"] = row.end_date.isoformat()
    if planned:
        grant["plannedDates"] = [planned]
    grant["recipientOrganization"] = [
        _organisation(
            settings,
            row.host_id,
            row.host_name,
            row.host_org_id,
            row.host_ror_id,
            row.host_city,
            row.host_country,
        )
    ]
    grant["fundingOrganization"] = funders
    if row.programme:
        grant["grantProgramme"] = [{"title": row.programme}]
    if row.updated_at:
        grant["dateModified"] = row.updated_at.isoformat(timespec="seconds")
    return grant


def package_chunks(
    session: so.Session,
    who: Publisher,
    levels: Sequence[Confidentiality],
    tally: Tally | None = None,
) -> Iterator[str]:
    """The package as pieces of JSON text, grants streamed in award-date order."""
    tally = tally if tally is not None else Tally()
    settings = who.settings
    funder = {"id": who.funder_org_id, "name": who.funder_name}
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    co_funders = queries.co_funders(session, levels)
    head = {
        "version": STANDARD_VERSION,
        "title": f"Grants of {who.funder_name}",
        "issued": utcnow().date().isoformat(),
        "publisher": {"name": who.funder_name, "identifier": who.funder_org_id},
    }
    yield dump(head)[:-1] + ',"grants":[\n'
    pieces: list[str] = []
    totals = tally.totals
    for row in queries.export_rows(session, levels):
        funders = [funder]
        seen = {who.funder_org_id.upper()}
        for co in co_funders.get(row.id, ()):
            item = _organisation(
                settings, co.id, co.name, co.org_id, co.ror_id, co.city, co.country
            )
            if item["id"].upper() not in seen:
                seen.add(item["id"].upper())
                funders.append(item)
        pieces.append(dump(grant_object(row, funders, settings)))
        tally.grants += 1
        totals[row.currency] = totals.get(row.currency, Decimal(0)) + row.amount_awarded
        if len(pieces) >= WRITE_EVERY:
            yield (",\n" if tally.grants > len(pieces) else "") + ",\n".join(pieces)
            pieces = []
    if pieces:
        yield (",\n" if tally.grants > len(pieces) else "") + ",\n".join(pieces)
    yield "\n]}\n"


def write_package(
    session: so.Session,
    who: Publisher,
    levels: Sequence[Confidentiality],
    out: TextIO,
) -> Tally:
    """Write the package to an open text file; how many grants and how much, by currency."""
    tally = Tally()
    for chunk in package_chunks(session, who, levels, tally):
        out.write(chunk)
    return tally


def write_package_file(
    session: so.Session, who: Publisher, levels: Sequence[Confidentiality], path: Path
) -> Tally:
    """Write the package to a file, whole or not at all (a temporary file renamed at the end)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as out:
            tally = write_package(session, who, levels, out)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return tally
