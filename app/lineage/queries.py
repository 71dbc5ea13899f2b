"""Read queries over the impact graph: the lineage of an output, the downstream of grants.

Everything is computed in SQL with SQLAlchemy Core (recursive CTEs written with
``UNION``, portable to SQLite and PostgreSQL); only frozen dataclasses of plain
values leave this module, never ORM objects.

Visibility: an output that is soft-deleted or whose confidentiality is not
among the caller's levels is left out of a pathway *and not traversed*: what
lies upstream of it is reached only along another visible path. A grant
attributed to the pathway is listed only if it is live and visible.

With ``confirmed_only`` the pathway follows only confirmed output links and
counts only confirmed attributions.

Method of the pathway figures (:data:`METHOD_NOTE`, printed by the reports)::

    Each grant attributed to any output of the pathway is counted once, however
    many of the pathway's outputs it is attributed to. "Total awarded" is the
    sum of the euro equivalents of those grants' awards (amounts in lire and
    other legacy currencies converted at the irrevocable euro rates); grants
    whose euro equivalent is unknown are listed but not summed. "Attributed"
    counts only grants with a recorded share on at least one of their
    attributions to the pathway's outputs: each such grant contributes its
    euro amount multiplied by the largest of those shares, rounded to the cent;
    grants without any recorded share are not part of the attributed figure.
    The attributed figure is therefore never more than the total, and a grant
    reached along several paths is never counted twice. "First grant to first
    patient" runs from the year of the earliest award among the grants to the
    year the trial treated its first patient (else its start year, else the
    output's own year).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import REGISTRY_LABELS, InvalidIdentifier, parse_trial_registry_id
from app.models import (
    Attribution,
    ClinicalTrial,
    Confidentiality,
    EvidenceKind,
    Grant,
    GrantInvestigator,
    LinkRelation,
    Organisation,
    Output,
    OutputLink,
    OutputType,
    Person,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    TrialStatus,
)

__all__ = [
    "MAX_DEPTH",
    "METHOD_NOTE",
    "DownstreamTrial",
    "Lineage",
    "LineageEdge",
    "LineageOutput",
    "OutputNotFound",
    "PathwayAttribution",
    "PathwayGrant",
    "PathwaySummary",
    "RegistryId",
    "TrialDetails",
    "UpstreamOutput",
    "attributed_amount",
    "downstream_output_ids",
    "downstream_trials",
    "lineage",
    "resolve_output_id",
    "upstream_output_ids",
]

METHOD_NOTE = (
    "Each grant attributed to any output of the pathway is counted once, however many of the "
    "pathway's outputs it is attributed to. \"Total awarded\" is the sum of the euro "
    "equivalents of those grants' awards (amounts in lire and other legacy currencies "
    "converted at the irrevocable euro rates); grants whose euro equivalent is unknown are "
    "listed but not summed. \"Attributed\" counts only grants with a recorded share on at "
    "least one of their attributions to the pathway's outputs: each such grant contributes "
    "its euro amount multiplied by the largest of those shares, rounded to the cent; grants "
    "without any recorded share are not part of the attributed figure. The attributed figure "
    "is therefore never more than the total, and a grant reached along several paths is never "
    "counted twice. \"First grant to first patient\" runs from the year of the earliest award "
    "among the grants to the year the trial treated its first patient (else its start year, "
    "else the output's own year)."
)

# Links form a DAG (cycles are rejected on entry); should one slip in anyway,
# the recursion stops at this depth instead of running for ever.
MAX_DEPTH = 200

CENT = Decimal("0.01")


class OutputNotFound(LookupError):
    """No live output answers to the given id or registry number."""


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class RegistryId:
    scheme: TrialRegistry
    value: str

    @property
    def label(self) -> str:
        return f"{self.scheme.label} {self.value}"


@dataclass(frozen=True)
class TrialDetails:
    acronym: str | None
    phase: TrialPhase
    status: TrialStatus
    registry_ids: tuple[RegistryId, ...]
    start_date: date | None
    first_patient_date: date | None
    completion_date: date | None


@dataclass(frozen=True)
class LineageOutput:
    """The output whose lineage is traced (usually a trial)."""

    id: int
    title: str
    type: OutputType
    date: date | None
    trial: TrialDetails | None

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None


@dataclass(frozen=True)
class UpstreamOutput:
    """An output the traced one stands on, at its shortest distance (``depth`` >= 1)."""

    id: int
    title: str
    type: OutputType
    date: date | None
    depth: int

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None


@dataclass(frozen=True)
class LineageEdge:
    """An output link inside the pathway: ``output_id`` stands on ``upstream_output_id``."""

    output_id: int
    upstream_output_id: int
    relation: LinkRelation
    evidence: EvidenceKind
    evidence_text: str | None
    confirmed: bool


@dataclass(frozen=True)
class PathwayAttribution:
    """One attribution of a grant to an output of the pathway."""

    output_id: int
    depth: int
    evidence: EvidenceKind
    evidence_text: str | None
    share: Decimal | None
    confirmed: bool


@dataclass(frozen=True)
class PathwayGrant:
    id: int
    reference: str
    title: str
    award_date: date
    amount: Decimal
    currency: str
    amount_eur: Decimal | None
    institution_id: int
    institution: str
    investigators: tuple[str, ...]  # the principal investigator first
    depth: int  # shortest depth of the outputs it is attributed to
    attributions: tuple[PathwayAttribution, ...]  # nearest output first

    @property
    def share(self) -> Decimal | None:
        """The largest share among its attributions to the pathway, if any has one."""
        shares = [a.share for a in self.attributions if a.share is not None]
        return max(shares) if shares else None

    @property
    def attributed_eur(self) -> Decimal | None:
        return attributed_amount(self.amount_eur, self.share)


@dataclass(frozen=True)
class PathwaySummary:
    grant_count: int
    total_awarded_eur: Decimal
    # None when no grant of the pathway has a recorded share.
    attributed_eur: Decimal | None
    first_grant_year: int | None
    trial_start_year: int | None
    years_to_trial: int | None
    institution_count: int
    researcher_count: int
    # Grants making up the attributed figure, and grants left out of the sums
    # because their euro equivalent is unknown.
    shared_grant_count: int
    unconverted_grant_count: int


@dataclass(frozen=True)
class Lineage:
    output: LineageOutput
    outputs: tuple[UpstreamOutput, ...]  # upstream only; nearest first
    edges: tuple[LineageEdge, ...]
    grants: tuple[PathwayGrant, ...]  # by award date
    summary: PathwaySummary
    confirmed_only: bool
    method_note: str = METHOD_NOTE


@dataclass(frozen=True)
class DownstreamTrial:
    output_id: int
    title: str
    acronym: str | None
    phase: TrialPhase
    status: TrialStatus
    registry_ids: tuple[RegistryId, ...]
    start_date: date | None
    first_patient_date: date | None
    depth: int  # 0: attributed directly to one of the grants


# --------------------------------------------------------------------------- helpers


def attributed_amount(amount_eur: Decimal | None, share: Decimal | None) -> Decimal | None:
    """A grant's attributed euro amount: amount × share, rounded half-even to the cent."""
    if amount_eur is None or share is None:
        return None
    return (amount_eur * share).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _visible_output(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Output.deleted_at.is_(None), Output.confidentiality.in_(levels))


def _visible_grant(levels: Sequence[Confidentiality]) -> sa.ColumnElement[bool]:
    return sa.and_(Grant.deleted_at.is_(None), Grant.confidentiality.in_(levels))


def _upstream_cte(
    output_id: int, levels: Sequence[Confidentiality], confirmed_only: bool
) -> sa.CTE:
    """(output_id, depth) rows reachable backwards; a node may appear at several depths."""
    anchor = sa.select(
        Output.id.label("output_id"), sa.literal_column("0", sa.Integer).label("depth")
    ).where(Output.id == output_id, _visible_output(levels))
    upstream = anchor.cte("upstream", recursive=True)
    step = (
        sa.select(OutputLink.upstream_output_id, upstream.c.depth + 1)
        .join(upstream, OutputLink.output_id == upstream.c.output_id)
        .join(Output, Output.id == OutputLink.upstream_output_id)
        .where(_visible_output(levels), upstream.c.depth < MAX_DEPTH)
    )
    if confirmed_only:
        step = step.where(OutputLink.confirmed_by_id.is_not(None))
    # UNION, not UNION ALL: equal (node, depth) rows reached along different
    # paths collapse, so diamonds do not multiply the rows.
    return upstream.union(step)


def _downstream_cte(
    grant_ids: Collection[int], levels: Sequence[Confidentiality], confirmed_only: bool
) -> sa.CTE:
    """(output_id, depth) rows: outputs attributed to the grants (0) and all standing on them."""
    anchor = (
        sa.select(
            Attribution.output_id.label("output_id"),
            sa.literal_column("0", sa.Integer).label("depth"),
        )
        .join(Grant, Grant.id == Attribution.grant_id)
        .join(Output, Output.id == Attribution.output_id)
        .where(
            Attribution.grant_id.in_(list(grant_ids)),
            _visible_grant(levels),
            _visible_output(levels),
        )
    )
    if confirmed_only:
        anchor = anchor.where(Attribution.confirmed_by_id.is_not(None))
    downstream = anchor.cte("downstream", recursive=True)
    step = (
        sa.select(OutputLink.output_id, downstream.c.depth + 1)
        .join(downstream, OutputLink.upstream_output_id == downstream.c.output_id)
        .join(Output, Output.id == OutputLink.output_id)
        .where(_visible_output(levels), downstream.c.depth < MAX_DEPTH)
    )
    if confirmed_only:
        step = step.where(OutputLink.confirmed_by_id.is_not(None))
    return downstream.union(step)


def _min_depths(cte: sa.CTE) -> sa.Subquery:
    return (
        sa.select(cte.c.output_id, sa.func.min(cte.c.depth).label("depth"))
        .group_by(cte.c.output_id)
        .subquery("nodes")
    )


def _person_name(given_names: str | None, family_name: str) -> str:
    return f"{given_names} {family_name}".strip() if given_names else family_name


# --------------------------------------------------------------------------- graph walks


def upstream_output_ids(
    session: so.Session,
    output_id: int,
    levels: Sequence[Confidentiality],
    confirmed_only: bool = False,
) -> dict[int, int]:
    """Every visible output reachable backwards from ``output_id``, with its shortest depth.

    The output itself is included at depth 0 (if it is visible; else the result is empty).
    """
    nodes = _min_depths(_upstream_cte(output_id, levels, confirmed_only))
    rows = session.execute(sa.select(nodes.c.output_id, nodes.c.depth))
    return {row.output_id: row.depth for row in rows}


def downstream_output_ids(
    session: so.Session,
    grant_ids: Iterable[int],
    levels: Sequence[Confidentiality],
    confirmed_only: bool = False,
) -> dict[int, int]:
    """Outputs the grants contributed to, with their shortest depth.

    Depth 0: attributed directly to one of the (live, visible) grants; depth n:
    stands, through n output links, on such an output.
    """
    ids = set(grant_ids)
    if not ids:
        return {}
    nodes = _min_depths(_downstream_cte(ids, levels, confirmed_only))
    rows = session.execute(sa.select(nodes.c.output_id, nodes.c.depth))
    return {row.output_id: row.depth for row in rows}


def registry_ids(session: so.Session, output_ids: Collection[int]) -> dict[int, list[RegistryId]]:
    """Registry ids of trials, by output id, in scheme order (one query)."""
    found: dict[int, list[RegistryId]] = {}
    if not output_ids:
        return found
    rows = session.execute(
        sa.select(TrialRegistryId.trial_output_id, TrialRegistryId.scheme, TrialRegistryId.value)
        .where(TrialRegistryId.trial_output_id.in_(list(output_ids)))
        .order_by(TrialRegistryId.trial_output_id, TrialRegistryId.scheme, TrialRegistryId.value)
    )
    for row in rows:
        found.setdefault(row.trial_output_id, []).append(RegistryId(row.scheme, row.value))
    return found


def downstream_trials(
    session: so.Session,
    grant_ids: Iterable[int],
    levels: Sequence[Confidentiality],
    confirmed_only: bool = False,
) -> tuple[DownstreamTrial, ...]:
    """The clinical trials among the outputs downstream of the grants (two queries)."""
    ids = set(grant_ids)
    if not ids:
        return ()
    nodes = _min_depths(_downstream_cte(ids, levels, confirmed_only))
    rows = session.execute(
        sa.select(
            Output.id, Output.title, ClinicalTrial.acronym, ClinicalTrial.phase,
            ClinicalTrial.status, ClinicalTrial.start_date, ClinicalTrial.first_patient_date,
            nodes.c.depth,
        )
        .join(nodes, nodes.c.output_id == Output.id)
        .join(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .order_by(
            ClinicalTrial.first_patient_date.nulls_last(), ClinicalTrial.start_date.nulls_last(),
            Output.id,
        )
    ).all()
    registry = registry_ids(session, [row.id for row in rows])
    return tuple(
        DownstreamTrial(
            output_id=row.id, title=row.title, acronym=row.acronym, phase=row.phase,
            status=row.status, registry_ids=tuple(registry.get(row.id, ())),
            start_date=row.start_date, first_patient_date=row.first_patient_date,
            depth=row.depth,
        )
        for row in rows
    )


# --------------------------------------------------------------------------- resolving


def resolve_output_id(session: so.Session, text: str) -> int:
    """The id of the live output named by an output id or a trial registry number.

    Accepts digits (an output id) or an NCT, EudraCT, EU CT, ISRCTN or WHO UTN
    number in any form :func:`app.identifiers.parse_trial_registry_id` accepts.
    Raises :class:`OutputNotFound` with a message fit to show to a user.
    """
    value = text.strip()
    if re.fullmatch(r"\d+", value):
        found = session.scalar(
            sa.select(Output.id).where(Output.id == int(value), Output.deleted_at.is_(None))
        )
        if found is None:
            raise OutputNotFound(f"No output with id {int(value)}")
        return found
    try:
        scheme, canonical = parse_trial_registry_id(value)
    except InvalidIdentifier as exc:
        raise OutputNotFound(
            f"{value!r} is neither an output id nor a trial registry id: {exc.message}"
        ) from exc
    found = session.scalar(
        sa.select(TrialRegistryId.trial_output_id)
        .join(Output, Output.id == TrialRegistryId.trial_output_id)
        .where(
            TrialRegistryId.scheme == TrialRegistry(scheme),
            TrialRegistryId.value == canonical,
            Output.deleted_at.is_(None),
        )
    )
    if found is None:
        raise OutputNotFound(f"No trial with {REGISTRY_LABELS[scheme]} id {canonical}")
    return found


# --------------------------------------------------------------------------- lineage


def _root(
    session: so.Session, output_id: int, levels: Sequence[Confidentiality]
) -> LineageOutput:
    rows = session.execute(
        sa.select(
            Output.id, Output.title, Output.type, Output.output_date,
            ClinicalTrial.output_id.label("trial_id"), ClinicalTrial.acronym,
            ClinicalTrial.phase, ClinicalTrial.status, ClinicalTrial.start_date,
            ClinicalTrial.first_patient_date, ClinicalTrial.completion_date,
            TrialRegistryId.scheme, TrialRegistryId.value,
        )
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
        .outerjoin(TrialRegistryId, TrialRegistryId.trial_output_id == ClinicalTrial.output_id)
        .where(Output.id == output_id, _visible_output(levels))
        .order_by(TrialRegistryId.scheme, TrialRegistryId.value)
    ).all()
    if not rows:
        raise OutputNotFound(f"No output with id {output_id}")
    first = rows[0]
    trial = None
    if first.trial_id is not None:
        trial = TrialDetails(
            acronym=first.acronym, phase=first.phase, status=first.status,
            registry_ids=tuple(
                RegistryId(row.scheme, row.value) for row in rows if row.scheme is not None
            ),
            start_date=first.start_date, first_patient_date=first.first_patient_date,
            completion_date=first.completion_date,
        )
    return LineageOutput(first.id, first.title, first.type, first.output_date, trial)


def _trial_start_year(output: LineageOutput) -> int | None:
    if output.trial is not None:
        for day in (output.trial.first_patient_date, output.trial.start_date):
            if day is not None:
                return day.year
    return output.year


def _summarise(output: LineageOutput, grants: Sequence[PathwayGrant],
               people: set[int]) -> PathwaySummary:
    converted = [g.amount_eur for g in grants if g.amount_eur is not None]
    attributed = [amount for g in grants if (amount := g.attributed_eur) is not None]
    first_grant_year = min((g.award_date.year for g in grants), default=None)
    trial_start_year = _trial_start_year(output)
    years = None
    if first_grant_year is not None and trial_start_year is not None:
        years = trial_start_year - first_grant_year
    return PathwaySummary(
        grant_count=len(grants),
        total_awarded_eur=sum(converted, Decimal("0.00")),
        attributed_eur=sum(attributed, Decimal("0.00")) if attributed else None,
        first_grant_year=first_grant_year,
        trial_start_year=trial_start_year,
        years_to_trial=years,
        institution_count=len({g.institution_id for g in grants}),
        researcher_count=len(people),
        shared_grant_count=len(attributed),
        unconverted_grant_count=len(grants) - len(converted),
    )


def lineage(
    session: so.Session,
    output_id: int,
    levels: Sequence[Confidentiality],
    confirmed_only: bool = False,
) -> Lineage:
    """The pathway behind an output: upstream outputs, links, grants and figures.

    At most five queries whatever the size of the pathway: the output (with
    its trial and registry ids), the upstream outputs (recursive CTE), the
    links among them, the attributed grants (with institutions), and their
    investigators. Raises :class:`OutputNotFound` if the output is not live
    and visible.
    """
    root = _root(session, output_id, levels)

    nodes = _min_depths(_upstream_cte(output_id, levels, confirmed_only))
    node_rows = session.execute(
        sa.select(Output.id, Output.title, Output.type, Output.output_date, nodes.c.depth)
        .join(nodes, nodes.c.output_id == Output.id)
        .order_by(nodes.c.depth, Output.output_date.desc().nulls_last(), Output.id)
    ).all()
    depth = {row.id: row.depth for row in node_rows}
    ids = list(depth)
    upstream = tuple(
        UpstreamOutput(row.id, row.title, row.type, row.output_date, row.depth)
        for row in node_rows
        if row.depth > 0
    )

    edges: tuple[LineageEdge, ...] = ()
    if len(ids) > 1:
        link_query = (
            sa.select(
                OutputLink.output_id, OutputLink.upstream_output_id, OutputLink.relation,
                OutputLink.evidence, OutputLink.evidence_text, OutputLink.confirmed_by_id,
            )
            .where(OutputLink.output_id.in_(ids), OutputLink.upstream_output_id.in_(ids))
            .order_by(OutputLink.output_id, OutputLink.upstream_output_id)
        )
        if confirmed_only:
            link_query = link_query.where(OutputLink.confirmed_by_id.is_not(None))
        edges = tuple(
            LineageEdge(
                row.output_id, row.upstream_output_id, row.relation, row.evidence,
                row.evidence_text, row.confirmed_by_id is not None,
            )
            for row in session.execute(link_query)
        )

    attribution_query = (
        sa.select(
            Grant.id, Grant.reference, Grant.title, Grant.award_date, Grant.amount_awarded,
            Grant.currency, Grant.amount_eur, Grant.host_organisation_id,
            Grant.principal_investigator_id, Organisation.name.label("institution"),
            Attribution.output_id, Attribution.evidence, Attribution.evidence_text,
            Attribution.share, Attribution.confirmed_by_id,
        )
        .join(Attribution, Attribution.grant_id == Grant.id)
        .join(Organisation, Organisation.id == Grant.host_organisation_id)
        .where(Attribution.output_id.in_(ids), _visible_grant(levels))
        .order_by(Grant.award_date, Grant.reference, Attribution.output_id)
    )
    if confirmed_only:
        attribution_query = attribution_query.where(Attribution.confirmed_by_id.is_not(None))
    by_grant: dict[int, list[Any]] = {}
    for row in session.execute(attribution_query):
        by_grant.setdefault(row.id, []).append(row)

    names: dict[int, list[str]] = {}
    people: set[int] = set()
    if by_grant:
        grant_ids = list(by_grant)
        principal = (
            sa.select(
                Grant.id.label("grant_id"), Person.id.label("person_id"),
                Person.given_names, Person.family_name,
                sa.literal_column("0", sa.Integer).label("rank"),
            )
            .join(Person, Person.id == Grant.principal_investigator_id)
            .where(Grant.id.in_(grant_ids))
        )
        co = (
            sa.select(
                GrantInvestigator.grant_id, Person.id, Person.given_names, Person.family_name,
                sa.literal_column("1", sa.Integer),
            )
            .join(Person, Person.id == GrantInvestigator.person_id)
            .where(GrantInvestigator.grant_id.in_(grant_ids))
        )
        both = sa.union_all(principal, co).subquery("investigators")
        seen: set[tuple[int, int]] = set()
        for row in session.execute(
            sa.select(both).order_by(
                both.c.grant_id, both.c.rank, both.c.family_name, both.c.given_names,
                both.c.person_id,
            )
        ):
            if (row.grant_id, row.person_id) in seen:  # a PI also listed as co-investigator
                continue
            seen.add((row.grant_id, row.person_id))
            people.add(row.person_id)
            names.setdefault(row.grant_id, []).append(
                _person_name(row.given_names, row.family_name)
            )

    grants = []
    for grant_id, rows in by_grant.items():
        first = rows[0]
        attributions = tuple(
            sorted(
                (
                    PathwayAttribution(
                        output_id=row.output_id, depth=depth[row.output_id],
                        evidence=row.evidence, evidence_text=row.evidence_text,
                        share=row.share, confirmed=row.confirmed_by_id is not None,
                    )
                    for row in rows
                ),
                key=lambda a: (a.depth, a.output_id),
            )
        )
        grants.append(
            PathwayGrant(
                id=grant_id, reference=first.reference, title=first.title,
                award_date=first.award_date, amount=first.amount_awarded,
                currency=first.currency, amount_eur=first.amount_eur,
                institution_id=first.host_organisation_id, institution=first.institution,
                investigators=tuple(names.get(grant_id, ())),
                depth=attributions[0].depth, attributions=attributions,
            )
        )

    return Lineage(
        output=root,
        outputs=upstream,
        edges=edges,
        grants=tuple(grants),
        summary=_summarise(root, grants, people),
        confirmed_only=confirmed_only,
    )
