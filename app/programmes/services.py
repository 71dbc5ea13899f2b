"""Domain writes for programmes and research areas: validate, set, flush, audit. Never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.models import AuditAction, Programme, ProgrammeKind, ResearchArea, grant_areas
from app.records.changes import snapshot
from app.records.errors import FieldErrors
from app.records.services import (
    RecordLifecycle,
    audit_create,
    update_fields,
)

FIRST_YEAR, LAST_YEAR = 1900, 2100


class AreaInUse(Exception):
    """A research area still tags grants, so it cannot be deleted."""


@dataclass
class ProgrammeData:
    """What a user or an import supplies for a programme."""

    name: str
    kind: ProgrammeKind
    year: int | None = None
    description: str | None = None


@dataclass
class AreaData:
    """What a user or an import supplies for a research area."""

    name: str
    description: str | None = None


def _programme_values(
    session: so.Session, data: ProgrammeData, programme: Programme | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "Give the programme's name."
    else:
        clash = session.execute(
            sa.select(Programme.id, Programme.deleted_at).where(
                sa.func.lower(Programme.name) == name.lower(),
                Programme.id != (programme.id if programme else -1),
            )
        ).first()
        if clash is not None:
            errors["name"] = f"A programme called {name} already exists" + (
                " (deleted; restore it instead)." if clash.deleted_at else "."
            )
    if data.year is not None and not FIRST_YEAR <= data.year <= LAST_YEAR:
        errors["year"] = f"Give a year between {FIRST_YEAR} and {LAST_YEAR}, or leave it empty."
    if errors:
        raise FieldErrors(errors)
    return {
        "name": name,
        "kind": data.kind,
        "year": data.year,
        "description": (data.description or "").strip() or None,
    }


PROGRAMMES = RecordLifecycle(
    Programme, _programme_values, lambda programme: f"Programme {programme.name}"
)
create_programme, update_programme = PROGRAMMES.create, PROGRAMMES.update
delete_programme, restore_programme = PROGRAMMES.delete, PROGRAMMES.restore


def _area_values(session: so.Session, data: AreaData, area: ResearchArea | None) -> dict[str, Any]:
    name = data.name.strip()
    if not name:
        raise FieldErrors({"name": "Give the research area's name."})
    clash = session.scalar(
        sa.select(ResearchArea.id).where(
            sa.func.lower(ResearchArea.name) == name.lower(),
            ResearchArea.id != (area.id if area else -1),
        )
    )
    if clash is not None:
        raise FieldErrors({"name": f"A research area called {name} already exists."})
    return {"name": name, "description": (data.description or "").strip() or None}


def create_area(session: so.Session, data: AreaData) -> ResearchArea:
    """Create a research area with a unique name."""
    area = ResearchArea(**_area_values(session, data, None))
    session.add(area)
    audit_create(session, area, f"Research area {area.name} created")
    return area


def update_area(session: so.Session, area: ResearchArea, data: AreaData) -> dict[str, list[Any]]:
    """Edit a research area.

    Research areas have no version column, so edits are last-writer-wins (still audited).
    """
    values = _area_values(session, data, area)
    return update_fields(session, area, values, f"Research area {values['name']} edited")


def delete_area(session: so.Session, area: ResearchArea) -> None:
    """Delete an unused research area; the audit event keeps the whole record."""
    # Deleted grants count too: removing the tag would silently strip it from them,
    # and restoring such a grant would not bring it back.
    used = session.scalar(
        sa.select(sa.func.count()).where(grant_areas.c.research_area_id == area.id)
    )
    if used:
        raise AreaInUse(
            f"Research area {area.name} tags {used} grant{'s' if used != 1 else ''} "
            "(deleted grants included); remove it from them before deleting it."
        )
    record(
        session,
        AuditAction.DELETE,
        entity=area,
        summary=f"Research area {area.name} deleted",
        changes={key: [value, None] for key, value in snapshot(area).items()},
    )
    session.delete(area)
    session.flush()
