"""Backups and restores of the whole database while the app keeps running.

SQLite: the online backup API copies every page in one step under one read
transaction, so the copy is a consistent snapshot and, with WAL, writers are
not blocked meanwhile. PostgreSQL: ``pg_dump --format=custom`` (one snapshot by
design) and ``pg_restore --single-transaction`` (all or nothing).

A backup is written next to FILE under a temporary name, checked, flushed to
disk and only then renamed over FILE: a failed or interrupted backup never
replaces the previous good one. A restore goes only into an empty database:
merging a backup into live data has no right answer.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.db import SQLITE_BUSY_TIMEOUT_MS

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Where Debian and Ubuntu install the server's client tools when they are not on PATH.
PG_LIB_DIR = Path("/usr/lib/postgresql")
PG_TOOL_TIMEOUT_S = 6 * 3600


class MaintenanceError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """What `backup` wrote."""

    path: Path
    size_bytes: int
    tables: int
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    """What `restore` loaded, and anything the checks afterwards found."""

    tables: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def shown_url(url: str) -> str:
    """The database URL with any password masked, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


def backup(url: str, target: Path, *, pg_bin: str | None = None) -> BackupResult:
    """Write a consistent snapshot of the database at URL to TARGET (replaced atomically)."""
    parsed = sa.make_url(url)
    target = Path(target)
    if not target.parent.is_dir():
        raise MaintenanceError(f"The folder {target.parent} does not exist.")
    if target.is_dir():
        raise MaintenanceError(f"{target} is a folder; name the backup file to write.")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    started = time.perf_counter()
    try:
        if parsed.get_backend_name() == "sqlite":
            tables = _backup_sqlite(_sqlite_path(parsed), target, partial)
        elif parsed.get_backend_name() == "postgresql":
            tables = _backup_postgresql(parsed, partial, pg_bin)
        else:
            raise MaintenanceError(f"Backups of {parsed.get_backend_name()} are not supported.")
        _durable_replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, tables, time.perf_counter() - started)


def restore(url: str, source: Path, *, pg_bin: str | None = None) -> RestoreResult:
    """Load a backup made by `backup` into the EMPTY database at URL."""
    parsed = sa.make_url(url)
    source = Path(source)
    if not source.is_file():
        raise MaintenanceError(f"There is no backup file {source}.")
    backend = parsed.get_backend_name()
    kind = _backup_kind(source)
    if kind is None:
        raise MaintenanceError(
            f"{source} is neither a SQLite database nor a pg_dump custom-format archive."
        )
    if kind != backend:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise MaintenanceError(
            f"{source} is a {names[kind]} backup but the database is "
            f"{names.get(backend, backend)}; restore it into a {names[kind]} database."
        )
    tables = existing_tables(url)
    if tables:
        listed = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise MaintenanceError(
            f"The database {shown_url(url)} is not empty ({len(tables)} tables: {listed}). "
            "Restore only into an empty database: create a new one (a new file for SQLite, "
            "createdb for PostgreSQL), point DATABASE_URL at it and run restore again."
        )
    started = time.perf_counter()
    if backend == "sqlite":
        count, warnings = _restore_sqlite(source, _sqlite_path(parsed))
    else:
        count, warnings = _restore_postgresql(parsed, source, pg_bin)
    return RestoreResult(count, time.perf_counter() - started, warnings)


def _backup_kind(source: Path) -> str | None:
    """Which engine a backup file is for, from its first bytes: 'sqlite', 'postgresql' or None."""
    with source.open("rb") as fh:
        magic = fh.read(len(SQLITE_MAGIC))
    if magic == SQLITE_MAGIC:
        return "sqlite"
    return "postgresql" if magic.startswith(PG_CUSTOM_MAGIC) else None


def existing_tables(url: str) -> list[str]:
    """Names of the tables in the database at URL (none: it is empty or does not exist)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if not path.exists() or path.stat().st_size == 0:
            return []
        # Plain sqlite3, not our engine: looking must not switch the file to WAL.
        with closing(sqlite3.connect(path)) as connection:
            return _sqlite_tables(connection)
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "ORDER BY table_schema, table_name"
                )
            )
            return [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]
    except sa.exc.OperationalError as error:
        raise MaintenanceError(f"Cannot connect to {shown_url(url)}: {error.orig}") from None
    finally:
        engine.dispose()


# ---------------------------------------------------------------- SQLite


def _sqlite_path(url: sa.URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise MaintenanceError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(database)


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def _sqlite_problems(connection: sqlite3.Connection) -> list[str]:
    """What SQLite's integrity and foreign-key checks find (nothing when all is well)."""
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    found = [] if problems == ["ok"] else [f"integrity: {p}" for p in problems[:10]]
    for table, rowid, parent, _ in connection.execute("PRAGMA foreign_key_check").fetchmany(10):
        found.append(f"foreign key: {table} row {rowid} refers to a missing {parent} row")
    return found


def _backup_sqlite(source_path: Path, target: Path, partial: Path) -> int:
    if not source_path.is_file():
        raise MaintenanceError(f"There is no database at {source_path}.")
    if target.exists() and target.resolve() == source_path.resolve():
        raise MaintenanceError("The backup file cannot be the database itself.")
    try:
        with (
            closing(sqlite3.connect(source_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as src,
            closing(sqlite3.connect(partial)) as copy,
        ):
            # pages=-1: every page in one step, i.e. one read transaction and one snapshot.
            # Copied step by step, a write in between would restart the copy, forever
            # on a busy database.
            src.backup(copy, pages=-1)
            # The copy inherits WAL mode from the header; one self-contained file is
            # what a backup should be.
            copy.execute("PRAGMA journal_mode = DELETE")
            integrity = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                raise MaintenanceError(f"The copy failed SQLite's integrity check: {integrity[:3]}")
            return len(_sqlite_tables(copy))
    except sqlite3.Error as error:
        raise MaintenanceError(f"SQLite backup failed: {error}") from None


def _restore_sqlite(source: Path, target_path: Path) -> tuple[int, list[str]]:
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)) as src:
            tables = _sqlite_tables(src)
            if "alembic_version" not in tables:
                raise MaintenanceError(f"{source} is a SQLite file but not a grantpath backup.")
            problems = [p for p in _sqlite_problems(src) if p.startswith("integrity")]
            if problems:
                raise MaintenanceError(f"{source} is damaged: {'; '.join(problems)}")
            with closing(sqlite3.connect(target_path)) as copy:
                src.backup(copy, pages=-1)
                return len(tables), _sqlite_problems(copy)
    except sqlite3.Error as error:
        raise MaintenanceError(f"SQLite restore failed: {error}") from None


# ---------------------------------------------------------------- PostgreSQL


def pg_tool(name: str, pg_bin: str | None = None) -> str:
    """The path of pg_dump or pg_restore: in PG_BIN, else on PATH, else the newest server's."""
    if pg_bin:
        candidate = Path(pg_bin) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise MaintenanceError(f"There is no {name} in {pg_bin}.")
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        (p for p in PG_LIB_DIR.glob(f"*/bin/{name}") if p.parent.parent.name.isdigit()),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    if versions:
        return str(versions[0])
    raise MaintenanceError(
        f"{name} is needed for PostgreSQL and was not found on PATH nor in "
        f"{PG_LIB_DIR}/*/bin. Install the PostgreSQL client tools of the server's "
        "version (Debian: apt-get install postgresql-client) or pass --pg-bin DIR."
    )


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying it.

    The password goes in PGPASSWORD, never on the command line, where `ps` shows it.
    """
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    conninfo = sa.URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return conninfo.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            command,
            env=environment,
            capture_output=True,
            text=True,
            timeout=PG_TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MaintenanceError(f"{what} failed: {error}") from None
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        raise MaintenanceError(f"{what} failed: {message}")
    return done.stdout


def _backup_postgresql(url: sa.URL, partial: Path, pg_bin: str | None) -> int:
    conninfo, environment = _libpq(url)
    _run(
        [
            pg_tool("pg_dump", pg_bin),
            "--format=custom",
            "--no-password",
            f"--file={partial}",
            f"--dbname={conninfo}",
        ],
        environment,
        "pg_dump",
    )
    # Reading the archive's table of contents proves it is complete and readable.
    listing = _run(
        [pg_tool("pg_restore", pg_bin), "--list", str(partial)], environment, "Checking the dump"
    )
    return len(re.findall(r"^\d+; \d+ \d+ TABLE DATA ", listing, flags=re.MULTILINE))


def _restore_postgresql(url: sa.URL, source: Path, pg_bin: str | None) -> tuple[int, list[str]]:
    conninfo, environment = _libpq(url)
    listing = _run(
        [pg_tool("pg_restore", pg_bin), "--list", str(source)], environment, f"Reading {source}"
    )
    if not re.search(r" TABLE DATA \S+ alembic_version ", listing):
        raise MaintenanceError(f"{source} is a PostgreSQL dump but not of a grantpath database.")
    # --no-owner/--no-privileges: the objects belong to whoever restores, whatever
    # role owned them where the dump was made.
    _run(
        [
            pg_tool("pg_restore", pg_bin),
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(source),
        ],
        environment,
        "pg_restore",
    )
    return len(existing_tables(url.render_as_string(hide_password=False))), []


def _durable_replace(partial: Path, target: Path) -> None:
    """Flush the finished file to disk, then rename it over the target in one step."""
    with partial.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
