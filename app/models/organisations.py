"""Organisations (hosts, co-funders, sponsors) and people."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, SoftDeleteMixin, TimestampMixin, VersionedMixin, str_enum
from .enums import OrganisationKind

if TYPE_CHECKING:
    from .grants import Grant


class Organisation(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """A university, hospital, company, charity or public body."""

    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint("length(country) = 2", name="country_iso2"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(300), index=True)
    kind: so.Mapped[OrganisationKind] = so.mapped_column(
        str_enum(OrganisationKind, "organisation_kind")
    )
    country: so.Mapped[str] = so.mapped_column(sa.String(2))
    city: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    ror_id: so.Mapped[str | None] = so.mapped_column(sa.String(9), unique=True)
    crossref_funder_id: so.Mapped[str | None] = so.mapped_column(sa.String(40), unique=True)
    org_id: so.Mapped[str | None] = so.mapped_column(
        sa.String(120), unique=True, comment="360Giving org-id, e.g. IT-CF-80012650158"
    )
    website: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    is_fictional: so.Mapped[bool] = so.mapped_column(default=False)

    people: so.Mapped[list[Person]] = so.relationship(back_populates="organisation")
    hosted_grants: so.WriteOnlyMapped[Grant] = so.relationship(
        back_populates="host", foreign_keys="Grant.host_organisation_id"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class Person(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """A researcher: investigator, fellow or trial lead."""

    __tablename__ = "people"
    # The people list at 50,000 people: its name order over live people, and the few deleted
    # ones for the "deleted" view (migration 0cfe4892e847).
    __table_args__ = (
        sa.Index(
            "ix_people_live_name",
            "family_name",
            "given_names",
            "id",
            "deleted_at",  # SQLite reads an index alone only if it names every column
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
        sa.Index(
            "ix_people_deleted",
            "deleted_at",
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    family_name: so.Mapped[str] = so.mapped_column(sa.String(120), index=True)
    given_names: so.Mapped[str] = so.mapped_column(sa.String(120))
    orcid: so.Mapped[str | None] = so.mapped_column(sa.String(19), unique=True)
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    is_fictional: so.Mapped[bool] = so.mapped_column(default=False)

    organisation: so.Mapped[Organisation | None] = so.relationship(back_populates="people")

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()

    @property
    def citation_name(self) -> str:
        initials = "".join(part[0] for part in self.given_names.replace("-", " ").split())
        return f"{self.family_name} {initials}".strip()

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name!r}>"
