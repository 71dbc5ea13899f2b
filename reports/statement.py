"""Donor and fund impact statements: what the money reached, down to the trials.

The figures come from :mod:`app.impact.queries` (``donor_impact`` follows a
donor's gifts to funds, fund allocations and grants pro rata; ``impact_of``
gives a fund's grants), so a statement prints exactly what the impact pages
show. :func:`build_donor_statement` and :func:`build_fund_statement` return
:class:`ImpactStatement`, plain values only; :func:`statement_html` and
:func:`statement_pdf` render ``statement.html``.

Anonymous donors: a statement is addressed to the donor by name only when it
is rendered with staff levels (it is then for staff to send); at trustee or
public levels the name reads "Anonymous donor" and never leaves SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.funds.queries import ANONYMOUS
from app.impact.queries import (
    GRANT_CAP,
    DonorImpact,
    Impact,
    ImpactGrant,
    ImpactTotals,
    OutputTypeCount,
    SubjectNotFound,
    donor_impact,
    impact_of,
)
from app.models import Confidentiality, Donation, Donor, Fund

from .annual import TRUSTEE_LEVELS
from .archive import FigureTable, archive_pdf
from .document_parts import DocumentNotFound, RecordDocument, TrialRow, document_head, trial_rows
from .pdf import PdfMetadata, render_pdf
from .templating import render_document

__all__ = [
    "STATEMENT_GRANTS",
    "ImpactStatement",
    "StatementNotFound",
    "build_donor_statement",
    "build_fund_statement",
    "statement_archive_pdf",
    "statement_figures",
    "statement_html",
    "statement_pdf",
]

# Grants listed by name, largest amounts first; the others are summed in one row.
STATEMENT_GRANTS = 25
ZERO = Decimal("0.00")


class StatementNotFound(DocumentNotFound):
    """No live donor or fund with this id."""


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class FundLine:
    """A fund the donor gave to: the donor's share of it and what that share reached."""

    name: str
    given_eur: Decimal
    fund_donations_eur: Decimal
    share: Decimal | None  # None: the fund gives no attribution
    attributed_eur: Decimal
    counted: bool

    @property
    def share_text(self) -> str:
        return "–" if self.share is None else f"{self.share * 100:.2f}%"


@dataclass(frozen=True)
class GrantLine:
    reference: str
    title: str
    year: int
    amount_eur: Decimal | None  # the grant's full award
    contributed_eur: Decimal  # attributed to the donor, or paid by the fund


@dataclass(frozen=True)
class OtherGrants:
    """The grants reached but not listed by name, summed."""

    count: int
    contributed_eur: Decimal


@dataclass(frozen=True)
class OutputCount:
    label: str
    count: int


@dataclass(frozen=True)
class DonorFacts:
    kind: str
    donation_count: int
    first_gift: date | None
    last_gift: date | None


@dataclass(frozen=True)
class FundFacts:
    is_restricted: bool
    purpose: str | None
    donations_eur: Decimal
    donation_count: int
    donor_count: int
    allocated_eur: Decimal
    allocation_count: int

    @property
    def balance_eur(self) -> Decimal:
        return self.donations_eur - self.allocated_eur


@dataclass(frozen=True)
class ImpactStatement(RecordDocument):
    """A donor's or a fund's impact statement, as plain values (no ORM objects)."""

    kind: str  # "donor" or "fund"
    subject_id: int
    name: str  # "Anonymous donor" unless the statement is for staff
    donor: DonorFacts | None
    fund: FundFacts | None
    given_eur: Decimal  # donor: all gifts; fund: all donations received
    contributed_eur: Decimal  # donor: attributed to grants; fund: allocated to grants
    funds: tuple[FundLine, ...]  # donor only
    grants: tuple[GrantLine, ...]
    other_grants: OtherGrants | None
    grants_capped: bool  # the grants listed were chosen among the first GRANT_CAP by date
    totals: ImpactTotals
    outputs_by_type: tuple[OutputCount, ...]
    trials: tuple[TrialRow, ...]
    method: str

    @property
    def title(self) -> str:
        return f"Impact statement: {self.name}"

    @property
    def name_in_text(self) -> str:
        """The name inside a sentence: 'an anonymous donor' rather than 'Anonymous donor'."""
        return "an anonymous donor" if self.name == ANONYMOUS else self.name

    @property
    def kicker(self) -> str:
        return "donor impact statement" if self.kind == "donor" else "fund impact statement"

    @property
    def contributed_label(self) -> str:
        return "Attributed to grants" if self.kind == "donor" else "Allocated to grants"

    @property
    def metadata(self) -> PdfMetadata:
        subject = (
            f"What the gifts of {self.name} reached through the funds of {self.foundation}: "
            "grants, outputs and clinical trials"
            if self.kind == "donor"
            else f"What the {self.name} of {self.foundation} paid for: grants, outputs and "
            "clinical trials"
        )
        return self.pdf_metadata(
            subject, ("impact statement", self.kind, "research grants", "clinical trials")
        )


# --------------------------------------------------------------------------- builders


def _grant_lines(
    grants: Sequence[ImpactGrant], total: Decimal, count: int, limit: int
) -> tuple[tuple[GrantLine, ...], OtherGrants | None]:
    """The ``limit`` largest contributions by name, and the rest summed from the total."""
    ordered = sorted(grants, key=lambda g: (-(g.contributed_eur or ZERO), g.year, g.reference))[
        :limit
    ]
    lines = tuple(
        GrantLine(g.reference, g.title, g.year, g.amount_eur, g.contributed_eur or ZERO)
        for g in ordered
    )
    if count <= len(lines):
        return lines, None
    shown = sum((line.contributed_eur for line in lines), ZERO)
    return lines, OtherGrants(count - len(lines), total - shown)


def _outputs(counts: Sequence[OutputTypeCount]) -> tuple[OutputCount, ...]:
    return tuple(OutputCount(c.type.label, c.count) for c in counts)


def _statement(
    impact: Impact | DonorImpact,
    *,
    head: dict[str, Any],
    given_eur: Decimal,
    contributed_eur: Decimal,
    max_grants: int,
    donor: DonorFacts | None = None,
    fund: FundFacts | None = None,
    funds: tuple[FundLine, ...] = (),
) -> ImpactStatement:
    """A donor's or a fund's statement: what both take from the impact, and what differs."""
    grants, others = _grant_lines(impact.grants, contributed_eur, impact.totals.grants, max_grants)
    return ImpactStatement(
        **head,
        kind=impact.subject.kind,
        subject_id=impact.subject.id,
        name=impact.subject.name,
        donor=donor,
        fund=fund,
        given_eur=given_eur,
        contributed_eur=contributed_eur,
        funds=funds,
        grants=grants,
        other_grants=others,
        grants_capped=impact.grants_capped,
        totals=impact.totals,
        outputs_by_type=_outputs(impact.outputs_by_type),
        trials=trial_rows(impact.trials),
        method=impact.method,
    )


def build_donor_statement(
    session: so.Session,
    donor_id: int,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    is_draft: bool = True,
    max_grants: int = STATEMENT_GRANTS,
    now: datetime | None = None,
) -> ImpactStatement:
    """What a live donor's gifts reached, pro rata (raises StatementNotFound).

    The donor is named only when ``levels`` include internal records (staff).
    """
    levels = tuple(levels)
    reveal = Confidentiality.INTERNAL in levels
    try:
        impact = donor_impact(session, donor_id, levels, reveal=reveal)
    except SubjectNotFound:
        raise StatementNotFound(f"No donor with id {donor_id}") from None
    if impact.subject.deleted:
        raise StatementNotFound(f"No donor with id {donor_id}")
    donor = session.execute(
        sa.select(
            Donor.kind,
            sa.func.count(Donation.id).label("n"),
            sa.func.min(Donation.received_on).label("first_on"),
            sa.func.max(Donation.received_on).label("last_on"),
        )
        .outerjoin(Donation, Donation.donor_id == Donor.id)
        .where(Donor.id == donor_id)
        .group_by(Donor.id, Donor.kind)
    ).one()
    return _statement(
        impact,
        head=document_head(
            session, foundation=foundation, levels=levels, is_draft=is_draft, now=now
        ),
        given_eur=impact.given_eur,
        contributed_eur=impact.attributed_eur,
        max_grants=max_grants,
        donor=DonorFacts(donor.kind.label, int(donor.n), donor.first_on, donor.last_on),
        funds=tuple(
            FundLine(
                name=f.fund_name,
                given_eur=f.given_eur,
                fund_donations_eur=f.fund_donations_eur,
                share=f.share,
                attributed_eur=f.attributed_eur,
                counted=f.share is not None,
            )
            for f in impact.funds
        ),
    )


def build_fund_statement(
    session: so.Session,
    fund_id: int,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    is_draft: bool = True,
    max_grants: int = STATEMENT_GRANTS,
    now: datetime | None = None,
) -> ImpactStatement:
    """What a live fund's allocations reached (raises StatementNotFound)."""
    levels = tuple(levels)
    try:
        impact = impact_of(session, "fund", fund_id, levels)
    except SubjectNotFound:
        raise StatementNotFound(f"No fund with id {fund_id}") from None
    if impact.subject.deleted or impact.fund is None:
        raise StatementNotFound(f"No fund with id {fund_id}")
    fund = session.execute(
        sa.select(
            Fund.is_restricted,
            Fund.purpose,
            sa.select(sa.func.count(sa.distinct(Donation.donor_id)))
            .where(Donation.fund_id == Fund.id)
            .scalar_subquery()
            .label("donors"),
        ).where(Fund.id == fund_id)
    ).one()
    money = impact.fund
    return _statement(
        impact,
        head=document_head(
            session, foundation=foundation, levels=levels, is_draft=is_draft, now=now
        ),
        given_eur=money.donations_eur,
        contributed_eur=money.allocated_eur,
        max_grants=max_grants,
        fund=FundFacts(
            is_restricted=fund.is_restricted,
            purpose=fund.purpose,
            donations_eur=money.donations_eur,
            donation_count=money.donation_count,
            donor_count=int(fund.donors or 0),
            allocated_eur=money.allocated_eur,
            allocation_count=money.allocation_count,
        ),
    )


def statement_html(
    statement: ImpactStatement, *, asset_url: str = "", preview: dict[str, str] | None = None
) -> str:
    """The statement as HTML: for the PDF (relative asset URLs) or the web preview."""
    return render_document(
        "statement.html", statement, asset_url=asset_url, preview=preview, grant_cap=GRANT_CAP
    )


def statement_pdf(statement: ImpactStatement, *, variant: str | None = None) -> bytes:
    """The statement as PDF bytes."""
    return render_pdf(statement_html(statement), variant=variant, metadata=statement.metadata)


def statement_figures(statement: ImpactStatement) -> tuple[FigureTable, ...]:
    """The statement's figures as CSV tables: the same values the PDF prints, unformatted."""
    t = statement.totals
    summary: list[tuple[str, object]] = [
        (
            "given_eur" if statement.kind == "donor" else "donations_received_eur",
            statement.given_eur,
        ),
        (
            "attributed_to_grants_eur" if statement.kind == "donor" else "allocated_to_grants_eur",
            statement.contributed_eur,
        ),
        ("grants", t.grants),
        ("grants_total_awarded_eur", t.eur),
        ("grants_without_euro_equivalent", t.unconverted_grants),
        ("outputs", t.outputs),
        ("clinical_trials", t.trials),
    ]
    if statement.donor is not None:
        summary += [
            ("donations", statement.donor.donation_count),
            ("first_gift", statement.donor.first_gift),
            ("last_gift", statement.donor.last_gift),
        ]
    if statement.fund is not None:
        f = statement.fund
        summary += [
            ("restricted", f.is_restricted),
            ("donations", f.donation_count),
            ("donors", f.donor_count),
            ("allocations", f.allocation_count),
        ]
    grants: list[tuple[object, ...]] = [
        (g.reference, g.title, g.year, g.amount_eur, g.contributed_eur) for g in statement.grants
    ]
    if statement.other_grants is not None:
        other = statement.other_grants
        grants.append((f"{other.count} other grants", None, None, None, other.contributed_eur))
    tables = [
        FigureTable(
            "summary.csv", f"{statement.title}: the figures", ("figure", "value"), tuple(summary)
        ),
        FigureTable(
            "grants.csv",
            "The grants reached, the largest contributions first, the rest summed",
            ("grant", "title", "year", "amount_eur", "contributed_eur"),
            tuple(grants),
        ),
        FigureTable(
            "outputs-by-type.csv",
            "Outputs of those grants, by type",
            ("type", "outputs"),
            tuple((o.label, o.count) for o in statement.outputs_by_type),
        ),
        FigureTable(
            "trials.csv",
            "Clinical trials downstream of those grants",
            TrialRow.COLUMNS,
            tuple(tr.figures() for tr in statement.trials),
        ),
    ]
    if statement.kind == "donor":
        tables.insert(
            1,
            FigureTable(
                "funds.csv",
                "The funds the donor gave to, and the share of each fund's grants attributed",
                (
                    "fund",
                    "given_eur",
                    "fund_donations_eur",
                    "share",
                    "attributed_eur",
                    "counted",
                ),
                tuple(
                    (f.name, f.given_eur, f.fund_donations_eur, f.share, f.attributed_eur)
                    + (f.counted,)
                    for f in statement.funds
                ),
            ),
        )
    return tuple(tables)


def statement_archive_pdf(statement: ImpactStatement) -> bytes:
    """The archive copy: PDF/A-3u with :func:`statement_figures` attached as CSV."""
    return archive_pdf(statement_html(statement), statement.metadata, statement_figures(statement))
