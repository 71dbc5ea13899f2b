"""Names and identifiers in import files resolved to records, one query per table.

Every resolver raises :class:`CellError` with a message that says what to do.
"""

from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import InvalidIdentifier, normalise_orcid, normalise_org_id, normalise_ror
from app.models import Organisation, Person, Programme, ResearchArea

from .parsing import CellError, name_key, refuse_formula

_ORG_ID_SHAPE = re.compile(r"[A-Za-z]{2}-[A-Za-z0-9]+-\S+$")
_ROR_SHAPE = re.compile(r"(https?://)?(ror\.org/)?0[a-z0-9]{6}\d{2}$", re.IGNORECASE)
_ORCID_SHAPE = re.compile(r"(https?://)?(orcid\.org/)?\d{4}-?\d{4}-?\d{4}-?\d{3}[\dXx]$")


_MISSING = object()


class _Memo:
    """Remember each distinct cell's answer: a 100,000-row file names few records."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str | None], int | str | None] = {}

    def resolve(self, text: str, extra: str | None = None) -> int | None:
        """The record a cell names; None if the cell is blank."""
        hit = self._memo.get((text, extra), _MISSING)
        if hit is not _MISSING and type(text) is str:
            if isinstance(hit, str):
                raise CellError(hit)
            return hit  # type: ignore[return-value]
        try:
            found = self._resolve(text, extra)
        except CellError as problem:
            self._memo[(text, extra)] = str(problem)
            raise
        if type(text) is str:  # a FormulaText with the same letters must not share
            self._memo[(text, extra)] = found
        return found

    def _resolve(self, text: str, extra: str | None) -> int | None:
        raise NotImplementedError


class Organisations(_Memo):
    """Organisations by 360Giving org-id, ROR id or exact name (and country)."""

    def __init__(self, session: so.Session) -> None:
        super().__init__()
        self.by_org_id: dict[str, tuple[int, bool]] = {}
        self.by_ror: dict[str, tuple[int, bool]] = {}
        self.by_name: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
        self.names: dict[int, str] = {}
        rows = session.execute(
            sa.select(
                Organisation.id,
                Organisation.name,
                Organisation.country,
                Organisation.org_id,
                Organisation.ror_id,
                Organisation.deleted_at,
            )
        )
        for ident, name, country, org_id, ror_id, deleted_at in rows:
            deleted = deleted_at is not None
            self.names[ident] = name
            if org_id:
                self.by_org_id[org_id.upper()] = (ident, deleted)
            if ror_id:
                self.by_ror[ror_id] = (ident, deleted)
            self.by_name[name_key(name)].append((ident, country, deleted))

    def _resolve(self, text: str, country: str | None) -> int | None:
        """The organisation a cell names (in a country, if given)."""
        value = text.strip()
        if not value:
            return None
        refuse_formula(text)
        if _ROR_SHAPE.match(value):
            try:
                ror = normalise_ror(value)
            except InvalidIdentifier as error:
                raise CellError(f"{error.message}") from None
            return self._live(self.by_ror.get(ror), f"No organisation has ROR id {ror}")
        if _ORG_ID_SHAPE.match(value) and " " not in value:
            try:
                org_id = normalise_org_id(value)
            except InvalidIdentifier as error:
                raise CellError(f"{error.message}") from None
            found = self.by_org_id.get(org_id.upper())
            if found is not None:
                return self._live(found, "")
            if not self.by_name.get(name_key(value)):
                raise CellError(
                    f"no organisation has org-id {org_id}; create it first, "
                    "or give the organisation's exact name"
                )
        matches = self.by_name.get(name_key(value), [])
        if country:
            matches = [m for m in matches if m[1] == country]
        live = [m for m in matches if not m[2]]
        if len(live) == 1:
            return live[0][0]
        if len(live) > 1:
            raise CellError(
                f"{len(live)} organisations are called this; give its org-id or ROR id instead"
            )
        if matches:
            raise CellError("this organisation is deleted; restore it first")
        where = f" in {country}" if country else ""
        raise CellError(
            f"no organisation of this name{where}; create it first (Organisations › New), "
            "or give its org-id or ROR id"
        )

    @staticmethod
    def _live(found: tuple[int, bool] | None, missing: str) -> int:
        if found is None:
            raise CellError(f"{missing}; create the organisation first")
        if found[1]:
            raise CellError("this organisation is deleted; restore it first")
        return found[0]


class People(_Memo):
    """People by ORCID, by "Family, Given" or by "Given Family" exactly as shown."""

    def __init__(self, session: so.Session) -> None:
        super().__init__()
        self.by_orcid: dict[str, tuple[int, bool]] = {}
        self.by_name: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        rows = session.execute(
            sa.select(
                Person.id, Person.family_name, Person.given_names, Person.orcid, Person.deleted_at
            )
        )
        for ident, family, given, orcid, deleted_at in rows:
            entry = (ident, deleted_at is not None)
            if orcid:
                self.by_orcid[orcid] = entry
            self.by_name[name_key(f"{family}, {given}")].append(entry)
            self.by_name[name_key(f"{given} {family}")].append(entry)

    def _resolve(self, text: str, extra: str | None) -> int | None:
        """The person a cell names."""
        value = text.strip()
        if not value:
            return None
        refuse_formula(text)
        if _ORCID_SHAPE.match(value):
            try:
                orcid = normalise_orcid(value)
            except InvalidIdentifier as error:
                raise CellError(error.message) from None
            found = self.by_orcid.get(orcid)
            if found is None:
                raise CellError(f"nobody has ORCID {orcid}; create the person first")
            if found[1]:
                raise CellError("this person is deleted; restore them first")
            return found[0]
        matches = self.by_name.get(name_key(value), [])
        live = {m[0] for m in matches if not m[1]}
        if len(live) == 1:
            return live.pop()
        if len(live) > 1:
            raise CellError(f"{len(live)} people have this name; give the ORCID instead")
        if matches:
            raise CellError("this person is deleted; restore them first")
        raise CellError(
            "nobody of this name: write “Family, Given” exactly as recorded, or the ORCID; "
            "create the person first if they are new"
        )


class Named(_Memo):
    """Records with a unique name (programmes, research areas, funds)."""

    def __init__(
        self, session: so.Session, model: type, noun: str, where: str, soft_delete: bool = True
    ) -> None:
        super().__init__()
        self.noun = noun
        self.where = where
        columns = [model.id, model.name]  # type: ignore[attr-defined]
        if soft_delete:
            columns.append(model.deleted_at)  # type: ignore[attr-defined]
        self.by_name: dict[str, tuple[int, bool]] = {}
        self.names: dict[int, str] = {}
        for row in session.execute(sa.select(*columns)):
            self.by_name[name_key(row[1])] = (row[0], soft_delete and row[2] is not None)
            self.names[row[0]] = row[1]

    def _resolve(self, text: str, extra: str | None) -> int | None:
        """The record of this name."""
        value = text.strip()
        if not value:
            return None
        refuse_formula(text)
        found = self.by_name.get(name_key(value))
        if found is None:
            raise CellError(f"no {self.noun} of this name; create it first ({self.where})")
        if found[1]:
            raise CellError(f"this {self.noun} is deleted; restore it first")
        return found[0]


def programmes(session: so.Session) -> Named:
    """Programmes by name."""
    return Named(session, Programme, "programme", "Programmes › New programme")


def areas(session: so.Session) -> Named:
    """Research areas by name."""
    return Named(
        session, ResearchArea, "research area", "Programmes › Research areas", soft_delete=False
    )
