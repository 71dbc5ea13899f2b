"""Read queries for output pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.identifiers import (
    InvalidIdentifier,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_trial_registry_id,
)
from app.models import (
    Attribution,
    AuditEvent,
    ClinicalTrial,
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    FurtherFunding,
    Grant,
    LinkRelation,
    Output,
    OutputLink,
    OutputType,
    Publication,
    TrialPhase,
    TrialRegistry,
    TrialRegistryId,
    User,
)
from app.records.cache import cached_read
from app.records.listing import (
    ListParams,
    Page,
    distinct_years,
    like_pattern,
    nulls_last_page,
    page_number,
    stream,
    unindexed,
)
from app.visibility import ALL_LEVELS

FILTERS = ("type", "year", "grant")
SORTS = {"date": Output.output_date, "title": Output.title, "type": Output.type}
DEFAULT_SORT = "date"

REGISTRY_URLS = {
    TrialRegistry.NCT: "https://clinicaltrials.gov/study/{}",
    TrialRegistry.EUDRACT: "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
    TrialRegistry.ISRCTN: "https://www.isrctn.com/{}",
}


def date_label(value: date | None, precision: DatePrecision) -> str:
    """A partial date as people write it: 2017, May 2017 or 11 May 2017."""
    if value is None:
        return "–"
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return value.strftime("%B %Y")
    return value.strftime("%-d %b %Y")


def registry_url(scheme: TrialRegistry, value: str) -> str | None:
    """The public registry page of a trial id, where the registry has stable URLs."""
    pattern = REGISTRY_URLS.get(scheme)
    return pattern.format(value) if pattern else None


@dataclass(frozen=True)
class IdentifierLink:
    label: str
    value: str
    url: str | None


def identifier_links(output: Output) -> list[IdentifierLink]:
    """An output's persistent identifiers, each with its public page where there is one."""
    links: list[IdentifierLink] = []
    if (p := output.publication) is not None:
        if p.doi:
            links.append(IdentifierLink("DOI", p.doi, f"https://doi.org/{p.doi}"))
        if p.pmid:
            links.append(
                IdentifierLink("PMID", p.pmid, f"https://pubmed.ncbi.nlm.nih.gov/{p.pmid}/")
            )
        if p.pmcid:
            url = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{p.pmcid}/"
            links.append(IdentifierLink("PMCID", p.pmcid, url))
    if output.trial is not None:
        for r in output.trial.registry_ids:
            links.append(IdentifierLink(r.scheme.label, r.value, registry_url(r.scheme, r.value)))
    return links


@dataclass(frozen=True)
class OutputRow:
    id: int
    type: OutputType
    title: str
    date_label: str
    confidentiality: Confidentiality
    deleted: bool
    doi: str | None
    journal: str | None
    is_trial: bool
    phase: TrialPhase | None
    registry_ids: list[str]
    grants: int


@dataclass(frozen=True)
class FilterChoices:
    years: list[int]
    types: list[tuple[str, str]]
    grant_label: str | None


def _search(text: str) -> sa.ColumnElement[bool]:
    """Title words anywhere, or an exact DOI, PMID, PMCID or trial registry id."""
    conditions: list[sa.ColumnElement[bool]] = [
        sa.func.lower(Output.title).like(like_pattern(text.lower()), escape="\\")
    ]
    for column, normalise in (
        (Publication.doi, normalise_doi),
        (Publication.pmid, normalise_pmid),
        (Publication.pmcid, normalise_pmcid),
    ):
        try:
            value = normalise(text)
        except InvalidIdentifier:
            continue
        conditions.append(Output.id.in_(sa.select(Publication.output_id).where(column == value)))
    try:
        scheme, value = parse_trial_registry_id(text)
    except InvalidIdentifier:
        pass
    else:
        conditions.append(
            Output.id.in_(
                sa.select(TrialRegistryId.trial_output_id).where(
                    TrialRegistryId.scheme == TrialRegistry(scheme),
                    TrialRegistryId.value == value,
                )
            )
        )
    return sa.or_(*conditions)


# What the cached counts and year options read (app/records/cache.py). A search or a grant
# filter also reads publications, trial registry ids or attributions: not cached (a search
# reads every title anyway; a grant has a handful of outputs).
COUNT_TABLES = ("outputs",)
# How a page is read depends on how many outputs match (the COUNT comes first), as for grants
# (app/grants/queries.py): above LARGE, the sort's index is read in order, testing the filters
# on the way; up to LARGE, the matching outputs are picked by the filters' indexes and sorted.
LARGE = 10_000
# Each sort with its tie-breaker, in the order of an index over live outputs that also holds
# the filtered columns (migration 0cfe4892e847): ix_outputs_live_date, ix_outputs_live_title,
# ix_outputs_live_type.
ORDERS: dict[str, tuple[Any, ...]] = {
    "date": (Output.output_date, Output.id),
    "title": (Output.title, Output.id),
    "type": (Output.type, Output.id),
}
# The filter whose column each sort's index starts with (it then finds the rows itself).
SORT_FILTER = {"date": "year", "type": "type"}


def _conditions(
    params: ListParams, levels: Sequence[Confidentiality], sorted_scan: bool = False
) -> list[sa.ColumnElement[bool]]:
    """The list's filters, on the outputs table alone (so a COUNT needs no join).

    ``sorted_scan`` (many rows match, read in the sort's index order) keeps SQLite from
    looking up the rows by another filter's index, which would make it sort them all.
    """
    own = SORT_FILTER.get(params.sort)

    def col(column: Any, name: str = "") -> Any:
        return unindexed(column) if sorted_scan and name != own else column

    conditions: list[sa.ColumnElement[bool]] = [
        Output.deleted_at.is_not(None) if params.show_deleted else Output.deleted_at.is_(None)
    ]
    if set(levels) != set(ALL_LEVELS):
        # For staff the test holds for every row: leaving it out lets counts use an index alone.
        conditions.append(col(Output.confidentiality).in_(levels))
    if params.q:
        conditions.append(_search(params.q))
    if params.filters.get("type") in OutputType.__members__.values():
        conditions.append(col(Output.type, "type") == OutputType(params.filters["type"]))
    if (year := params.filter_int("year")) is not None and 1 <= year <= 9998:
        conditions.append(col(Output.output_date, "year") >= date(year, 1, 1))
        conditions.append(col(Output.output_date, "year") < date(year + 1, 1, 1))
    if (grant := params.filter_int("grant")) is not None:
        conditions.append(
            col(Output.id).in_(
                sa.select(Attribution.output_id).where(Attribution.grant_id == grant)
            )
        )
    return conditions


def _order(params: ListParams, keys: Sequence[Any]) -> list[Any]:
    direction = sa.desc if params.descending else sa.asc
    order = [direction(key) for key in keys]
    if params.sort == "date":  # the only sort column that may be empty
        order[0] = order[0].nulls_last()
    return order


def _row_select(levels: Sequence[Confidentiality]) -> Any:
    """What a list row shows, with the number of grants (the user may see) credited."""
    grants = (
        sa.select(sa.func.count(Attribution.id))
        .join(Grant, Grant.id == Attribution.grant_id)
        .where(Attribution.output_id == Output.id, Grant.confidentiality.in_(levels))
        .correlate(Output)
        .scalar_subquery()
    )
    return (
        sa.select(
            Output.id,
            Output.type,
            Output.title,
            Output.output_date,
            Output.date_precision,
            Output.confidentiality,
            Output.deleted_at,
            Publication.doi,
            Publication.journal,
            ClinicalTrial.output_id.label("trial_id"),
            ClinicalTrial.phase,
            grants.label("grants"),
        )
        .outerjoin(Publication, Publication.output_id == Output.id)
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
    )


def _output_query(params: ListParams, levels: Sequence[Confidentiality]) -> Any:
    """Every output the list's filters match, in its order (exports: one sort of them all)."""
    return (
        _row_select(levels)
        .where(*_conditions(params, levels))
        .order_by(*_order(params, ORDERS[params.sort]))
    )


def _output_rows(session: so.Session, rows: Sequence[Any]) -> list[OutputRow]:
    """List rows, with the registry ids of the trials among them (one query for all)."""
    registry = _registry_ids(session, [r.id for r in rows if r.trial_id is not None])
    return [
        OutputRow(
            r.id,
            r.type,
            r.title,
            date_label(r.output_date, r.date_precision),
            r.confidentiality,
            r.deleted_at is not None,
            r.doi,
            r.journal,
            r.trial_id is not None,
            r.phase,
            registry.get(r.id, []),
            r.grants,
        )
        for r in rows
    ]


def _count(session: so.Session, params: ListParams, levels: Sequence[Confidentiality]) -> int:
    """How many outputs match (kept until outputs change, unless searched or by grant)."""
    count = sa.select(sa.func.count()).select_from(Output).where(*_conditions(params, levels))
    if params.q or params.filter_int("grant") is not None:
        return session.scalar(count) or 0
    question = ("output count", tuple(sorted(params.filters.items())), params.show_deleted)
    return cached_read(
        session, COUNT_TABLES, (*question, tuple(levels)), lambda: session.scalar(count) or 0
    )


def _page(
    session: so.Session,
    params: ListParams,
    levels: Sequence[Confidentiality],
    total: int,
    offset: int,
) -> list[Any]:
    """One page's rows (``_row_select``), in the list's order.

    The page's ids are found first, in a subquery reading no more than an index (an OFFSET
    skips index entries, not joined rows), and only the page's rows are read in full.
    """
    if total == 0:
        return []

    def read(ids: sa.Select[Any]) -> list[Any]:
        rows = _row_select(levels).where(Output.id.in_(ids))
        return list(session.execute(rows.order_by(*_order(params, ORDERS[params.sort]))))

    limit = params.per_page
    asked = set(params.filters) | ({"q"} if params.q else set())
    served = not params.show_deleted and asked <= {SORT_FILTER.get(params.sort)}
    if total > LARGE or served:
        # The sort's own index, read in order (it finds the rows of its own filter too).
        matching = sa.select(Output.id).where(*_conditions(params, levels, total > LARGE))
        if params.sort == "date":
            date_, id_ = ORDERS["date"]
            page = (offset, limit)
            return nulls_last_page(
                session, matching, date_, id_, params.descending, page, total, read
            )
        ordered = matching.order_by(*_order(params, ORDERS[params.sort]))
        return read(ordered.limit(limit).offset(offset))
    # Few match: picked on their own (MATERIALIZED: by the filters' indexes) with their sort
    # key, then sorted and cut to the page.
    key, _ = ORDERS[params.sort]
    picked = (
        sa.select(Output.id.label("output_id"), key.label("key"))
        .where(*_conditions(params, levels))
        .cte("matching")
        .prefix_with("MATERIALIZED")
    )
    ordered = sa.select(picked.c.output_id).order_by(
        *_order(params, (picked.c.key, picked.c.output_id))
    )
    return read(ordered.limit(limit).offset(offset))


def output_list(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Page[OutputRow]:
    """One page of outputs, filtered and sorted as asked."""
    total = _count(session, params, levels)
    number = page_number(params, total)
    rows = _page(session, params, levels, total, (number - 1) * params.per_page)
    return Page(_output_rows(session, rows), number, params.per_page, total)


def output_rows(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> Iterator[OutputRow]:
    """Every output the list's filters match, in its order, read in batches (exports)."""
    for batch in stream(session, _output_query(params, levels)):
        yield from _output_rows(session, batch)


def _registry_ids(session: so.Session, trial_ids: list[int]) -> dict[int, list[str]]:
    if not trial_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        sa.select(TrialRegistryId.trial_output_id, TrialRegistryId.value)
        .where(TrialRegistryId.trial_output_id.in_(trial_ids))
        .order_by(TrialRegistryId.scheme, TrialRegistryId.value)
    )
    for output_id, value in rows:
        found.setdefault(output_id, []).append(value)
    return found


def filter_choices(
    session: so.Session, params: ListParams, levels: Sequence[Confidentiality]
) -> FilterChoices:
    """Options for the list filters (and the name of a grant filtered on); the years are kept
    until outputs change."""
    years = cached_read(
        session,
        COUNT_TABLES,
        "output years",
        lambda: distinct_years(session, Output.output_date, Output.deleted_at.is_(None)),
    )
    grant_label = None
    if (grant_id := params.filter_int("grant")) is not None:
        row = session.execute(
            sa.select(Grant.reference, Grant.title).where(
                Grant.id == grant_id, Grant.confidentiality.in_(levels)
            )
        ).first()
        grant_label = f"{row.reference} · {row.title}" if row else None
    return FilterChoices(years, OutputType.choices(), grant_label)


def get_output(
    session: so.Session, output_id: int, levels: Sequence[Confidentiality]
) -> Output | None:
    """An output with its typed details, loaded up front (no lazy loads in templates)."""
    return session.scalar(
        sa.select(Output)
        .where(Output.id == output_id, Output.confidentiality.in_(levels))
        .options(
            so.joinedload(Output.publication),
            so.joinedload(Output.trial).joinedload(ClinicalTrial.sponsor),
            so.joinedload(Output.trial).selectinload(ClinicalTrial.registry_ids),
            so.joinedload(Output.further_funding).joinedload(FurtherFunding.funder),
            so.joinedload(Output.patent),
        )
    )


def grant_label(
    session: so.Session, grant_id: int | None, levels: Sequence[Confidentiality]
) -> str:
    """The picker label of a grant the user may see, else ''."""
    if grant_id is None:
        return ""
    row = session.execute(
        sa.select(Grant.reference, Grant.title).where(
            Grant.id == grant_id, Grant.confidentiality.in_(levels)
        )
    ).first()
    return f"{row.reference} · {row.title}" if row else ""


@dataclass(frozen=True)
class AttributionRow:
    id: int
    grant_id: int
    reference: str
    grant_title: str
    grant_deleted: bool
    share: Decimal | None
    evidence: EvidenceKind
    evidence_text: str | None
    source: str | None
    confirmed_by: str | None
    confirmed_at: datetime | None

    @property
    def share_label(self) -> str:
        """The share as a percentage without trailing zeros: 50%, 33.33%."""
        if self.share is None:
            return "–"
        return f"{(self.share * 100).normalize():f}%"


def attributions_of(
    session: so.Session, output_id: int, levels: Sequence[Confidentiality]
) -> list[AttributionRow]:
    """Grants credited with an output (those the user may see), oldest award first."""
    confirmer = so.aliased(User)
    rows = session.execute(
        sa.select(
            Attribution.id,
            Attribution.grant_id,
            Grant.reference,
            Grant.title,
            Grant.deleted_at,
            Attribution.share,
            Attribution.evidence,
            Attribution.evidence_text,
            Attribution.source,
            confirmer.email,
            Attribution.confirmed_at,
        )
        .join(Grant, Grant.id == Attribution.grant_id)
        .outerjoin(confirmer, confirmer.id == Attribution.confirmed_by_id)
        .where(Attribution.output_id == output_id, Grant.confidentiality.in_(levels))
        .order_by(Grant.award_date, Grant.reference)
    )
    return [
        AttributionRow(
            r.id,
            r.grant_id,
            r.reference,
            r.title,
            r.deleted_at is not None,
            r.share,
            r.evidence,
            r.evidence_text,
            r.source,
            r.email,
            r.confirmed_at,
        )
        for r in rows
    ]


def get_attribution(session: so.Session, output_id: int, attribution_id: int) -> Attribution | None:
    """One attribution of an output, with its grant."""
    return session.scalar(
        sa.select(Attribution)
        .where(Attribution.id == attribution_id, Attribution.output_id == output_id)
        .options(so.joinedload(Attribution.grant), so.joinedload(Attribution.output))
    )


def get_link(session: so.Session, output_id: int, link_id: int) -> OutputLink | None:
    """One link touching an output (either end), with both ends."""
    return session.scalar(
        sa.select(OutputLink)
        .where(
            OutputLink.id == link_id,
            sa.or_(OutputLink.output_id == output_id, OutputLink.upstream_output_id == output_id),
        )
        .options(so.joinedload(OutputLink.output), so.joinedload(OutputLink.upstream))
    )


@dataclass(frozen=True)
class LinkRow:
    id: int
    other_id: int
    other_title: str
    other_type: OutputType
    other_date: str
    other_deleted: bool
    other_is_trial: bool
    relation: LinkRelation
    evidence: EvidenceKind
    evidence_text: str | None
    confirmed_by: str | None
    confirmed_at: datetime | None


def links_of(
    session: so.Session, output_id: int, levels: Sequence[Confidentiality]
) -> tuple[list[LinkRow], list[LinkRow]]:
    """(what this output stands on, what stands on it), other ends the user may see."""
    other = so.aliased(Output)
    confirmer = so.aliased(User)
    upstream = OutputLink.output_id == output_id
    rows = session.execute(
        sa.select(
            OutputLink.id,
            upstream.label("is_upstream"),
            other.id.label("other_id"),
            other.title,
            other.type,
            other.output_date,
            other.date_precision,
            other.deleted_at,
            ClinicalTrial.output_id.label("trial_id"),
            OutputLink.relation,
            OutputLink.evidence,
            OutputLink.evidence_text,
            confirmer.email,
            OutputLink.confirmed_at,
        )
        .join(
            other,
            sa.case((upstream, OutputLink.upstream_output_id), else_=OutputLink.output_id)
            == other.id,
        )
        .outerjoin(ClinicalTrial, ClinicalTrial.output_id == other.id)
        .outerjoin(confirmer, confirmer.id == OutputLink.confirmed_by_id)
        .where(
            sa.or_(upstream, OutputLink.upstream_output_id == output_id),
            other.confidentiality.in_(levels),
        )
        .order_by(other.output_date.nulls_last(), other.id)
    )
    ups: list[LinkRow] = []
    downs: list[LinkRow] = []
    for r in rows:
        row = LinkRow(
            r.id,
            r.other_id,
            r.title,
            r.type,
            date_label(r.output_date, r.date_precision),
            r.deleted_at is not None,
            r.trial_id is not None,
            r.relation,
            r.evidence,
            r.evidence_text,
            r.email,
            r.confirmed_at,
        )
        (ups if r.is_upstream else downs).append(row)
    return ups, downs


def _ids_in_events(entity_type: str, key: str, output_id: int) -> sa.Select[Any]:
    """Ids of sub-records whose audited changes ever put `key` to or from this output."""
    return sa.select(AuditEvent.entity_id).where(
        AuditEvent.entity_type == entity_type,
        sa.or_(
            AuditEvent.changes[(key, 0)].as_integer() == output_id,
            AuditEvent.changes[(key, 1)].as_integer() == output_id,
        ),
    )


def output_history(
    session: so.Session, output: Output, with_related: bool = True, limit: int = 500
) -> list[AuditEvent]:
    """Audit events of an output and (with_related) of its attributions and links, even removed.

    Related events name grants and outputs of any confidentiality, so only staff get them.
    """
    if not with_related:
        return list(
            session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.entity_type == "outputs", AuditEvent.entity_id == output.id)
                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
                .limit(limit)
            )
        )
    attributions: sa.CompoundSelect[Any] = sa.union(
        sa.select(Attribution.id).where(Attribution.output_id == output.id),
        _ids_in_events("attributions", "output_id", output.id),
    )
    links: sa.CompoundSelect[Any] = sa.union(
        sa.select(OutputLink.id).where(
            sa.or_(OutputLink.output_id == output.id, OutputLink.upstream_output_id == output.id)
        ),
        _ids_in_events("output_links", "output_id", output.id),
        _ids_in_events("output_links", "upstream_output_id", output.id),
    )
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(
                sa.or_(
                    sa.and_(AuditEvent.entity_type == "outputs", AuditEvent.entity_id == output.id),
                    sa.and_(
                        AuditEvent.entity_type == "attributions",
                        AuditEvent.entity_id.in_(attributions),
                    ),
                    sa.and_(
                        AuditEvent.entity_type == "output_links",
                        AuditEvent.entity_id.in_(links),
                    ),
                )
            )
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
