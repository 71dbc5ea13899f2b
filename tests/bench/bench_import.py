"""Benchmark: import 100,000 grants from CSV with full validation, in one transaction.

The import writes, so it never touches the shared bench database: it builds a
scratch SQLite database in a temporary directory, migrates it, adds the
organisations, people, programmes and areas the file names, generates the CSV
deterministically and times ``run_import`` (read, check every row, write,
commit). Target: at least 20,000 rows/s.

Run alone: ``.venv/bin/python -m tests.bench.bench_import [ROWS]``.
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
TARGET_ROWS_PER_S = 20_000
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


def bench_import(url: str | None = None, app: Any = None, rows: int = ROWS) -> dict[str, Any]:
    """Time the import of ``rows`` grants into a scratch SQLite database.

    ``url`` and ``app`` (the shared bench database and its app) are not used:
    an import must not write into the shared database.
    """
    with tempfile.TemporaryDirectory(prefix="grantpath-bench-import-") as folder:
        scratch = f"sqlite:///{Path(folder) / 'import.sqlite'}"
        command.upgrade(alembic_config(scratch), "head")
        engine = create_configured_engine(scratch, poolclass=sa.pool.NullPool)
        try:
            with so.Session(engine) as session:
                seed(session)
            data = grants_csv(rows)
            with so.Session(engine) as session:
                started, cpu_started = time.perf_counter(), time.process_time()
                result = run_import(
                    session, "grants", "bench.csv", data, dry_run=False, actor="bench"
                )
                session.commit()
                seconds = time.perf_counter() - started
                cpu_seconds = time.process_time() - cpu_started
                if result.run.status != ImportStatus.APPLIED:
                    raise RuntimeError(f"benchmark import refused: {result.run.errors[:5]}")
                written = session.scalar(sa.select(sa.func.count()).select_from(Grant))
            with so.Session(engine) as session:
                again_started = time.perf_counter()
                again = run_import(
                    session, "grants", "bench.csv", data, dry_run=True, actor="bench"
                )
                session.commit()
                again_seconds = time.perf_counter() - again_started
                unchanged = (again.run.counts or {}).get("unchanged")
        finally:
            engine.dispose()
    assert written == rows, (written, rows)
    assert unchanged == rows, (unchanged, rows)
    return {
        "name": "import 100k grants CSV (SQLite)" if rows == ROWS else f"import {rows} grants",
        "rows": rows,
        "bytes": len(data),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        # CPU time of this process: what the figure would be on an otherwise idle machine.
        "cpu_seconds": round(cpu_seconds, 2),
        "rows_per_cpu_s": round(rows / cpu_seconds),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "ok": rows / seconds >= TARGET_ROWS_PER_S,
        "reimport_check_seconds": round(again_seconds, 2),
        "reimport_check_rows_per_s": round(rows / again_seconds),
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    for key, value in bench_import(rows=count).items():
        print(f"{key}: {value}")
