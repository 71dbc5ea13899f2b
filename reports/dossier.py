"""The grant dossier: one grant's facts, money, people, outputs, trials downstream and record.

:func:`build_dossier` runs a fixed number of read queries (about a dozen,
plus five for the lineage of each featured trial, at most
:data:`DOSSIER_PATHWAYS` of them) and returns :class:`GrantDossier`, plain
values only; :func:`dossier_html` renders the preview or the PDF's HTML from
``dossier.html`` and :func:`dossier_pdf` lays it out. Grants and outputs are
filtered by the confidentiality levels given; deleted records never appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.lineage.queries import (
    METHOD_NOTE,
    OutputNotFound,
    PathwaySummary,
    downstream_trials,
)
from app.lineage.queries import lineage as trace_lineage
from app.models import (
    Attribution,
    AuditAction,
    AuditEvent,
    ClinicalTrial,
    CoFunding,
    Confidentiality,
    Fund,
    FundAllocation,
    Grant,
    GrantInvestigator,
    InvestigatorRole,
    Organisation,
    Output,
    Payment,
    Person,
    Programme,
    ResearchArea,
    grant_areas,
)

from .annual import TRUSTEE_LEVELS
from .archive import FigureTable, archive_pdf
from .document_parts import DocumentNotFound, RecordDocument, TrialRow, document_head, trial_rows
from .pathway import print_timeline
from .pdf import PdfMetadata, render_pdf
from .templating import render_document

__all__ = [
    "DOSSIER_PATHWAYS",
    "GrantDossier",
    "GrantNotFound",
    "build_dossier",
    "dossier_archive_pdf",
    "dossier_figures",
    "dossier_html",
    "dossier_pdf",
    "find_grant_id",
]

# Trials downstream shown with their whole pathway (the rest are listed in a table).
DOSSIER_PATHWAYS = 3
# A dossier's pathway head (the grant's role in it) is taller than the annual report's:
# a shorter timeline keeps it on the head's page.
TIMELINE_HEIGHT = 5.7
ZERO = Decimal("0.00")
# Audited actions that change a record (downloads and log-ins are not changes).
CHANGES = (
    AuditAction.CREATE,
    AuditAction.UPDATE,
    AuditAction.DELETE,
    AuditAction.RESTORE,
    AuditAction.IMPORT,
)
CURRENCY_NOTE = (
    "Amounts are shown in the currency of the award and of each payment, with the euro "
    "equivalent beside them: Italian lire and other legacy currencies at the irrevocable "
    "fixed rates (1 EUR = 1,936.27 ITL), other currencies at the rate of the day. Euro "
    "figures are nominal and exact to the cent; each instalment is converted on its own, so "
    "the euro equivalents of the instalments may differ from the award's by a cent."
)
DOWNSTREAM_NOTE = (
    "Trials downstream are the clinical trials attributed to this grant and those standing, "
    "through recorded output links, on an output attributed to it; “steps” is the shortest "
    "number of links between them. Each trial's pathway shows every grant of the foundation "
    "behind it, so other grants share the credit with this one."
)


class GrantNotFound(DocumentNotFound):
    """No live grant with this id or reference is visible at the levels asked."""


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class GrantFacts:
    id: int
    reference: str
    title: str
    summary: str | None
    status: str
    confidentiality: str
    programme: str | None
    host: str
    host_country: str
    principal_investigator: str | None
    areas: tuple[str, ...]
    award_date: date
    start_date: date | None
    end_date: date | None
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    previous: str | None  # "FMR-2010-001 (continuation)"
    continuations: tuple[str, ...]
    outcome_report_due: date | None
    outcome_report_received: date | None


@dataclass(frozen=True)
class PaymentRow:
    due_date: date
    paid_date: date | None
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    note: str | None


@dataclass(frozen=True)
class CurrencyTotal:
    """Payments in one currency: scheduled (all instalments), paid and still to pay."""

    currency: str
    scheduled: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.scheduled - self.paid


@dataclass(frozen=True)
class Money:
    payments: tuple[PaymentRow, ...]
    by_currency: tuple[CurrencyTotal, ...]
    scheduled_eur: Decimal
    paid_eur: Decimal
    paid_count: int
    # Award minus paid, when every payment is in the award's currency; else None.
    outstanding: Decimal | None

    @property
    def single_currency(self) -> CurrencyTotal | None:
        """The totals when every payment is in one currency (usually the award's)."""
        return self.by_currency[0] if len(self.by_currency) == 1 else None


@dataclass(frozen=True)
class CoFundingRow:
    funder: str
    amount: Decimal | None
    currency: str
    amount_eur: Decimal | None


@dataclass(frozen=True)
class AllocationRow:
    fund: str
    is_restricted: bool
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    share: Decimal | None  # of the award, in euro


@dataclass(frozen=True)
class InvestigatorRow:
    name: str
    role: str
    orcid: str | None
    affiliation: str | None


@dataclass(frozen=True)
class CreditedOutput:
    """An output the grant is credited with, and the evidence for the credit."""

    title: str
    kind: str
    date: date | None
    evidence: str
    evidence_text: str | None
    source: str | None
    share: Decimal | None
    confirmed: bool
    is_trial: bool


@dataclass(frozen=True)
class TrialPathway:
    """A trial downstream of the grant, with the whole pathway behind it."""

    output_id: int
    name: str
    title: str
    phase: str
    status: str
    registry_ids: tuple[str, ...]
    first_patient: date | None
    completion: date | None
    depth: int
    summary: PathwaySummary
    upstream_count: int
    # This grant's euro award as a fraction of the pathway's total (None if unknown).
    grant_fraction: Decimal | None
    timeline_svg: str | None

    @property
    def anchor(self) -> str:
        return f"pathway-{self.output_id}"


@dataclass(frozen=True)
class RecordSummary:
    """When the record was created and last changed, from the audit trail."""

    created_at: datetime
    created_by: str | None
    last_changed_at: datetime
    last_changed_by: str | None
    last_change: str | None
    change_count: int
    version: int


@dataclass(frozen=True)
class GrantDossier(RecordDocument):
    """Everything the grant dossier shows, as plain values (no ORM objects)."""

    grant: GrantFacts
    money: Money
    co_funding: tuple[CoFundingRow, ...]
    allocations: tuple[AllocationRow, ...]
    investigators: tuple[InvestigatorRow, ...]
    outputs: tuple[CreditedOutput, ...]
    trials: tuple[TrialRow, ...]
    pathways: tuple[TrialPathway, ...]
    record: RecordSummary
    method_notes: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return f"Grant dossier {self.grant.reference}"

    @property
    def co_funding_eur(self) -> Decimal:
        return sum((c.amount_eur for c in self.co_funding if c.amount_eur is not None), ZERO)

    @property
    def metadata(self) -> PdfMetadata:
        return self.pdf_metadata(
            subject=f"Facts, money, outputs and trials downstream of the grant "
            f"{self.grant.reference}: {self.grant.title}",
            keywords=("grant dossier", self.grant.reference, "research grant", "clinical trials"),
        )


# --------------------------------------------------------------------------- queries


def _live_grant(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))


def find_grant_id(session: so.Session, text: str, levels: Sequence[Confidentiality]) -> int:
    """The id of the live, visible grant with this reference (or, failing that, this id)."""
    value = text.strip()
    found = session.scalar(
        sa.select(Grant.id).where(
            sa.func.lower(Grant.reference) == value.lower(), _live_grant(levels)
        )
    )
    if found is None and value.isdigit():
        found = session.scalar(
            sa.select(Grant.id).where(Grant.id == int(value), _live_grant(levels))
        )
    if found is None:
        raise GrantNotFound(f"No grant with reference {value!r}")
    return found


def _name(given: str | None, family: str | None) -> str | None:
    if family is None:
        return None
    return f"{given} {family}".strip() if given else family


def _facts(session: so.Session, grant_id: int, levels: Sequence[Confidentiality]) -> GrantFacts:
    previous = sa.orm.aliased(Grant)
    row = session.execute(
        sa.select(
            Grant,
            Programme.name.label("programme"),
            Organisation.name.label("host"),
            Organisation.country,
            Person.given_names,
            Person.family_name,
            previous.reference.label("previous_reference"),
        )
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .outerjoin(Programme, Programme.id == Grant.programme_id)
        .outerjoin(Person, Person.id == Grant.principal_investigator_id)
        .outerjoin(previous, previous.id == Grant.previous_grant_id)
        .where(Grant.id == grant_id, _live_grant(levels))
    ).one_or_none()
    if row is None:
        raise GrantNotFound(f"No grant with id {grant_id}")
    grant: Grant = row.Grant
    areas = tuple(
        session.scalars(
            sa.select(ResearchArea.name)
            .join(grant_areas, grant_areas.c.research_area_id == ResearchArea.id)
            .where(grant_areas.c.grant_id == grant_id)
            .order_by(ResearchArea.name)
        )
    )
    continuations = tuple(
        session.scalars(
            sa.select(Grant.reference)
            .where(Grant.previous_grant_id == grant_id, _live_grant(levels))
            .order_by(Grant.award_date, Grant.reference)
        )
    )
    previous_text = None
    if row.previous_reference is not None and grant.relation_to_previous is not None:
        previous_text = f"{row.previous_reference} ({grant.relation_to_previous.label.lower()})"
    return GrantFacts(
        id=grant.id,
        reference=grant.reference,
        title=grant.title,
        summary=grant.summary,
        status=grant.status.label,
        confidentiality=grant.confidentiality.label,
        programme=row.programme,
        host=row.host,
        host_country=row.country,
        principal_investigator=_name(row.given_names, row.family_name),
        areas=areas,
        award_date=grant.award_date,
        start_date=grant.start_date,
        end_date=grant.end_date,
        amount=grant.amount_awarded,
        currency=grant.currency,
        amount_eur=grant.amount_eur,
        previous=previous_text,
        continuations=continuations,
        outcome_report_due=grant.outcome_report_due,
        outcome_report_received=grant.outcome_report_received,
    )


def _money(session: so.Session, facts: GrantFacts) -> Money:
    rows = session.execute(
        sa.select(
            Payment.due_date,
            Payment.paid_date,
            Payment.amount,
            Payment.currency,
            Payment.amount_eur,
            Payment.note,
        )
        .where(Payment.grant_id == facts.id)
        .order_by(Payment.due_date, Payment.id)
    ).all()
    payments = tuple(PaymentRow(*row) for row in rows)
    totals: dict[str, list[Decimal]] = {}
    for p in payments:
        scheduled, paid = totals.setdefault(p.currency, [ZERO, ZERO])
        totals[p.currency] = [scheduled + p.amount, paid + (p.amount if p.paid_date else ZERO)]
    # The award's currency first, then the others by code.
    by_currency = tuple(
        CurrencyTotal(code, *totals[code])
        for code in sorted(totals, key=lambda code: (code != facts.currency, code))
    )
    outstanding = None
    if not payments:
        outstanding = facts.amount
    elif len(by_currency) == 1 and by_currency[0].currency == facts.currency:
        outstanding = facts.amount - by_currency[0].paid
    return Money(
        payments=payments,
        by_currency=by_currency,
        scheduled_eur=sum((p.amount_eur for p in payments if p.amount_eur is not None), ZERO),
        paid_eur=sum(
            (p.amount_eur for p in payments if p.amount_eur is not None and p.paid_date), ZERO
        ),
        paid_count=sum(1 for p in payments if p.paid_date),
        outstanding=outstanding,
    )


def _fraction(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def _co_funding(session: so.Session, grant_id: int) -> tuple[CoFundingRow, ...]:
    rows = session.execute(
        sa.select(Organisation.name, CoFunding.amount, CoFunding.currency, CoFunding.amount_eur)
        .join(Organisation, Organisation.id == CoFunding.funder_organisation_id)
        .where(CoFunding.grant_id == grant_id)
        .order_by(CoFunding.amount_eur.desc().nulls_last(), Organisation.name)
    ).all()
    return tuple(CoFundingRow(*row) for row in rows)


def _allocations(session: so.Session, facts: GrantFacts) -> tuple[AllocationRow, ...]:
    rows = session.execute(
        sa.select(
            Fund.name,
            Fund.is_restricted,
            FundAllocation.amount,
            FundAllocation.currency,
            FundAllocation.amount_eur,
        )
        .join(Fund, Fund.id == FundAllocation.fund_id)
        .where(FundAllocation.grant_id == facts.id, Fund.deleted_at.is_(None))
        .order_by(FundAllocation.amount_eur.desc().nulls_last(), Fund.name)
    ).all()
    return tuple(
        AllocationRow(
            r.name,
            r.is_restricted,
            r.amount,
            r.currency,
            r.amount_eur,
            _fraction(r.amount_eur, facts.amount_eur),
        )
        for r in rows
    )


def _investigators(session: so.Session, grant_id: int) -> tuple[InvestigatorRow, ...]:
    """The principal investigator first, then the others by role and name (one query)."""
    affiliation = sa.orm.aliased(Organisation)
    principal = (
        sa.select(
            Person.id,
            Person.given_names,
            Person.family_name,
            Person.orcid,
            affiliation.name.label("affiliation"),
            sa.literal("Principal investigator").label("role"),
            sa.literal_column("0", sa.Integer).label("rank"),
        )
        .join(Grant, Grant.principal_investigator_id == Person.id)
        .outerjoin(affiliation, affiliation.id == Person.organisation_id)
        .where(Grant.id == grant_id)
    )
    others = (
        sa.select(
            Person.id,
            Person.given_names,
            Person.family_name,
            Person.orcid,
            affiliation.name,
            GrantInvestigator.role,
            sa.literal_column("1", sa.Integer),
        )
        .join(GrantInvestigator, GrantInvestigator.person_id == Person.id)
        .outerjoin(affiliation, affiliation.id == Person.organisation_id)
        .where(GrantInvestigator.grant_id == grant_id)
    )
    both = sa.union_all(principal, others).subquery("people")
    seen: set[int] = set()
    result = []
    for row in session.execute(
        sa.select(both).order_by(both.c.rank, both.c.family_name, both.c.given_names, both.c.id)
    ):
        if row.id in seen:  # a principal investigator also listed as co-investigator
            continue
        seen.add(row.id)
        role = row.role if row.rank == 0 else _role_label(row.role)
        result.append(
            InvestigatorRow(
                _name(row.given_names, row.family_name) or "", role, row.orcid, row.affiliation
            )
        )
    return tuple(result)


def _role_label(value: str) -> str:
    try:
        return InvestigatorRole(value).label
    except ValueError:
        return value


def _outputs(
    session: so.Session, grant_id: int, levels: Sequence[Confidentiality]
) -> tuple[CreditedOutput, ...]:
    rows = session.execute(
        sa.select(
            Output.title,
            Output.type,
            Output.output_date,
            Attribution.evidence,
            Attribution.evidence_text,
            Attribution.source,
            Attribution.share,
            Attribution.confirmed_by_id,
            ClinicalTrial.output_id.label("trial_id"),
        )
        .join(Attribution, Attribution.output_id == Output.id)
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .where(
            Attribution.grant_id == grant_id,
            Output.deleted_at.is_(None),
            Output.confidentiality.in_(levels),
        )
        .order_by(Output.output_date.nulls_last(), Output.id)
    )
    return tuple(
        CreditedOutput(
            title=r.title,
            kind=r.type.label,
            date=r.output_date,
            evidence=r.evidence.label,
            evidence_text=r.evidence_text,
            source=r.source,
            share=r.share,
            confirmed=r.confirmed_by_id is not None,
            is_trial=r.trial_id is not None,
        )
        for r in rows
    )


def _record(session: so.Session, grant_id: int) -> RecordSummary:
    """Created and last changed, from the events of the grant and its current sub-records."""
    grant = session.execute(
        sa.select(Grant.created_at, Grant.updated_at, Grant.version).where(Grant.id == grant_id)
    ).one()
    subrecords = [
        ("payments", sa.select(Payment.id).where(Payment.grant_id == grant_id)),
        ("co_fundings", sa.select(CoFunding.id).where(CoFunding.grant_id == grant_id)),
        (
            "fund_allocations",
            sa.select(FundAllocation.id).where(FundAllocation.grant_id == grant_id),
        ),
        ("attributions", sa.select(Attribution.id).where(Attribution.grant_id == grant_id)),
    ]
    concerns = sa.or_(
        sa.and_(AuditEvent.entity_type == "grants", AuditEvent.entity_id == grant_id),
        *(
            sa.and_(AuditEvent.entity_type == table, AuditEvent.entity_id.in_(ids))
            for table, ids in subrecords
        ),
    )
    events = session.execute(
        sa.select(
            AuditEvent.occurred_at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.summary,
            AuditEvent.entity_type,
        )
        .where(concerns, AuditEvent.action.in_(CHANGES))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).all()
    created = next(
        (e for e in events if e.entity_type == "grants" and e.action == AuditAction.CREATE), None
    )
    last = events[-1] if events else None
    return RecordSummary(
        created_at=created.occurred_at if created else grant.created_at,
        created_by=created.actor if created else None,
        last_changed_at=max(last.occurred_at, grant.updated_at) if last else grant.updated_at,
        last_changed_by=last.actor if last else None,
        last_change=(last.summary or last.action.label) if last else None,
        change_count=len(events),
        version=grant.version,
    )


def _pathway(
    session: so.Session, trial: TrialRow, facts: GrantFacts, levels: Sequence[Confidentiality]
) -> TrialPathway | None:
    try:
        found = trace_lineage(session, trial.output_id, levels)
    except OutputNotFound:  # deleted between the two queries
        return None
    details = found.output.trial
    return TrialPathway(
        output_id=trial.output_id,
        name=trial.name,
        title=trial.title,
        phase=trial.phase,
        status=trial.status,
        registry_ids=tuple(r.label for r in details.registry_ids) if details else (),
        first_patient=details.first_patient_date if details else None,
        completion=details.completion_date if details else None,
        depth=trial.depth,
        summary=found.summary,
        upstream_count=len(found.outputs),
        grant_fraction=_fraction(facts.amount_eur, found.summary.total_awarded_eur),
        timeline_svg=print_timeline(found, TIMELINE_HEIGHT)
        if (found.grants or found.outputs)
        else None,
    )


def build_dossier(
    session: so.Session,
    grant_id: int,
    *,
    foundation: str,
    levels: Sequence[Confidentiality] = TRUSTEE_LEVELS,
    is_draft: bool = True,
    max_pathways: int = DOSSIER_PATHWAYS,
    now: datetime | None = None,
) -> GrantDossier:
    """The dossier of one live grant visible at ``levels`` (raises GrantNotFound)."""
    levels = tuple(levels)
    facts = _facts(session, grant_id, levels)
    trials = trial_rows(downstream_trials(session, [grant_id], levels))
    # The nearest trials get the full pathway; ties by the order of first patients.
    nearest = sorted(trials, key=lambda t: t.depth)[:max_pathways]
    pathways = tuple(p for t in nearest if (p := _pathway(session, t, facts, levels)) is not None)
    return GrantDossier(
        **document_head(session, foundation=foundation, levels=levels, is_draft=is_draft, now=now),
        grant=facts,
        money=_money(session, facts),
        co_funding=_co_funding(session, grant_id),
        allocations=_allocations(session, facts),
        investigators=_investigators(session, grant_id),
        outputs=_outputs(session, grant_id, levels),
        trials=trials,
        pathways=pathways,
        record=_record(session, grant_id),
        method_notes=(
            ("Currency", CURRENCY_NOTE),
            ("Trials downstream", DOWNSTREAM_NOTE),
            ("Pathway figures", METHOD_NOTE),
        ),
    )


def dossier_html(
    dossier: GrantDossier, *, asset_url: str = "", preview: dict[str, str] | None = None
) -> str:
    """The grant dossier as HTML: for the PDF (relative asset URLs) or the web preview."""
    return render_document("dossier.html", dossier, asset_url=asset_url, preview=preview)


def dossier_pdf(dossier: GrantDossier, *, variant: str | None = None) -> bytes:
    """The grant dossier as PDF bytes."""
    return render_pdf(dossier_html(dossier), variant=variant, metadata=dossier.metadata)


def dossier_figures(dossier: GrantDossier) -> tuple[FigureTable, ...]:
    """The dossier's figures as CSV tables: the same values the PDF prints, unformatted."""
    g, m = dossier.grant, dossier.money
    facts = (
        ("reference", g.reference),
        ("title", g.title),
        ("status", g.status),
        ("programme", g.programme),
        ("host_institution", g.host),
        ("host_country", g.host_country),
        ("principal_investigator", g.principal_investigator),
        ("research_areas", "; ".join(g.areas)),
        ("award_date", g.award_date),
        ("start_date", g.start_date),
        ("end_date", g.end_date),
        ("amount", g.amount),
        ("currency", g.currency),
        ("amount_eur", g.amount_eur),
        ("scheduled_eur", m.scheduled_eur),
        ("paid_eur", m.paid_eur),
        ("instalments_paid", m.paid_count),
        ("instalments", len(m.payments)),
        ("still_to_pay", m.outstanding),
        ("co_funding_eur", dossier.co_funding_eur),
        ("outputs_credited", len(dossier.outputs)),
        ("trials_downstream", len(dossier.trials)),
        ("outcome_report_due", g.outcome_report_due),
        ("outcome_report_received", g.outcome_report_received),
    )
    return (
        FigureTable("grant.csv", f"The grant {g.reference}", ("field", "value"), facts),
        FigureTable(
            "payments.csv",
            "Instalments: due and paid dates, amounts in the grant's currency and in EUR",
            ("due_date", "paid_date", "amount", "currency", "amount_eur", "note"),
            tuple(
                (p.due_date, p.paid_date, p.amount, p.currency, p.amount_eur, p.note)
                for p in m.payments
            ),
        ),
        FigureTable(
            "co-funding.csv",
            "Other funders of the grant",
            ("funder", "amount", "currency", "amount_eur"),
            tuple((c.funder, c.amount, c.currency, c.amount_eur) for c in dossier.co_funding),
        ),
        FigureTable(
            "fund-allocations.csv",
            "The foundation's funds the grant is paid from, with their share of the award",
            ("fund", "restricted", "amount", "currency", "amount_eur", "share_of_award"),
            tuple(
                (a.fund, a.is_restricted, a.amount, a.currency, a.amount_eur, a.share)
                for a in dossier.allocations
            ),
        ),
        FigureTable(
            "outputs.csv",
            "Outputs the grant is credited with, and the evidence",
            ("output", "type", "date", "evidence", "share", "confirmed", "clinical_trial"),
            tuple(
                (o.title, o.kind, o.date, o.evidence, o.share, o.confirmed, o.is_trial)
                for o in dossier.outputs
            ),
        ),
        FigureTable(
            "trials-downstream.csv",
            "Clinical trials downstream of the grant, and the pathway figures of those shown",
            TrialRow.COLUMNS + ("pathway_grants", "pathway_total_eur", "grant_share_of_pathway"),
            tuple(t.figures() + _pathway_figures(dossier, t.output_id) for t in dossier.trials),
        ),
    )


def _pathway_figures(dossier: GrantDossier, output_id: int) -> tuple[object, ...]:
    pathway = next((p for p in dossier.pathways if p.output_id == output_id), None)
    if pathway is None:
        return (None, None, None)
    summary = pathway.summary
    return (summary.grant_count, summary.total_awarded_eur, pathway.grant_fraction)


def dossier_archive_pdf(dossier: GrantDossier) -> bytes:
    """The archive copy: PDF/A-3u with :func:`dossier_figures` attached as CSV."""
    return archive_pdf(dossier_html(dossier), dossier.metadata, dossier_figures(dossier))
