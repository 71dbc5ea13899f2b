"""Programmes, research areas, grants and what hangs off a grant."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base, SoftDeleteMixin, TimestampMixin, VersionedMixin, str_enum
from .enums import Confidentiality, GrantRelation, GrantStatus, InvestigatorRole, ProgrammeKind

if TYPE_CHECKING:
    from .funds import FundAllocation
    from .organisations import Organisation, Person
    from .outputs import Attribution

CURRENCY_CHECK = "length({col}) = 3 AND upper({col}) = {col}"


def currency_check(column: str, name: str) -> sa.CheckConstraint:
    """CHECK that a column holds an upper-case ISO 4217 code."""
    return sa.CheckConstraint(CURRENCY_CHECK.format(col=column), name=name)


class Programme(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """A call or scheme under which grants are awarded."""

    __tablename__ = "programmes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    kind: so.Mapped[ProgrammeKind] = so.mapped_column(str_enum(ProgrammeKind, "programme_kind"))
    year: so.Mapped[int | None]
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)

    grants: so.WriteOnlyMapped[Grant] = so.relationship(back_populates="programme")


class ResearchArea(TimestampMixin, VersionedMixin, Base):
    """A tag such as 'neural stem cells' or 'remyelination'."""

    __tablename__ = "research_areas"
    # Ids of hard-deleted rows are never reused (their audit history stays theirs).
    __table_args__ = {"sqlite_autoincrement": True}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)


grant_areas = sa.Table(
    "grant_areas",
    Base.metadata,
    sa.Column("grant_id", sa.ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "research_area_id",
        sa.ForeignKey("research_areas.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Grant(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """An award of money to a host institution for a piece of research."""

    __tablename__ = "grants"
    __table_args__ = (
        sa.CheckConstraint("amount_awarded >= 0", name="amount_non_negative"),
        sa.CheckConstraint("amount_eur IS NULL OR amount_eur >= 0", name="amount_eur_non_negative"),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="end_not_before_start",
        ),
        sa.CheckConstraint(
            "previous_grant_id IS NULL OR previous_grant_id <> id", name="not_own_previous"
        ),
        sa.CheckConstraint(
            "(previous_grant_id IS NULL) = (relation_to_previous IS NULL)",
            name="previous_has_relation",
        ),
        currency_check("currency", "currency_iso"),
        sa.Index("ix_grants_award_date_id", "award_date", "id"),
        # Portfolio figures: euros per award year read from this index alone, in date order.
        sa.Index(
            "ix_grants_award_totals",
            "award_date",
            "deleted_at",
            "status",
            "confidentiality",
            "amount_eur",
        ),
        # The grant list at 100,000 grants: its filters and sorts over live grants.
        *(
            sa.Index(
                name,
                *columns,
                sqlite_where=sa.text("deleted_at IS NULL"),
                postgresql_where=sa.text("deleted_at IS NULL"),
            )
            for name, columns in (
                (
                    "ix_grants_live_status",
                    ("status", "award_date", "id", "confidentiality", "deleted_at"),
                ),
                ("ix_grants_live_title", ("title", "id")),
                ("ix_grants_live_amount", ("amount_eur", "id")),
            )
        ),
        # Grants completed in a period (portfolio figures).
        sa.Index("ix_grants_end_date", "end_date"),
        # The short list of outcome reports still awaited.
        sa.Index(
            "ix_grants_report_awaited",
            "outcome_report_due",
            sqlite_where=sa.text("outcome_report_received IS NULL"),
            postgresql_where=sa.text("outcome_report_received IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    reference: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(500))
    summary: so.Mapped[str | None] = so.mapped_column(sa.Text)
    programme_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("programmes.id"), index=True
    )
    host_organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    principal_investigator_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("people.id"), index=True
    )
    status: so.Mapped[GrantStatus] = so.mapped_column(str_enum(GrantStatus, "grant_status"))
    award_date: so.Mapped[date]
    start_date: so.Mapped[date | None]
    end_date: so.Mapped[date | None]
    amount_awarded: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    # Derived from the exchange-rate table when the amount is written; kept in
    # the row so portfolio totals are one SUM at 100,000 grants.
    amount_eur: so.Mapped[Decimal | None]
    previous_grant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("grants.id"), index=True
    )
    relation_to_previous: so.Mapped[GrantRelation | None] = so.mapped_column(
        str_enum(GrantRelation, "grant_relation")
    )
    confidentiality: so.Mapped[Confidentiality] = so.mapped_column(
        str_enum(Confidentiality, "grant_confidentiality"), default=Confidentiality.PUBLIC
    )
    outcome_report_due: so.Mapped[date | None]
    outcome_report_received: so.Mapped[date | None]
    is_fictional: so.Mapped[bool] = so.mapped_column(default=False)

    programme: so.Mapped[Programme | None] = so.relationship(back_populates="grants")
    host: so.Mapped[Organisation] = so.relationship(
        back_populates="hosted_grants", foreign_keys=[host_organisation_id]
    )
    principal_investigator: so.Mapped[Person | None] = so.relationship()
    areas: so.Mapped[list[ResearchArea]] = so.relationship(secondary=grant_areas)
    investigators: so.Mapped[list[GrantInvestigator]] = so.relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )
    payments: so.Mapped[list[Payment]] = so.relationship(
        back_populates="grant", cascade="all, delete-orphan", order_by="Payment.due_date"
    )
    co_fundings: so.Mapped[list[CoFunding]] = so.relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )
    fund_allocations: so.Mapped[list[FundAllocation]] = so.relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )
    attributions: so.Mapped[list[Attribution]] = so.relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )
    previous_grant: so.Mapped[Grant | None] = so.relationship(
        remote_side=[id], back_populates="continuations"
    )
    continuations: so.Mapped[list[Grant]] = so.relationship(back_populates="previous_grant")

    def __repr__(self) -> str:
        return f"<Grant {self.reference}>"


class GrantInvestigator(Base):
    """A co-investigator, fellow or supervisor on a grant (the PI is on the grant)."""

    __tablename__ = "grant_investigators"

    grant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("people.id"), primary_key=True, index=True
    )
    role: so.Mapped[InvestigatorRole] = so.mapped_column(
        str_enum(InvestigatorRole, "investigator_role"), default=InvestigatorRole.CO_INVESTIGATOR
    )

    grant: so.Mapped[Grant] = so.relationship(back_populates="investigators")
    person: so.Mapped[Person] = so.relationship()


class Payment(TimestampMixin, VersionedMixin, Base):
    """One instalment of a grant: when it falls due and when it was paid."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        currency_check("currency", "currency_iso"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    grant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    due_date: so.Mapped[date]
    paid_date: so.Mapped[date | None]
    amount: so.Mapped[Decimal]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount_eur: so.Mapped[Decimal | None]
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))

    grant: so.Mapped[Grant] = so.relationship(back_populates="payments")


class CoFunding(TimestampMixin, VersionedMixin, Base):
    """Money another funder put into the same grant."""

    __tablename__ = "co_fundings"
    __table_args__ = (
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        currency_check("currency", "currency_iso"),
        sa.UniqueConstraint("grant_id", "funder_organisation_id"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    grant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    funder_organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    amount: so.Mapped[Decimal | None]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    amount_eur: so.Mapped[Decimal | None]

    grant: so.Mapped[Grant] = so.relationship(back_populates="co_fundings")
    funder: so.Mapped[Organisation] = so.relationship()
