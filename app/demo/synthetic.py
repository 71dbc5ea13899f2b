"""Synthetic grants for benchmarks (`grantpath demo load --scale N`), and the bulk writer.

Everything here is invented and flagged ``is_fictional``. Grants are numbered
``SYN-0000001`` ... and generated from a per-grant seed, so a run is
reproducible and a larger N adds exactly the missing grants.

Output links are local: grants fall into clusters of ``CLUSTER_GRANTS``
consecutive numbers and an output only stands on earlier outputs of its own
cluster, so a trial's lineage stays a few hundred nodes at most however large
the database grows, and the links form a DAG (an upstream output always has a
smaller id).

Speed: 100,000 grants are about 1.9 million rows, loaded in one transaction
in well under two minutes on SQLite (about 30 s on an idle 2-core machine).
They are never ORM objects: ``BulkWriter`` queues plain rows with precomputed
primary keys (max(id) + 1 at the start) and writes them with the driver's
executemany, after each column's own SQLAlchemy bind processor (see there).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.currency import RateTable
from app.models import (
    Attribution,
    ClinicalTrial,
    Confidentiality,
    DatePrecision,
    EvidenceKind,
    FurtherFunding,
    Grant,
    GrantInvestigator,
    GrantStatus,
    InvestigatorRole,
    LinkRelation,
    Organisation,
    OrganisationKind,
    Output,
    OutputLink,
    OutputType,
    Patent,
    PatentStatus,
    Payment,
    Person,
    Programme,
    ProgrammeKind,
    Publication,
    ResearchArea,
    TrialPhase,
    TrialStatus,
    grant_areas,
)
from app.models.base import Base, utcnow
from app.records.cache import forget_versions

Row = dict[str, Any]
Echo = Callable[[str], None]

# Grant statuses, report dates and "paid" flags are computed as of this day, so
# the demo is the same whenever it is loaded.
REFERENCE_DATE = date(2025, 9, 30)
EURO_CHANGEOVER = date(2002, 1, 1)  # lire before this day, euro from it
# Bound variables one statement may have (SQLite's SQLITE_MAX_VARIABLE_NUMBER since 3.32;
# PostgreSQL's protocol counts them in 16 bits).
SQLITE_VARIABLES = 32_766
POSTGRESQL_VARIABLES = 65_535

RESEARCH_AREAS: tuple[tuple[str, str], ...] = (
    ("neural stem cells", "Neural stem and precursor cells: biology and transplantation."),
    ("mesenchymal stem cells", "Mesenchymal stromal/stem cells as immunomodulatory therapy."),
    ("aHSCT", "Autologous haematopoietic stem cell transplantation."),
    ("remyelination", "Repair of myelin and oligodendrocyte biology."),
    ("neuroinflammation", "Immune mechanisms of damage in the central nervous system."),
    ("neuroprotection", "Protecting axons and neurons from degeneration."),
    ("rehabilitation", "Physical, cognitive and occupational rehabilitation."),
    ("epidemiology", "Frequency, causes and course of MS in populations."),
    ("imaging", "MRI and other imaging of lesions, atrophy and repair."),
    ("genetics", "Genetic risk and genomics."),
    ("biomarkers", "Fluid and digital markers of activity and progression."),
    ("progressive MS", "Mechanisms and treatment of progressive disease."),
    ("paediatric MS", "Multiple sclerosis with onset in childhood."),
    ("quality of life", "Symptoms, care and living with MS."),
)


def as_money(units: int, currency: str) -> Decimal:
    """An amount from integer minor units (cents; whole lire for ITL)."""
    return Decimal(units) if currency == "ITL" else Decimal(units).scaleb(-2)


def money_units(amount: Decimal, currency: str) -> int:
    return int(amount) if currency == "ITL" else int(amount.scaleb(2))


def eur_to_award(eur: int, currency: str) -> Decimal:
    """A round award amount in the grant's currency for about ``eur`` euro."""
    if currency == "ITL":
        # 1 EUR = 1936.27 ITL; lire awards were round millions.
        return Decimal(max(1, round(eur * 193627 / 100 / 1_000_000)) * 1_000_000)
    return Decimal(max(500, round(eur / 500) * 500))


def split_instalments(total: Decimal, currency: str, count: int) -> list[Decimal]:
    """Split an amount into ``count`` instalments that add up exactly."""
    units = money_units(total, currency)
    step = 1_000 if currency == "ITL" else 100  # round instalments to 1,000 lire / 1 euro
    part = (units // count) // step * step
    parts = [part] * (count - 1) + [units - part * (count - 1)]
    return [as_money(p, currency) for p in parts]


def ensure_research_areas(session: so.Session, added: Counter[str] | None = None) -> dict[str, int]:
    """Create the standard research areas that are missing; return name -> id."""
    existing = dict(session.execute(sa.select(ResearchArea.name, ResearchArea.id)).all())
    missing = [(n, d) for n, d in RESEARCH_AREAS if n not in existing]
    if missing:
        session.add_all(ResearchArea(name=n, description=d) for n, d in missing)
        session.flush()
        if added is not None:
            added[ResearchArea.__tablename__] += len(missing)
        existing = dict(session.execute(sa.select(ResearchArea.name, ResearchArea.id)).all())
    return {name: existing[name] for name, _ in RESEARCH_AREAS}


def insert_rows(connection: sa.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``INSERT ... VALUES (?, ...)`` for every row, hundreds of rows a statement.

    Each statement fires the watched tables' change-counter triggers: on SQLite one
    statement per row more than halved the import of 100,000 grants (24,000 -> 13,000
    rows/s: a statement journal each), on PostgreSQL each is a trigger call. Fewer,
    larger statements are faster anyway.
    """
    if not rows:
        return
    limit = SQLITE_VARIABLES if connection.dialect.name == "sqlite" else POSTGRESQL_VARIABLES
    per_statement = max(1, min(500, limit // len(rows[0])))
    whole = len(rows) - len(rows) % per_statement
    if whole:
        head, _, values = sql.partition(" VALUES ")
        many = f"{head} VALUES {', '.join([values] * per_statement)}"
        connection.exec_driver_sql(
            many,
            [
                tuple(chain.from_iterable(rows[start : start + per_statement]))
                for start in range(0, whole, per_statement)
            ],
        )
    if whole < len(rows):
        connection.exec_driver_sql(sql, rows[whole:])  # type: ignore[arg-type]


class BulkWriter:
    """Buffers rows per table and writes them with executemany INSERTs.

    Primary keys come from here (max(id) + 1 at first use, then counting up),
    so rows can reference each other before anything is written. Every row of
    a table carries every column (defaults filled in from a template).
    ``flush`` writes tables in foreign-key order; on PostgreSQL ``finish``
    moves the id sequences past the new rows.

    Values go through each column's own bind processor (the one SQLAlchemy
    would apply: ScaledDecimal's exact scaling, UTC timestamps, SQLite date
    strings, enum validation) and then straight to the driver's executemany.
    We skip SQLAlchemy's per-row parameter machinery because it was most of
    the time of a 100,000-grant load (insert(table) with a list of dicts ran
    at ~70k rows/s on SQLite against ~140k for the driver); timestamps and
    version are the same for every row, so they are processed once.
    """

    CHUNK_ROWS = 5_000  # rows per executemany call
    CONSTANT_COLUMNS = ("created_at", "updated_at", "version", "deleted_at")

    def __init__(self, session: so.Session, now: datetime | None = None) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.now = now or utcnow()
        self.added: Counter[str] = Counter()
        self._next_id: dict[str, int] = {}
        self._pending: dict[str, list[Row]] = {}
        self._templates: dict[str, Row] = {}
        self._plans: dict[str, tuple[str, Callable[[Row], Any], list[tuple[int, Any]]]] = {}

    def _processor(self, column: sa.ColumnElement[Any]) -> Callable[[Any], Any] | None:
        return column.type.dialect_impl(self.dialect).bind_processor(self.dialect)

    def _template(self, table: sa.FromClause) -> Row:
        template: Row = {}
        for column in table.columns:
            if column.primary_key:
                continue
            if column.name in ("created_at", "updated_at"):
                process = self._processor(column)
                template[column.name] = process(self.now) if process else self.now
            elif column.name == "version":
                template[column.name] = 1
            elif column.default is not None and getattr(column.default, "is_scalar", False):
                template[column.name] = column.default.arg  # type: ignore[attr-defined]
            else:
                template[column.name] = None
        self._templates[_name(table)] = template
        return template

    def _plan(self, table: sa.FromClause) -> tuple[str, Callable[[Row], Any], list[Any]]:
        name = _name(table)
        plan = self._plans.get(name)
        if plan is None:
            columns = list(table.columns)
            quote = self.dialect.identifier_preparer.quote
            mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
            sql = (f"INSERT INTO {quote(name)} ({', '.join(quote(c.name) for c in columns)}) "
                   f"VALUES ({', '.join([mark] * len(columns))})")
            converters = []
            for position, column in enumerate(columns):
                if column.name in self.CONSTANT_COLUMNS:
                    continue  # already processed in the template
                process = self._processor(column)
                if process is not None:
                    converters.append((position, process))
            plan = self._plans[name] = (sql, itemgetter(*(c.name for c in columns)), converters)
        return plan

    def allocate(self, table: sa.FromClause) -> int:
        """The next free primary key of a table with an ``id`` column."""
        name = _name(table)
        ident = self._next_id.get(name)
        if ident is None:
            ident = self._first_free_id(table)
        self._next_id[name] = ident + 1
        return ident

    def _first_free_id(self, table: sa.FromClause) -> int:
        """Past MAX(id) and past any id handed out before (ids are never reused)."""
        name = _name(table)
        highest = self.session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        if self.dialect.name == "postgresql":
            issued = self.session.execute(
                sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": name}
            ).scalar()
            highest = max(highest, (issued or 1) - 1)
        elif self.dialect.name == "sqlite" and self.session.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
        )).first():
            # AUTOINCREMENT tables remember the largest id ever used in sqlite_sequence.
            issued = self.session.execute(
                sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": name}
            ).scalar()
            highest = max(highest, issued or 0)
        return highest + 1

    def add(self, table: sa.FromClause, values: Row) -> Row:
        """Queue a row (primary key included in ``values``; not the constant columns)."""
        name = _name(table)
        template = self._templates.get(name)
        if template is None:  # an empty template (all columns in the key) is still cached
            template = self._template(table)
        row = template.copy()
        row.update(values)
        pending = self._pending.get(name)
        if pending is None:
            pending = self._pending[name] = []
        pending.append(row)
        return row

    def new(self, table: sa.FromClause, values: Row) -> int:
        """Queue a row of a table with an ``id`` column; return its new id."""
        ident = self.allocate(table)
        values["id"] = ident
        self.add(table, values)
        return ident

    def flush(self) -> None:
        """Write every queued row, parents before children."""
        connection = self.session.connection()
        forget_versions(self.session)  # the rows go past the session, straight to the driver
        for table in Base.metadata.sorted_tables:
            rows = self._pending.pop(table.name, None)
            if not rows:
                continue
            sql, getter, converters = self._plan(table)
            for start in range(0, len(rows), self.CHUNK_ROWS):
                batch = []
                for row in rows[start : start + self.CHUNK_ROWS]:
                    values = getter(row)
                    if converters:
                        values = list(values)
                        for position, process in converters:
                            value = values[position]
                            if value is not None:
                                values[position] = process(value)
                        values = tuple(values)
                    batch.append(values)
                if self.dialect.name == "postgresql":
                    self._copy(connection, table, batch)
                else:
                    insert_rows(connection, sql, batch)
            self.added[table.name] += len(rows)
        if self._pending:  # a table outside the metadata: a programming error
            raise RuntimeError(f"rows queued for unknown tables: {sorted(self._pending)}")

    def _copy(self, connection: sa.Connection, table: sa.Table, batch: list[Any]) -> None:
        """PostgreSQL: COPY the rows in, in the session's transaction.

        Row by row, executemany ran imports at ~13,000 rows/s; COPY at ~22,000.
        """
        quote = self.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c.name) for c in table.columns)
        cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for values in batch:
                copy.write_row(values)

    def finish(self) -> None:
        """Flush, and on PostgreSQL move id sequences past the explicit ids we used."""
        self.flush()
        if self.dialect.name != "postgresql":
            return
        for name, next_id in sorted(self._next_id.items()):
            # Never move a sequence backwards (nextval: it may be ahead of our ids).
            sequence = f"pg_get_serial_sequence('{name}', 'id')"
            self.session.execute(sa.text(
                f"SELECT setval({sequence}, GREATEST(:last, nextval({sequence})))"
            ), {"last": next_id - 1})


def _name(table: sa.FromClause) -> str:
    return table.name  # type: ignore[attr-defined, no-any-return]


def table_counts(session: so.Session) -> dict[str, int]:
    """Rows per table of the domain model."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = session.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar_one()
    return counts


# --------------------------------------------------------------------------- synthetic data

SYN_PREFIX = "SYN-"
SEED = 1987_2025
CLUSTER_GRANTS = 100  # output links stay inside a cluster of this many grants
FLUSH_GRANTS = 2_000  # a multiple of CLUSTER_GRANTS
GRANTS_PER_ORG = 200
GRANTS_PER_PERSON = 2
PEOPLE_PER_ORG = GRANTS_PER_ORG // GRANTS_PER_PERSON
TRIAL_EVERY = 125  # one grant in 125 yields a trial: ~0.2 % of ~4 outputs a grant
FIRST_YEAR, LAST_YEAR = 1990, 2025

_FIRST_AWARD, _LAST_AWARD = date(FIRST_YEAR, 1, 15), date(LAST_YEAR, 6, 30)
_ORG_RE = re.compile(r"\(synthetic #(\d+)\)$")
_PERSON_EMAIL = "syn-{:07d}@synthetic.invalid"

SYN_ORG_PATTERNS = (
    ("Institute for Neuroscience", OrganisationKind.RESEARCH_INSTITUTE),
    ("University Hospital", OrganisationKind.HOSPITAL),
    ("Faculty of Medicine", OrganisationKind.UNIVERSITY),
    ("Centre for MS Research", OrganisationKind.RESEARCH_INSTITUTE),
    ("Department of Neurology", OrganisationKind.HOSPITAL),
    ("University", OrganisationKind.UNIVERSITY),
)
SYN_CITIES = (
    ("Valdorno", "IT"), ("Castelbruno", "IT"), ("Montelago", "IT"), ("Porto Alba", "IT"),
    ("Roccaverde", "IT"), ("Torrebella", "IT"), ("Pieve Aurelia", "IT"), ("Colleverde", "IT"),
    ("Lindenbrück", "DE"), ("Saint-Aurèle", "FR"), ("Valmoral", "ES"), ("Oosterveld", "NL"),
    ("Ashcombe", "GB"), ("Bergtal", "CH"), ("Norrviken", "SE"), ("Hautval", "BE"),
)
SYN_GIVEN = (
    "Marco", "Giulia", "Francesca", "Luca", "Alessandro", "Chiara", "Paolo", "Elena", "Davide",
    "Sara", "Matteo", "Valentina", "Andrea", "Federica", "Stefano", "Laura", "Giorgio", "Silvia",
    "Roberto", "Anna", "Simone", "Martina", "Lorenzo", "Beatrice", "Tommaso", "Ilaria", "Jonas",
    "Claire", "Pablo", "Sanne", "Oliver", "Ingrid", "Lukas", "Camille", "Lucía", "Pieter",
)
SYN_FAMILY = (
    "Ferraresi", "Lombardini", "Casati", "Benedetti", "Santoro", "Guidotti", "Marchetti",
    "Pellegrini", "Orlandi", "Fabbri", "Valentini", "Cattaneo", "Rinaldi", "Barbieri", "Fontana",
    "Morelli", "Mariani", "Donati", "Ferri", "Gentile", "Grasso", "Longo", "Negri", "Palumbo",
    "Parisi", "Serra", "Silvestri", "Zanetti", "Basile", "Caruso", "Fumagalli", "Moretti",
    "Weber", "Brandt", "Lehmann", "Moreau", "Girard", "Navarro", "Ortega", "Visser", "Bakker",
    "Whitfield", "Hargreaves", "Lindqvist", "Berglund",
)
SYN_TOPICS = (
    "oligodendrocyte precursor differentiation", "microglial activation", "B-cell depletion",
    "axonal transport", "myelin repair", "blood-brain barrier permeability",
    "T-cell trafficking", "neurofilament light chain", "retinal nerve fibre layer thinning",
    "the gut microbiome", "vitamin D status", "Epstein-Barr virus serology", "cognitive fatigue",
    "gait and balance", "spasticity", "bladder dysfunction", "paediatric-onset disease",
    "remyelinating agents", "iron rim lesions", "spinal cord atrophy", "astrocyte reactivity",
    "meningeal inflammation", "mitochondrial dysfunction", "neural precursor transplantation",
    "mesenchymal stromal cells", "immune reconstitution after aHSCT", "smouldering lesions",
    "disability progression", "upper limb function", "employment and MS",
)
SYN_GRANT_FRAMES = (
    "Role of {t} in progressive multiple sclerosis",
    "Mechanisms of {t} in demyelination",
    "{T}: a longitudinal cohort study",
    "Targeting {t} to promote repair",
    "Biomarkers of {t} in early MS",
    "Imaging {t} with high-field MRI",
    "{T} in experimental models of MS",
    "{T} and long-term outcomes",
)
SYN_OUTPUT_PHRASES: dict[OutputType, str] = {
    OutputType.PUBLICATION: "Study of {t}",
    OutputType.COLLABORATION: "Collaboration on {t}",
    OutputType.FURTHER_FUNDING: "Follow-on funding for work on {t}",
    OutputType.NEXT_DESTINATION: "Trained researcher in {t} moved on",
    OutputType.ENGAGEMENT: "Public talk on {t}",
    OutputType.POLICY_INFLUENCE: "Guideline input on {t}",
    OutputType.RESEARCH_TOOL: "Assay for {t}",
    OutputType.DATABASE_MODEL: "Cohort dataset on {t}",
    OutputType.INTELLECTUAL_PROPERTY: "Patent application on {t}",
    OutputType.MEDICAL_PRODUCT: "Intervention targeting {t}",
    OutputType.SOFTWARE: "Analysis software for {t}",
    OutputType.SPIN_OUT: "Spin-out company working on {t}",
    OutputType.AWARD: "Prize for research on {t}",
}
SYN_JOURNALS = (
    "Journal of Experimental Neuroregeneration", "European Journal of Neuroimmunology Research",
    "Acta Neurologica Transalpina", "Archives of Demyelinating Disease",
    "Multiple Sclerosis Research Letters", "Stem Cells in Neurology",
)
SYN_FUNDERS = (
    "Agenzia Regionale per la Ricerca Biomedica (synthetic)",
    "European Neural Repair Consortium (synthetic)", "Nordic MS Research Trust (synthetic)",
)

# Output types with weights (per 1,000 outputs); trials are added separately.
_TYPE_WEIGHTS = (
    (OutputType.PUBLICATION, 450), (OutputType.COLLABORATION, 80),
    (OutputType.FURTHER_FUNDING, 70), (OutputType.NEXT_DESTINATION, 60),
    (OutputType.ENGAGEMENT, 100), (OutputType.POLICY_INFLUENCE, 20),
    (OutputType.RESEARCH_TOOL, 55), (OutputType.DATABASE_MODEL, 35),
    (OutputType.INTELLECTUAL_PROPERTY, 15), (OutputType.MEDICAL_PRODUCT, 8),
    (OutputType.SOFTWARE, 25), (OutputType.SPIN_OUT, 5), (OutputType.AWARD, 77),
)
_TYPES = tuple(t for t, _ in _TYPE_WEIGHTS)
_TYPE_CUM = tuple(sum(w for _, w in _TYPE_WEIGHTS[: i + 1]) for i in range(len(_TYPE_WEIGHTS)))
_KINDS = (ProgrammeKind.ANNUAL_CALL, ProgrammeKind.PILOT, ProgrammeKind.FELLOWSHIP,
          ProgrammeKind.SPECIAL_PROJECT)
_KIND_CUM = (70, 85, 95, 100)
_KIND_NAMES = {
    ProgrammeKind.ANNUAL_CALL: "Synthetic annual call {year}",
    ProgrammeKind.PILOT: "Synthetic pilot grants {year}",
    ProgrammeKind.FELLOWSHIP: "Synthetic fellowships {year}",
    ProgrammeKind.SPECIAL_PROJECT: "Synthetic special projects {year}",
}
_EVIDENCE = (EvidenceKind.ACKNOWLEDGED, EvidenceKind.REPORTED_BY_INVESTIGATOR,
             EvidenceKind.STAFF_JUDGEMENT, EvidenceKind.REGISTRY_RECORD)
_EVIDENCE_CUM = (50, 85, 97, 100)
_EVIDENCE_TEXT = {
    EvidenceKind.ACKNOWLEDGED: "Grant {ref} acknowledged in the output.",
    EvidenceKind.REPORTED_BY_INVESTIGATOR: "Reported in the final report of {ref}.",
    EvidenceKind.STAFF_JUDGEMENT: "Linked to {ref} by grants staff.",
    EvidenceKind.REGISTRY_RECORD: "Funder {ref} named in a registry record.",
}
_LINK_RELATIONS = (LinkRelation.BUILDS_ON, LinkRelation.CITES, LinkRelation.FOLLOW_UP_OF)
_LINK_CUM = (50, 85, 100)
_OUTPUTS_PER_GRANT = (1, 2, 3, 4, 5, 6, 7)
_OUTPUTS_CUM = (5, 15, 35, 60, 80, 92, 100)  # mean ~4.1
_PHASES = (TrialPhase.PHASE_1, TrialPhase.PHASE_1_2, TrialPhase.PHASE_2, TrialPhase.PHASE_3,
           TrialPhase.NOT_APPLICABLE)
_PATENT_STATUSES = tuple(PatentStatus)


def synthetic_reference(index: int) -> str:
    return f"{SYN_PREFIX}{index:07d}"


def synthetic_person_name(index: int) -> tuple[str, str]:
    """Given and family name of synthetic person ``index`` (no lookup needed)."""
    given = SYN_GIVEN[(index * 7) % len(SYN_GIVEN)]
    family = SYN_FAMILY[(index * 13 + index // len(SYN_GIVEN)) % len(SYN_FAMILY)]
    return given, family


def existing_synthetic_grants(session: so.Session) -> int:
    """How many synthetic grants are loaded (the highest SYN number)."""
    highest = session.execute(
        sa.select(sa.func.max(Grant.reference)).where(
            Grant.reference >= SYN_PREFIX, Grant.reference < SYN_PREFIX[:-1] + "."
        )
    ).scalar()
    return int(highest[len(SYN_PREFIX):]) if highest else 0


class _Synthetic:
    """State of one ``--scale`` run."""

    def __init__(self, session: so.Session, echo: Echo) -> None:
        self.session = session
        self.echo = echo
        self.writer = BulkWriter(session)
        self.rates = RateTable.load(session)
        self.area_ids = list(ensure_research_areas(session, self.writer.added).values())
        self.programmes: dict[tuple[ProgrammeKind, int], int] = {}
        self.org_ids: list[int] = [0]  # 1-based
        self.person_ids: list[int] = [0]  # 1-based
        # The current cluster: its grants (index -> (id, award ordinal)) and outputs
        # in id order as (id, date ordinal, is_trial).
        self.cluster = -1
        self.cluster_grants: dict[int, tuple[int, int]] = {}
        self.candidates: list[tuple[int, int, bool]] = []

    # ---------------------------------------------------------------- shared records

    def ensure_programmes(self) -> None:
        names = {
            _KIND_NAMES[kind].format(year=year): (kind, year)
            for year in range(FIRST_YEAR, LAST_YEAR + 1)
            for kind in _KINDS
        }
        found = dict(self.session.execute(
            sa.select(Programme.name, Programme.id).where(Programme.name.in_(list(names)))
        ).all())
        for name, (kind, year) in names.items():
            ident = found.get(name)
            if ident is None:
                ident = self.writer.new(Programme.__table__, {
                    "name": name, "kind": kind, "year": year,
                    "description": "Synthetic programme for benchmarks.",
                })
            self.programmes[(kind, year)] = ident

    def ensure_orgs(self, wanted: int) -> None:
        rows = self.session.execute(
            sa.select(Organisation.id, Organisation.name)
            .where(Organisation.name.like("%(synthetic #%)")).order_by(Organisation.id)
        ).all()
        by_index = {}
        for ident, name in rows:
            match = _ORG_RE.search(name)
            if match:
                by_index[int(match.group(1))] = ident
        for index in range(1, wanted + 1):
            if index not in by_index:
                pattern, kind = SYN_ORG_PATTERNS[index % len(SYN_ORG_PATTERNS)]
                city, country = SYN_CITIES[(index * 5) % len(SYN_CITIES)]
                by_index[index] = self.writer.new(Organisation.__table__, {
                    "name": f"{pattern}, {city} (synthetic #{index:04d})", "kind": kind,
                    "country": country, "city": city, "is_fictional": True,
                })
            self.org_ids.append(by_index[index])

    def ensure_people(self, wanted: int) -> None:
        rows = self.session.execute(
            sa.select(Person.id, Person.email)
            .where(Person.email.like("syn-%@synthetic.invalid")).order_by(Person.id)
        ).all()
        by_index = {int(email[4:11]): ident for ident, email in rows if email}
        table = Person.__table__
        for index in range(1, wanted + 1):
            ident = by_index.get(index)
            if ident is None:
                given, family = synthetic_person_name(index)
                ident = self.writer.new(table, {
                    "family_name": family, "given_names": given,
                    "email": _PERSON_EMAIL.format(index),
                    "organisation_id": self.org_ids[(index - 1) // PEOPLE_PER_ORG + 1],
                    "is_fictional": True,
                })
            self.person_ids.append(ident)

    def load_cluster(self, index: int) -> None:
        """Start the cluster of grant ``index``, reading what earlier runs stored of it."""
        self.cluster = (index - 1) // CLUSTER_GRANTS
        self.cluster_grants = {}
        self.candidates = []
        first = self.cluster * CLUSTER_GRANTS + 1
        if first == index:
            return
        low, high = synthetic_reference(first), synthetic_reference(index - 1)
        grants = self.session.execute(
            sa.select(Grant.id, Grant.reference, Grant.award_date)
            .where(Grant.reference >= low, Grant.reference <= high)
        ).all()
        for ident, reference, award in grants:
            self.cluster_grants[int(reference[len(SYN_PREFIX):])] = (ident, award.toordinal())
        outputs = self.session.execute(
            sa.select(Output.id, Output.output_date, ClinicalTrial.output_id.is_not(None))
            .join(Attribution, Attribution.output_id == Output.id)
            .join(Grant, Grant.id == Attribution.grant_id)
            .outerjoin(ClinicalTrial, ClinicalTrial.output_id == Output.id)
            .where(Grant.reference >= low, Grant.reference <= high)
            .distinct().order_by(Output.id)
        ).all()
        self.candidates = [(i, d.toordinal(), bool(t)) for i, d, t in outputs if d is not None]

    # ---------------------------------------------------------------- one grant

    def grant(self, index: int) -> None:
        w = self.writer
        rng = random.Random(SEED * 1_000_003 + index)
        rand, randint, randrange = rng.random, rng.randint, rng.randrange
        if (index - 1) // CLUSTER_GRANTS != self.cluster:
            self.load_cluster(index)
        reference = synthetic_reference(index)

        # A cluster is a line of work over the years: later grants of it come later.
        first_ord, last_ord = _FIRST_AWARD.toordinal(), _LAST_AWARD.toordinal()
        position = ((index - 1) % CLUSTER_GRANTS) / CLUSTER_GRANTS
        award_ord = first_ord + int(position * (last_ord - first_ord)) + randint(-300, 300)
        award_ord = min(max(award_ord, first_ord), last_ord)
        award = date.fromordinal(award_ord)
        kind = _KINDS[_pick(rand() * 100, _KIND_CUM)]
        years = 1 if kind is ProgrammeKind.PILOT else randint(1, 3)
        if kind is ProgrammeKind.ANNUAL_CALL:
            eur = randint(40, (100, 250, 400)[years - 1]) * 1_000
        elif kind is ProgrammeKind.PILOT:
            eur = randint(20, 30) * 1_000
        elif kind is ProgrammeKind.FELLOWSHIP:
            eur = randint(30, 60) * 1_000 * years
        else:
            eur = randint(400, 1_500) * 1_000
        currency = "ITL" if award < EURO_CHANGEOVER else "EUR"
        amount = eur_to_award(eur, currency)
        start_ord = award_ord + randint(30, 120)
        end_ord = date(date.fromordinal(start_ord).year + years, 1, 1).toordinal() - 1
        end_ord = max(end_ord, start_ord + 180)
        today = REFERENCE_DATE.toordinal()
        roll = rand()
        if roll < 0.01:
            status = GrantStatus.WITHDRAWN
        elif roll < 0.03 and start_ord < today:
            status = GrantStatus.TERMINATED
            end_ord = min(end_ord, start_ord + randint(120, 360))
        elif end_ord < today:
            status = GrantStatus.COMPLETED
        elif start_ord <= today:
            status = GrantStatus.ACTIVE
        else:
            status = GrantStatus.AWARDED
        due = received = None
        if status in (GrantStatus.COMPLETED, GrantStatus.TERMINATED):
            due = date.fromordinal(end_ord + 90)
            if rand() < 0.95 and due.toordinal() + 60 < today:
                received = date.fromordinal(due.toordinal() + randint(-30, 60))
        person = randint(1, max(1, math.ceil(index / GRANTS_PER_PERSON)))
        host = self.org_ids[(person - 1) // PEOPLE_PER_ORG + 1]
        topic = SYN_TOPICS[randrange(len(SYN_TOPICS))]
        frame = SYN_GRANT_FRAMES[randrange(len(SYN_GRANT_FRAMES))]
        conf_roll = rand()
        confidentiality = (Confidentiality.PUBLIC if conf_roll < 0.95 else
                           Confidentiality.TRUSTEES if conf_roll < 0.99 else
                           Confidentiality.INTERNAL)
        grant_id = w.new(Grant.__table__, {
            "reference": reference,
            "title": frame.format(t=topic, T=topic[0].upper() + topic[1:]),
            "summary": f"Synthetic grant for benchmarks on {topic}.",
            "programme_id": self.programmes[(kind, award.year)],
            "host_organisation_id": host,
            "principal_investigator_id": self.person_ids[person],
            "status": status,
            "award_date": award,
            "start_date": date.fromordinal(start_ord),
            "end_date": date.fromordinal(end_ord),
            "amount_awarded": amount,
            "currency": currency,
            "amount_eur": self.rates.to_eur(amount, currency, award),
            "confidentiality": confidentiality,
            "outcome_report_due": due,
            "outcome_report_received": received,
            "is_fictional": True,
        })
        self.cluster_grants[index] = (grant_id, award_ord)
        first_area = randrange(len(self.area_ids))
        w.add(grant_areas, {"grant_id": grant_id, "research_area_id": self.area_ids[first_area]})
        if rand() < 0.4:
            second = (first_area + 1 + randrange(len(self.area_ids) - 1)) % len(self.area_ids)
            w.add(grant_areas, {"grant_id": grant_id, "research_area_id": self.area_ids[second]})
        if rand() < 0.25 and index > 2:
            other = randint(1, max(1, math.ceil(index / GRANTS_PER_PERSON)))
            if other != person:
                w.add(GrantInvestigator.__table__, {
                    "grant_id": grant_id, "person_id": self.person_ids[other],
                    "role": InvestigatorRole.CO_INVESTIGATOR,
                })
        if status is not GrantStatus.WITHDRAWN:
            parts = split_instalments(amount, currency, years)
            for number, part in enumerate(parts):
                due_date = date.fromordinal(start_ord + 365 * number)
                paid = due_date.toordinal() <= today and (
                    status is not GrantStatus.TERMINATED or number == 0)
                w.new(Payment.__table__, {
                    "grant_id": grant_id, "due_date": due_date,
                    "paid_date": due_date + timedelta(days=14) if paid else None,
                    "amount": part, "currency": currency,
                    "amount_eur": self.rates.to_eur(part, currency, due_date),
                    "note": f"Instalment {number + 1} of {len(parts)}",
                })

        if status is GrantStatus.WITHDRAWN or start_ord >= today:
            return
        count = _OUTPUTS_PER_GRANT[_pick(rand() * 100, _OUTPUTS_CUM)]
        trial_at = count - 1 if index % TRIAL_EVERY == TRIAL_EVERY // 2 else -1
        for k in range(count):
            self.output(rng, index, grant_id, reference, k, k == trial_at, start_ord, topic,
                        person, host)

    def output(self, rng: random.Random, index: int, grant_id: int, reference: str, k: int,
               is_trial: bool, start_ord: int, topic: str, person: int, host: int) -> None:
        w = self.writer
        rand, randint, randrange = rng.random, rng.randint, rng.randrange
        today = REFERENCE_DATE.toordinal()
        when = min(start_ord + randint(60, 5 * 365), today)
        day = date.fromordinal(when)
        kind = OutputType.MEDICAL_PRODUCT if is_trial else _TYPES[_pick(rand() * 1000, _TYPE_CUM)]
        roll = rand()
        if day.year < 2000 and roll < 0.5:
            precision, day = DatePrecision.YEAR, date(day.year, 1, 1)
        elif roll < 0.2:
            precision, day = DatePrecision.MONTH, date(day.year, day.month, 1)
        else:
            precision = DatePrecision.DAY
        when = day.toordinal()
        if is_trial:
            title = f"Phase trial of an intervention targeting {topic}"
        else:
            title = SYN_OUTPUT_PHRASES[kind].format(t=topic)
        output_id = w.new(Output.__table__, {
            "type": kind, "title": f"{title} ({reference}/{k + 1})",
            "output_date": day, "date_precision": precision,
            "confidentiality": Confidentiality.PUBLIC if rand() < 0.97
            else Confidentiality.INTERNAL,
            "is_fictional": True,
        })
        if kind is OutputType.PUBLICATION:
            given, family = synthetic_person_name(person)
            w.add(Publication.__table__, {
                "output_id": output_id, "journal": SYN_JOURNALS[randrange(len(SYN_JOURNALS))],
                "year": day.year, "volume": str(randint(1, 60)),
                "pages": f"{(p := randint(1, 900))}-{p + randint(3, 15)}",
                "authors": f"{family} {given[0]}, et al.",
            })
        elif kind is OutputType.FURTHER_FUNDING:
            currency = "ITL" if day < EURO_CHANGEOVER else "EUR"
            amount = eur_to_award(randint(20, 500) * 1_000, currency)
            w.add(FurtherFunding.__table__, {
                "output_id": output_id, "funder_name": SYN_FUNDERS[randrange(len(SYN_FUNDERS))],
                "amount": amount, "currency": currency,
                "amount_eur": self.rates.to_eur(amount, currency, day),
            })
        elif kind is OutputType.INTELLECTUAL_PROPERTY:
            w.add(Patent.__table__, {
                "output_id": output_id, "office": "XX",
                "number": f"DEMO-{reference}-{k + 1}",
                "status": _PATENT_STATUSES[randrange(len(_PATENT_STATUSES))],
            })
        elif is_trial:
            first_patient = when + randint(30, 200)
            completion = first_patient + randint(365, 4 * 365)
            done = completion < today
            w.add(ClinicalTrial.__table__, {
                "output_id": output_id, "phase": _PHASES[randrange(len(_PHASES))],
                "status": TrialStatus.COMPLETED if done else TrialStatus.RECRUITING,
                "enrolment_planned": randint(12, 300),
                "condition": "Multiple sclerosis",
                "intervention": f"Intervention targeting {topic}",
                "sponsor_organisation_id": host, "start_date": day,
                "first_patient_date": date.fromordinal(first_patient),
                "completion_date": date.fromordinal(completion) if done else None,
            })

        evidence = _EVIDENCE[_pick(rand() * 100, _EVIDENCE_CUM)]
        second = None
        if rand() < 0.08:
            earlier = [g for i, g in self.cluster_grants.items() if i < index and g[1] <= when]
            if earlier:
                second = earlier[randrange(len(earlier))][0]
        share = None if second is None or rand() < 0.5 else Decimal("0.6")
        w.new(Attribution.__table__, {
            "grant_id": grant_id, "output_id": output_id, "share": share,
            "evidence": evidence, "evidence_text": _EVIDENCE_TEXT[evidence].format(ref=reference),
            "source": "synthetic",
        })
        if second is not None:
            w.new(Attribution.__table__, {
                "grant_id": second, "output_id": output_id,
                "share": None if share is None else Decimal("0.4"),
                "evidence": EvidenceKind.STAFF_JUDGEMENT,
                "evidence_text": "Earlier grant in the same line of work.", "source": "synthetic",
            })

        candidates = self.candidates
        if is_trial:
            wanted, tries = randint(3, 5), 20
        else:
            roll = rand()
            wanted = 0 if roll < 0.4 else 1 if roll < 0.85 else 2
            tries = 3 * wanted
        if wanted and candidates:
            chosen: list[tuple[int, bool]] = []
            window = min(len(candidates), 200)
            for _ in range(tries):
                up_id, up_when, up_trial = candidates[len(candidates) - 1 - randrange(window)]
                if up_when <= when and all(up_id != c for c, _ in chosen):
                    chosen.append((up_id, up_trial))
                    if len(chosen) == wanted:
                        break
            for up_id, up_trial in chosen:
                if up_trial and kind is OutputType.PUBLICATION:
                    relation = LinkRelation.REPORTS_RESULTS_OF
                else:
                    relation = _LINK_RELATIONS[_pick(rand() * 100, _LINK_CUM)]
                w.new(OutputLink.__table__, {
                    "output_id": output_id, "upstream_output_id": up_id, "relation": relation,
                })
        candidates.append((output_id, when, is_trial))


def _pick(value: float, cumulative: Sequence[int]) -> int:
    """Index of the first cumulative weight above ``value``."""
    for position, bound in enumerate(cumulative):
        if value < bound:
            return position
    return len(cumulative) - 1


def load_synthetic(session: so.Session, target: int, echo: Echo = print) -> Counter[str]:
    """Make sure synthetic grants SYN-0000001 .. SYN-<target> exist; return rows added."""
    started = time.perf_counter()
    existing = existing_synthetic_grants(session)
    if target <= existing:
        echo(f"{existing:,} synthetic grants already loaded; nothing to add.")
        return Counter()
    echo(f"Adding synthetic grants {existing + 1:,} to {target:,} ...")
    run = _Synthetic(session, echo)
    run.ensure_programmes()
    run.ensure_orgs(max(1, math.ceil(target / GRANTS_PER_ORG)))
    run.ensure_people(max(1, math.ceil(target / GRANTS_PER_PERSON)))
    run.writer.flush()
    for index in range(existing + 1, target + 1):
        run.grant(index)
        if index % FLUSH_GRANTS == 0 or index == target:
            run.writer.flush()
            echo(f"  {index - existing:>9,} / {target - existing:,} grants "
                 f"({time.perf_counter() - started:.1f} s)")
    run.writer.finish()
    return run.writer.added
