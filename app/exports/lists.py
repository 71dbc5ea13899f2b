"""The list pages that can be downloaded whole: name -> columns and the page's own query.

Each export reads its rows with the "every row" variant of the list's query in the
feature's queries.py, so filters, sort, visibility and anonymity are the page's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from app.records.listing import ListParams


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


@dataclass(frozen=True)
class ListExport:
    """A list page's download: its URL, who may have it and how its rows are read."""

    name: str  # the file name's stem and the endpoint: exports.<name with _>
    title: str  # "grants": the audit trail says "the grants list"
    url: str  # the rule without its extension
    access: str  # "reader" or "staff", as the page
    columns: tuple[Column, ...]
    rows: Callable[[so.Session, ListParams, Viewer], Iterable[Any]]
    # How the page reads its query string (none of it for a page without filters or sorts).
    filters: Sequence[str] = ()
    sorts: Sequence[str] = ()
    default_sort: str = ""
    newest_first: bool = False

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


def _changes(event: AuditEvent) -> str | None:
    return json.dumps(event.changes, ensure_ascii=False, default=str) if event.changes else None


def _import_errors(run: ImportRun) -> int:
    return int((run.counts or {}).get("errors", 0))


EXPORTS: tuple[ListExport, ...] = (
    ListExport(
        name="grants",
        title="grants",
        url="/grants/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Reference", attrgetter("reference")),
            Column("Title", attrgetter("title")),
            Column("Programme", attrgetter("programme")),
            Column("Institution", attrgetter("institution")),
            Column("Award date", attrgetter("award_date")),
            Column("Amount", attrgetter("amount_awarded")),
            Column("Currency", attrgetter("currency")),
            Column("Amount (EUR)", attrgetter("amount_eur")),
            Column("Status", attrgetter("status")),
            Column("Confidentiality", attrgetter("confidentiality")),
        ),
        rows=lambda session, params, viewer: grants.grant_rows(session, params, viewer.levels),
        filters=grants.FILTERS,
        sorts=tuple(grants.SORTS),
        default_sort=grants.DEFAULT_SORT,
        newest_first=True,
    ),
    ListExport(
        name="outputs",
        title="outputs",
        url="/outputs/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Type", attrgetter("type")),
            Column("Title", attrgetter("title")),
            Column("Date", attrgetter("date_label")),
            Column("DOI", attrgetter("doi")),
            Column("Journal", attrgetter("journal")),
            Column("Trial phase", attrgetter("phase")),
            Column("Registry ids", attrgetter("registry_ids")),
            Column("Grants", attrgetter("grants")),
            Column("Confidentiality", attrgetter("confidentiality")),
        ),
        rows=lambda session, params, viewer: outputs.output_rows(session, params, viewer.levels),
        filters=outputs.FILTERS,
        sorts=tuple(outputs.SORTS),
        default_sort=outputs.DEFAULT_SORT,
        newest_first=True,
    ),
    ListExport(
        name="organisations",
        title="organisations",
        url="/organisations/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Name", attrgetter("name")),
            Column("Kind", attrgetter("kind")),
            Column("Country", attrgetter("country")),
            Column("City", attrgetter("city")),
            Column("Grants hosted", attrgetter("grants")),
            Column("Total (EUR)", attrgetter("total_eur")),
        ),
        rows=lambda session, params, viewer: organisations.organisation_rows(
            session, params, viewer.levels
        ),
        filters=organisations.ORGANISATION_FILTERS,
        sorts=organisations.ORGANISATION_SORTS,
        default_sort=organisations.ORGANISATION_DEFAULT_SORT,
    ),
    ListExport(
        name="people",
        title="people",
        url="/people/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Family name", attrgetter("family_name")),
            Column("Given names", attrgetter("given_names")),
            Column("ORCID", attrgetter("orcid")),
            Column("Organisation", attrgetter("organisation")),
            Column("Grants led", attrgetter("grants_led")),
        ),
        rows=lambda session, params, viewer: organisations.people_rows(
            session, params, viewer.levels
        ),
        filters=organisations.PEOPLE_FILTERS,
        sorts=organisations.PEOPLE_SORTS,
        default_sort=organisations.PEOPLE_DEFAULT_SORT,
    ),
    ListExport(
        name="programmes",
        title="programmes",
        url="/programmes/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Name", attrgetter("name")),
            Column("Kind", attrgetter("kind")),
            Column("Year", attrgetter("year")),
            Column("Grants", attrgetter("grants")),
            Column("Total (EUR)", attrgetter("total_eur")),
        ),
        rows=lambda session, params, viewer: programmes.programme_rows(
            session, params, viewer.levels
        ),
        filters=programmes.FILTERS,
        sorts=programmes.SORTS,
        default_sort=programmes.DEFAULT_SORT,
    ),
    ListExport(
        name="research-areas",
        title="research areas",
        url="/areas/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Name", attrgetter("name")),
            Column("Description", attrgetter("description")),
            Column("Grants", attrgetter("grants")),
        ),
        rows=lambda session, params, viewer: programmes.area_list(session, viewer.levels),
    ),
    ListExport(
        name="funds",
        title="funds",
        url="/funds/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Name", attrgetter("name")),
            Column("Restricted", attrgetter("is_restricted")),
            Column("Received (EUR)", attrgetter("received_eur")),
            Column("Allocated (EUR)", attrgetter("allocated_eur")),
            Column("Balance (EUR)", attrgetter("balance_eur")),
        ),
        rows=lambda session, params, viewer: funds.fund_rows(session, params, viewer.levels),
        filters=funds.FUND_FILTERS,
        sorts=funds.FUND_SORTS,
        default_sort="name",
    ),
    ListExport(
        name="donors",
        title="donors",
        url="/donors/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            # The name as the page shows it: "Anonymous donor" unless the viewer is staff.
            Column("Name", attrgetter("name")),
            Column("Kind", attrgetter("kind")),
            Column("Anonymous", attrgetter("anonymous_badge"), staff_only=True),
            Column("Fictional", attrgetter("is_fictional")),
            Column("Donations", attrgetter("donation_count")),
            Column("Total (EUR)", attrgetter("total_eur")),
            Column("Last donation", attrgetter("last_donation")),
        ),
        rows=lambda session, params, viewer: funds.donor_rows(session, params, viewer.is_staff),
        filters=funds.DONOR_FILTERS,
        sorts=funds.DONOR_SORTS,
        default_sort="name",
    ),
    ListExport(
        name="donations",
        title="donations",
        url="/donations/export",
        access="reader",
        columns=(
            Column("ID", attrgetter("id")),
            Column("Received on", attrgetter("received_on")),
            Column("Donor", attrgetter("donor_name")),
            Column("Donor kind", attrgetter("donor_kind")),
            Column("Anonymous", attrgetter("donor_anonymous"), staff_only=True),
            Column("Fund", attrgetter("fund_name")),
            Column("Amount", attrgetter("amount")),
            Column("Currency", attrgetter("currency")),
            Column("Amount (EUR)", attrgetter("amount_eur")),
            Column("Reference", attrgetter("reference")),
        ),
        rows=lambda session, params, viewer: funds.donation_rows(session, params, viewer.is_staff),
        filters=funds.DONATION_FILTERS,
        sorts=tuple(funds.DONATION_SORTS),
        default_sort=funds.DEFAULT_DONATION_SORT,
        newest_first=True,
    ),
    ListExport(
        name="audit-log",
        title="audit log",
        url="/audit/export",
        access="staff",
        columns=(
            Column("ID", attrgetter("id")),
            Column("When (UTC)", attrgetter("occurred_at")),
            Column("Who", attrgetter("actor")),
            Column("Action", attrgetter("action")),
            Column("Record type", attrgetter("entity_type")),
            Column("Record ID", attrgetter("entity_id")),
            Column("Version", attrgetter("entity_version")),
            Column("Summary", attrgetter("summary")),
            Column("Changes", _changes),
            Column("Address", attrgetter("remote_addr")),
        ),
        rows=lambda session, params, viewer: audit.audit_events(session, params),
        filters=audit.LOG_FILTERS,
        sorts=("occurred_at",),
        default_sort="occurred_at",
    ),
    ListExport(
        name="import-runs",
        title="import runs",
        url="/imports/runs/export",
        access="staff",
        columns=(
            Column("Run", attrgetter("id")),
            Column("Started (UTC)", attrgetter("started_at")),
            Column("Finished (UTC)", attrgetter("finished_at")),
            Column("What", lambda run: KINDS[run.kind].label if run.kind in KINDS else run.kind),
            Column("File", attrgetter("filename")),
            Column("By", attrgetter("actor")),
            Column("Result", attrgetter("status")),
            Column("Rows", counts_text),
            Column("Errors", _import_errors),
        ),
        rows=lambda session, params, viewer: imports.all_runs(session),
    ),
)

BY_NAME: dict[str, ListExport] = {export.name: export for export in EXPORTS}
