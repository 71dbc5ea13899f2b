"""Outputs of research, their typed details, attributions and links."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import (
    Base,
    ScaledDecimal,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
    str_enum,
)
from .enums import (
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    LinkRelation,
    OutputType,
    PatentStatus,
    TrialPhase,
    TrialRegistry,
    TrialStatus,
)
from .grants import currency_check

if TYPE_CHECKING:
    from .grants import Grant
    from .organisations import Organisation
    from .users import User


class Output(TimestampMixin, VersionedMixin, SoftDeleteMixin, Base):
    """Something a grant produced: a paper, a trial, a patent, a trained person..."""

    __tablename__ = "outputs"
    __table_args__ = (
        sa.Index("ix_outputs_type_date", "type", "output_date"),
        # The output list at 400,000 outputs: each sort's order over live outputs, with the
        # filtered columns (tested in the index), and the few deleted outputs for the
        # "deleted" view (migration 0cfe4892e847).
        *(
            sa.Index(
                name,
                *columns,
                "deleted_at",  # SQLite reads an index alone only if it names every column
                sqlite_where=sa.text("deleted_at IS NULL"),
                postgresql_where=sa.text("deleted_at IS NULL"),
            )
            for name, columns in (
                ("ix_outputs_live_date", ("output_date", "id", "type", "confidentiality")),
                (
                    "ix_outputs_live_title",
                    ("title", "id", "type", "output_date", "confidentiality"),
                ),
                ("ix_outputs_live_type", ("type", "id", "output_date", "confidentiality")),
            )
        ),
        sa.Index(
            "ix_outputs_deleted",
            "deleted_at",
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    type: so.Mapped[OutputType] = so.mapped_column(str_enum(OutputType, "output_type"))
    title: so.Mapped[str] = so.mapped_column(sa.String(500))
    # The first day of the known period: 1 January when only the year is known.
    output_date: so.Mapped[date | None]
    date_precision: so.Mapped[DatePrecision] = so.mapped_column(
        str_enum(DatePrecision, "date_precision"), default=DatePrecision.DAY
    )
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    confidentiality: so.Mapped[Confidentiality] = so.mapped_column(
        str_enum(Confidentiality, "output_confidentiality"), default=Confidentiality.PUBLIC
    )
    is_fictional: so.Mapped[bool] = so.mapped_column(default=False)

    publication: so.Mapped[Publication | None] = so.relationship(
        back_populates="output", cascade="all, delete-orphan"
    )
    trial: so.Mapped[ClinicalTrial | None] = so.relationship(
        back_populates="output", cascade="all, delete-orphan"
    )
    further_funding: so.Mapped[FurtherFunding | None] = so.relationship(
        back_populates="output", cascade="all, delete-orphan"
    )
    patent: so.Mapped[Patent | None] = so.relationship(
        back_populates="output", cascade="all, delete-orphan"
    )
    attributions: so.Mapped[list[Attribution]] = so.relationship(
        back_populates="output", cascade="all, delete-orphan"
    )
    upstream_links: so.Mapped[list[OutputLink]] = so.relationship(
        foreign_keys="OutputLink.output_id", back_populates="output", cascade="all, delete-orphan"
    )
    downstream_links: so.Mapped[list[OutputLink]] = so.relationship(
        foreign_keys="OutputLink.upstream_output_id",
        back_populates="upstream",
        cascade="all, delete-orphan",
    )

    @property
    def year(self) -> int | None:
        return self.output_date.year if self.output_date else None

    def __repr__(self) -> str:
        return f"<Output {self.id} {self.type} {self.title[:40]!r}>"


class Publication(Base):
    """Bibliographic details of a publication output."""

    __tablename__ = "publications"

    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True
    )
    doi: so.Mapped[str | None] = so.mapped_column(sa.String(255), unique=True)
    pmid: so.Mapped[str | None] = so.mapped_column(sa.String(12), unique=True)
    pmcid: so.Mapped[str | None] = so.mapped_column(sa.String(16), unique=True)
    journal: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    year: so.Mapped[int | None]
    volume: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    pages: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    authors: so.Mapped[str | None] = so.mapped_column(sa.Text)

    output: so.Mapped[Output] = so.relationship(back_populates="publication")


class ClinicalTrial(Base):
    """Registry details of a clinical-trial output."""

    __tablename__ = "clinical_trials"
    __table_args__ = (
        sa.CheckConstraint(
            "enrolment_planned IS NULL OR enrolment_planned >= 0", name="planned_ge0"
        ),
        sa.CheckConstraint("enrolment_actual IS NULL OR enrolment_actual >= 0", name="actual_ge0"),
        sa.CheckConstraint(
            "completion_date IS NULL OR start_date IS NULL OR completion_date >= start_date",
            name="completion_not_before_start",
        ),
    )

    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True
    )
    acronym: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    phase: so.Mapped[TrialPhase] = so.mapped_column(str_enum(TrialPhase, "trial_phase"))
    status: so.Mapped[TrialStatus] = so.mapped_column(str_enum(TrialStatus, "trial_status"))
    enrolment_planned: so.Mapped[int | None]
    enrolment_actual: so.Mapped[int | None]
    condition: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    intervention: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    sponsor_organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    start_date: so.Mapped[date | None]
    first_patient_date: so.Mapped[date | None]
    completion_date: so.Mapped[date | None]

    output: so.Mapped[Output] = so.relationship(back_populates="trial")
    sponsor: so.Mapped[Organisation | None] = so.relationship()
    registry_ids: so.Mapped[list[TrialRegistryId]] = so.relationship(
        back_populates="trial", cascade="all, delete-orphan", order_by="TrialRegistryId.scheme"
    )


class TrialRegistryId(Base):
    """One registry identifier of a trial; a trial may have several."""

    __tablename__ = "trial_registry_ids"
    __table_args__ = (
        sa.UniqueConstraint("scheme", "value"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trial_output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("clinical_trials.output_id", ondelete="CASCADE"), index=True
    )
    scheme: so.Mapped[TrialRegistry] = so.mapped_column(
        str_enum(TrialRegistry, "trial_registry")
    )
    value: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)

    trial: so.Mapped[ClinicalTrial] = so.relationship(back_populates="registry_ids")


class FurtherFunding(Base):
    """Money won from another funder on the strength of the work."""

    __tablename__ = "further_fundings"
    __table_args__ = (
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        currency_check("currency", "currency_iso"),
    )

    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True
    )
    funder_organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    funder_name: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    amount: so.Mapped[Decimal | None]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    amount_eur: so.Mapped[Decimal | None]

    output: so.Mapped[Output] = so.relationship(back_populates="further_funding")
    funder: so.Mapped[Organisation | None] = so.relationship()


class Patent(Base):
    """Intellectual-property details: a patent application or grant."""

    __tablename__ = "patents"
    __table_args__ = (sa.UniqueConstraint("office", "number"),)

    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True
    )
    number: so.Mapped[str] = so.mapped_column(sa.String(40))
    office: so.Mapped[str] = so.mapped_column(sa.String(10), comment="EP, US, WO, IT ...")
    status: so.Mapped[PatentStatus] = so.mapped_column(str_enum(PatentStatus, "patent_status"))

    output: so.Mapped[Output] = so.relationship(back_populates="patent")


class Attribution(TimestampMixin, VersionedMixin, Base):
    """A claim that a grant contributed to an output, with its evidence."""

    __tablename__ = "attributions"
    __table_args__ = (
        sa.UniqueConstraint("grant_id", "output_id"),
        # Shares are stored in ten-thousandths: 0 < share <= 1.
        sa.CheckConstraint("share IS NULL OR (share > 0 AND share <= 10000)", name="share_range"),
        sa.CheckConstraint(
            "(confirmed_by_id IS NULL) = (confirmed_at IS NULL)", name="confirmed_by_and_at"
        ),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    grant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("grants.id", ondelete="CASCADE"), index=True
    )
    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), index=True
    )
    share: so.Mapped[Decimal | None] = so.mapped_column(ScaledDecimal(4))
    evidence: so.Mapped[EvidenceKind] = so.mapped_column(
        str_enum(EvidenceKind, "attribution_evidence")
    )
    evidence_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    source: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    confirmed_at: so.Mapped[datetime | None]

    grant: so.Mapped[Grant] = so.relationship(back_populates="attributions")
    output: so.Mapped[Output] = so.relationship(back_populates="attributions")
    confirmed_by: so.Mapped[User | None] = so.relationship()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_by_id is not None


class OutputLink(TimestampMixin, VersionedMixin, Base):
    """An output standing on an earlier one (the links form a DAG)."""

    __tablename__ = "output_links"
    __table_args__ = (
        sa.UniqueConstraint("output_id", "upstream_output_id"),
        sa.CheckConstraint("output_id <> upstream_output_id", name="not_self"),
        # Ids of hard-deleted rows are never reused (their audit history stays theirs).
        {"sqlite_autoincrement": True},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), index=True
    )
    upstream_output_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("outputs.id", ondelete="CASCADE"), index=True
    )
    relation: so.Mapped[LinkRelation] = so.mapped_column(str_enum(LinkRelation, "link_relation"))
    evidence: so.Mapped[EvidenceKind] = so.mapped_column(
        str_enum(EvidenceKind, "link_evidence"), default=EvidenceKind.STAFF_JUDGEMENT
    )
    evidence_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    confirmed_at: so.Mapped[datetime | None]

    output: so.Mapped[Output] = so.relationship(
        foreign_keys=[output_id], back_populates="upstream_links"
    )
    upstream: so.Mapped[Output] = so.relationship(
        foreign_keys=[upstream_output_id], back_populates="downstream_links"
    )
    confirmed_by: so.Mapped[User | None] = so.relationship()
