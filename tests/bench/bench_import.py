"""Benchmark: import 100,000 grants from CSV with full validation, in one transaction.

The import writes, so it never touches the shared bench databases: it runs in
a scratch database on the engine being measured (the runner's ``scratch_url``:
a new SQLite file, or a new PostgreSQL database next to TEST_DATABASE_URL's,
dropped afterwards). It migrates it, adds the organisations, people,
programmes and areas the file names, generates the CSV deterministically and
times the real import service, ``run_import`` (read, check every row, write,
commit). Figures: ``import_rows_per_s`` (target: at least 20,000 rows/s),
``import_check_rows_per_s`` (the same file again as a dry run: every row read,
checked and found unchanged) and ``import_s``.

Run alone on SQLite: ``.venv/bin/python -m tests.bench.bench_import [ROWS]``;
on both engines: ``.venv/bin/python -m tests.bench.run --only import``.
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import orm as so

from app.db import create_configured_engine
from app.identifiers import normalise_orcid
from app.imports.services import run_import
from app.migrate import alembic_config
from app.models import (
    Grant,
    ImportStatus,
    Organisation,
    OrganisationKind,
    Person,
    Programme,
    ProgrammeKind,
    ResearchArea,
)

ROWS = 100_000
ORGS, PEOPLE, FIRST_YEAR, YEARS = 60, 2_000, 1988, 36
AREAS = (
    "neural stem cells",
    "mesenchymal stem cells",
    "aHSCT",
    "remyelination",
    "neuroinflammation",
    "imaging",
    "genetics",
    "biomarkers",
)
STATUSES = ("completed", "Completed", "active", "awarded", "terminated")


def _orcid(index: int) -> str:
    """A valid ORCID (ISO 7064 MOD 11-2 check digit) numbered ``index``."""
    base = f"0000000{index:08d}"
    total = 0
    for digit in base:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    digits = base + ("X" if check == 10 else str(check))
    return normalise_orcid(f"{digits[:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:]}")


def seed(session: so.Session) -> None:
    """The records the generated file refers to."""
    session.add_all(
        Organisation(
            name=f"Istituto di Ricerca {i:03d}", kind=OrganisationKind.UNIVERSITY, country="IT"
        )
        for i in range(ORGS)
    )
    session.add_all(
        Person(family_name=f"Ricercatore{i:04d}", given_names="Anna", orcid=_orcid(i))
        for i in range(PEOPLE)
    )
    session.add_all(
        Programme(
            name=f"Annual call {FIRST_YEAR + y}",
            kind=ProgrammeKind.ANNUAL_CALL,
            year=FIRST_YEAR + y,
        )
        for y in range(YEARS)
    )
    session.add_all(ResearchArea(name=name) for name in AREAS)
    session.commit()


def grants_csv(rows: int = ROWS) -> bytes:
    """A deterministic grants file mixing the accepted date, amount and name styles."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "Reference",
            "Title",
            "Summary",
            "Programme",
            "Institution",
            "Principal investigator",
            "Status",
            "Award date",
            "Start date",
            "End date",
            "Amount",
            "Currency",
            "Confidentiality",
            "Areas",
        ]
    )
    for i in range(rows):
        year = FIRST_YEAR + i % YEARS
        month, day = 1 + i % 12, 1 + i % 28
        lire = year < 2002
        euros = 20_000 + (i * 7919) % 480_000
        if lire:
            amount = f"{euros * 2000:,}".replace(",", ".")  # Italian thousands, whole lire
        elif i % 2:
            amount = f"{euros:,}.{i % 100:02d}"
        else:
            amount = f"{euros:,}.{i % 100:02d}".replace(",", " ").replace(".", ",")
        person = i % PEOPLE
        pi = _orcid(person) if i % 3 else f"Ricercatore{person:04d}, Anna"
        award = f"{year}-{month:02d}-{day:02d}" if i % 2 else f"{day:02d}/{month:02d}/{year}"
        writer.writerow(
            [
                f"BEN-{i:07d}",
                f"Benchmark grant {i} on {AREAS[i % len(AREAS)]}",
                "" if i % 4 else "A summary, with a comma.",
                f"Annual call {year}",
                f"Istituto di Ricerca {i % ORGS:03d}",
                pi,
                STATUSES[i % len(STATUSES)],
                award,
                f"{year}-{month:02d}-{day:02d}",
                f"{year + 3}-{month:02d}-{day:02d}",
                amount,
                "ITL" if lire else "EUR",
                "public" if i % 10 else "internal",
                "; ".join(AREAS[(i + k) % len(AREAS)] for k in range(i % 3)),
            ]
        )
    return out.getvalue().encode("utf-8")


def bench_import(scratch_url: str, engine_name: str, rows: int = ROWS) -> dict[str, Any]:
    """Time the import of ``rows`` grants into a scratch database on the engine measured.

    ``scratch_url`` is a new empty database (a SQLite file, or a PostgreSQL
    database next to the bench ones) that the runner drops afterwards: an import
    writes, so it must not touch the shared benchmark databases.
    """
    # "heads": also works while parallel branches of migrations await re-chaining.
    command.upgrade(alembic_config(scratch_url), "heads")
    engine = create_configured_engine(scratch_url, poolclass=sa.pool.NullPool)
    try:
        with so.Session(engine) as session:
            seed(session)
        data = grants_csv(rows)
        with so.Session(engine) as session:
            started, cpu_started = time.perf_counter(), time.process_time()
            result = run_import(session, "grants", "bench.csv", data, dry_run=False, actor="bench")
            session.commit()
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            if result.run.status != ImportStatus.APPLIED:
                raise RuntimeError(f"benchmark import refused: {result.run.errors[:5]}")
            written = session.scalar(sa.select(sa.func.count()).select_from(Grant))
        with so.Session(engine) as session:
            # The same file again as a dry run: every row read, checked and found unchanged.
            again_started = time.perf_counter()
            again = run_import(session, "grants", "bench.csv", data, dry_run=True, actor="bench")
            session.commit()
            again_seconds = time.perf_counter() - again_started
            unchanged = (again.run.counts or {}).get("unchanged")
    finally:
        engine.dispose()
    if written != rows or unchanged != rows:
        raise RuntimeError(f"{rows} rows: {written} written, {unchanged} found unchanged again")
    return {
        "import_rows_per_s": round(rows / seconds),
        "import_check_rows_per_s": round(rows / again_seconds),
        "import_s": round(seconds, 2),
        # Not figures (kept in the JSON only). CPU time is this process's: on
        # PostgreSQL the server's own work is not in it.
        "import_details": {
            "engine": engine_name,
            "rows": rows,
            "bytes": len(data),
            "cpu_s": round(cpu_seconds, 2),
            "rows_per_cpu_s": round(rows / cpu_seconds),
            "check_s": round(again_seconds, 2),
        },
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    with tempfile.TemporaryDirectory(prefix="grantpath-bench-import-") as folder:
        url = f"sqlite:///{Path(folder) / 'import.sqlite'}"
        for key, value in bench_import(url, "sqlite", rows=count).items():
            print(f"{key}: {value}")
