"""The list pages that can be downloaded whole: name -> columns and the page's own queries.

Each export reads its rows with the "every row" variant of the list's query in the
feature's queries.py, and counts them with the page's own query (its pager's total),
so filters, sort, visibility and anonymity are the page's own.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy import orm as so

from app.audit import queries as audit
from app.funds import queries as funds
from app.grants import queries as grants
from app.imports import queries as imports
from app.imports.services import KINDS, counts_text
from app.models import AuditEvent, Confidentiality, ImportRun
from app.organisations import queries as organisations
from app.outputs import queries as outputs
from app.programmes import queries as programmes
from app.records.listing import ListParams, Page


@dataclass(frozen=True)
class Viewer:
    """What the person downloading may see."""

    levels: tuple[Confidentiality, ...]
    is_staff: bool


@dataclass(frozen=True)
class Column:
    """One column: its heading and how to get its value from a row (typed: see writers)."""

    heading: str
    value: Callable[[Any], Any]
    staff_only: bool = False


# A list's query as an export calls it: with the session, the page's parameters and the viewer.
Query = Callable[[so.Session, ListParams, Viewer], Any]


def by_levels(query: Callable[[so.Session, ListParams, Sequence[Confidentiality]], Any]) -> Query:
    """A query that filters by the confidentiality levels the viewer may see."""
    return lambda session, params, viewer: query(session, params, viewer.levels)


def by_reveal(query: Callable[[so.Session, ListParams, bool], Any]) -> Query:
    """A query that names anonymous donors only to staff."""
    return lambda session, params, viewer: query(session, params, viewer.is_staff)


def by_params(query: Callable[[so.Session, ListParams], Any]) -> Query:
    """A query that depends on the page's parameters alone (staff-only lists)."""
    return lambda session, params, viewer: query(session, params)


def columns(*specs: tuple[str, str | Callable[[Any], Any]] | Column) -> tuple[Column, ...]:
    """Columns from (heading, attribute name or function) pairs, or Columns as they are."""
    return tuple(
        spec
        if isinstance(spec, Column)
        else Column(spec[0], attrgetter(spec[1]) if isinstance(spec[1], str) else spec[1])
        for spec in specs
    )


@dataclass(frozen=True)
class ListExport:
    """A list page's download: its URL, who may have it and how its rows are read."""

    name: str  # the file name's stem and the endpoint: exports.<name with _>
    columns: tuple[Column, ...]
    rows: Query  # every matching row, in the page's order
    # The page's own query (its total counts the rows); None for short lists (always direct).
    page: Query | None = None
    # How the page reads its query string (none of it for a page without filters or sorts).
    filters: Sequence[str] = ()
    sorts: Sequence[str] = ()
    default_sort: str = ""
    newest_first: bool = False
    access: str = "reader"  # "reader" or "staff", as the page
    url: str = ""  # the rule without its extension (default /<name>/export)
    page_url: str = ""  # the list page (default: the URL without /export)

    def __post_init__(self) -> None:
        url = self.url or f"/{self.name}/export"
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "page_url", self.page_url or url.removesuffix("/export"))

    @property
    def title(self) -> str:
        """The list as sentences name it: the audit trail says "the research areas list"."""
        return self.name.replace("-", " ")

    @property
    def endpoint(self) -> str:
        return self.name.replace("-", "_")

    def params(self, args: Mapping[str, str]) -> ListParams:
        """The list's parameters from a query string, read exactly as the page reads them."""
        if not self.sorts:
            return ListParams()
        params = ListParams.from_args(args, self.filters, list(self.sorts), self.default_sort)
        if self.newest_first and "sort" not in args:
            params = ListParams(**{**params.__dict__, "descending": True})
        return params

    def columns_for(self, viewer: Viewer) -> tuple[Column, ...]:
        """The columns this viewer may have."""
        return tuple(c for c in self.columns if viewer.is_staff or not c.staff_only)

    def count(self, session: so.Session, params: ListParams, viewer: Viewer) -> int | None:
        """How many rows the export would hold, as the page's pager counts them (None for
        short lists, which are not counted)."""
        if self.page is None:
            return None
        first: Page[Any] = self.page(
            session, dataclasses.replace(params, page=1, per_page=1), viewer
        )
        return first.total


def _changes(event: AuditEvent) -> str | None:
    return json.dumps(event.changes, ensure_ascii=False, default=str) if event.changes else None


def _import_kind(run: ImportRun) -> str:
    return KINDS[run.kind].label if run.kind in KINDS else run.kind


def _import_errors(run: ImportRun) -> int:
    return int((run.counts or {}).get("errors", 0))


EXPORTS: tuple[ListExport, ...] = (
    ListExport(
        "grants",
        columns(
            ("ID", "id"),
            ("Reference", "reference"),
            ("Title", "title"),
            ("Programme", "programme"),
            ("Institution", "institution"),
            ("Award date", "award_date"),
            ("Amount", "amount_awarded"),
            ("Currency", "currency"),
            ("Amount (EUR)", "amount_eur"),
            ("Status", "status"),
            ("Confidentiality", "confidentiality"),
        ),
        rows=by_levels(grants.grant_rows),
        page=by_levels(grants.grant_list),
        filters=grants.FILTERS,
        sorts=tuple(grants.SORTS),
        default_sort=grants.DEFAULT_SORT,
        newest_first=True,
    ),
    ListExport(
        "outputs",
        columns(
            ("ID", "id"),
            ("Type", "type"),
            ("Title", "title"),
            ("Date", "date_label"),
            ("DOI", "doi"),
            ("Journal", "journal"),
            ("Trial phase", "phase"),
            ("Registry ids", "registry_ids"),
            ("Grants", "grants"),
            ("Confidentiality", "confidentiality"),
        ),
        rows=by_levels(outputs.output_rows),
        page=by_levels(outputs.output_list),
        filters=outputs.FILTERS,
        sorts=tuple(outputs.SORTS),
        default_sort=outputs.DEFAULT_SORT,
        newest_first=True,
    ),
    ListExport(
        "organisations",
        columns(
            ("ID", "id"),
            ("Name", "name"),
            ("Kind", "kind"),
            ("Country", "country"),
            ("City", "city"),
            ("Grants hosted", "grants"),
            ("Total (EUR)", "total_eur"),
        ),
        rows=by_levels(organisations.organisation_rows),
        page=by_levels(organisations.organisation_list),
        filters=organisations.ORGANISATION_FILTERS,
        sorts=organisations.ORGANISATION_SORTS,
        default_sort=organisations.ORGANISATION_DEFAULT_SORT,
    ),
    ListExport(
        "people",
        columns(
            ("ID", "id"),
            ("Family name", "family_name"),
            ("Given names", "given_names"),
            ("ORCID", "orcid"),
            ("Organisation", "organisation"),
            ("Grants led", "grants_led"),
        ),
        rows=by_levels(organisations.people_rows),
        page=by_levels(organisations.people_list),
        filters=organisations.PEOPLE_FILTERS,
        sorts=organisations.PEOPLE_SORTS,
        default_sort=organisations.PEOPLE_DEFAULT_SORT,
    ),
    ListExport(
        "programmes",
        columns(
            ("ID", "id"),
            ("Name", "name"),
            ("Kind", "kind"),
            ("Year", "year"),
            ("Grants", "grants"),
            ("Total (EUR)", "total_eur"),
        ),
        rows=by_levels(programmes.programme_rows),
        page=by_levels(programmes.programme_list),
        filters=programmes.FILTERS,
        sorts=programmes.SORTS,
        default_sort=programmes.DEFAULT_SORT,
    ),
    ListExport(
        "research-areas",
        columns(
            ("ID", "id"), ("Name", "name"), ("Description", "description"), ("Grants", "grants")
        ),
        rows=lambda session, params, viewer: programmes.area_list(session, viewer.levels),
        url="/areas/export",
    ),
    ListExport(
        "funds",
        columns(
            ("ID", "id"),
            ("Name", "name"),
            ("Restricted", "is_restricted"),
            ("Received (EUR)", "received_eur"),
            ("Allocated (EUR)", "allocated_eur"),
            ("Balance (EUR)", "balance_eur"),
        ),
        rows=by_levels(funds.fund_rows),
        page=by_levels(funds.fund_list),
        filters=funds.FUND_FILTERS,
        sorts=funds.FUND_SORTS,
        default_sort="name",
    ),
    ListExport(
        "donors",
        columns(
            ("ID", "id"),
            # The name as the page shows it: "Anonymous donor" unless the viewer is staff.
            ("Name", "name"),
            ("Kind", "kind"),
            Column("Anonymous", attrgetter("anonymous_badge"), staff_only=True),
            ("Fictional", "is_fictional"),
            ("Donations", "donation_count"),
            ("Total (EUR)", "total_eur"),
            ("Last donation", "last_donation"),
        ),
        rows=by_reveal(funds.donor_rows),
        page=by_reveal(funds.donor_list),
        filters=funds.DONOR_FILTERS,
        sorts=funds.DONOR_SORTS,
        default_sort="name",
    ),
    ListExport(
        "donations",
        columns(
            ("ID", "id"),
            ("Received on", "received_on"),
            ("Donor", "donor_name"),
            ("Donor kind", "donor_kind"),
            Column("Anonymous", attrgetter("donor_anonymous"), staff_only=True),
            ("Fund", "fund_name"),
            ("Amount", "amount"),
            ("Currency", "currency"),
            ("Amount (EUR)", "amount_eur"),
            ("Reference", "reference"),
        ),
        rows=by_reveal(funds.donation_rows),
        page=by_reveal(funds.donation_list),
        filters=funds.DONATION_FILTERS,
        sorts=tuple(funds.DONATION_SORTS),
        default_sort=funds.DEFAULT_DONATION_SORT,
        newest_first=True,
    ),
    ListExport(
        "audit-log",
        columns(
            ("ID", "id"),
            ("When (UTC)", "occurred_at"),
            ("Who", "actor"),
            ("Action", "action"),
            ("Record type", "entity_type"),
            ("Record ID", "entity_id"),
            ("Version", "entity_version"),
            ("Summary", "summary"),
            ("Changes", _changes),
            ("Address", "remote_addr"),
        ),
        rows=by_params(audit.audit_events),
        page=by_params(audit.audit_log),
        filters=audit.LOG_FILTERS,
        sorts=("occurred_at",),
        default_sort="occurred_at",
        access="staff",
        url="/audit/export",
    ),
    ListExport(
        "import-runs",
        columns(
            ("Run", "id"),
            ("Started (UTC)", "started_at"),
            ("Finished (UTC)", "finished_at"),
            ("What", _import_kind),
            ("File", "filename"),
            ("By", "actor"),
            ("Result", "status"),
            ("Rows", counts_text),
            ("Errors", _import_errors),
        ),
        rows=lambda session, params, viewer: imports.all_runs(session),
        access="staff",
        url="/imports/runs/export",
        page_url="/imports",
    ),
)

BY_NAME: dict[str, ListExport] = {export.name: export for export in EXPORTS}
