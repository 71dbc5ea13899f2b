"""Running an import: read the file, check every row, write all or nothing, record the run.

Never commits: the view or the command commits once. The rows are written
inside a SAVEPOINT that is released only when every row passed; a dry run, a
refused row or a crash rolls it back, so the database keeps nothing of the
file but the ImportRun and its IMPORT audit event.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.audit.services import record
from app.giving360 import columns as giving360_columns
from app.giving360 import services as giving360_services
from app.models import AuditAction, AuditEvent, ImportRun, ImportStatus, User, utcnow

from . import donations, grants, links, outputs, priceindex
from .columns import Column, Header, Outcome
from .context import ImportContext
from .parsing import FileProblem, read_table

log = logging.getLogger(__name__)

Importer = Callable[[so.Session, Header, Any, Outcome, ImportContext], None]
FileImporter = Callable[[so.Session, bytes, str, Outcome, ImportContext], None]


@dataclass(frozen=True)
class Kind:
    """One kind of import file."""

    name: str
    label: str
    columns: tuple[Column, ...]
    run: Importer | None
    help: str
    # Kinds that read the bytes themselves (360Giving: JSON as well as CSV/XLSX).
    read_file: FileImporter | None = None
    formats: str = "a CSV or XLSX file"


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "grants",
            "Grants",
            grants.COLUMNS,
            grants.import_grants,
            "One row per grant, matched by reference.",
        ),
        Kind(
            "outputs",
            "Outputs and attributions",
            outputs.COLUMNS,
            outputs.import_outputs,
            "One row per output, matched by number or identifiers, with the grants "
            "credited with it.",
        ),
        Kind(
            "links",
            "Output links",
            links.COLUMNS,
            links.import_links,
            "One row per link: an output standing on an earlier one.",
        ),
        Kind(
            "donations",
            "Donations",
            donations.COLUMNS,
            donations.import_donations,
            "One row per gift; new donors are created.",
        ),
        Kind(
            "priceindex",
            "Price index",
            priceindex.COLUMNS,
            priceindex.import_price_index,
            "One row per year: the consumer-price index for real-terms figures.",
        ),
        Kind(
            "360giving",
            "360Giving",
            giving360_columns.COLUMNS,
            None,
            giving360_columns.HELP,
            read_file=giving360_services.import_360giving,
            formats="a JSON package, or a CSV or XLSX file with the standard's column titles",
        ),
    )
}
UPLOAD_MAX_AGE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Result:
    """A recorded run and what it found (the preview lives only here, not in the run)."""

    run: ImportRun
    outcome: Outcome


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def run_import(
    session: so.Session,
    kind: str,
    filename: str,
    data: bytes,
    *,
    dry_run: bool,
    user: User | None = None,
    actor: str | None = None,
    remote_addr: str | None = None,
) -> Result:
    """Import a file (or only check it); record the run and an IMPORT audit event."""
    spec = KINDS[kind]
    digest = sha256_of(data)
    name = actor or (user.email if user is not None else "system")
    outcome = Outcome()
    context = ImportContext(
        apply=not dry_run,
        user_id=user.id if user is not None else None,
        actor=name,
        remote_addr=remote_addr,
        label=f"import of {filename}",
    )
    try:
        if spec.read_file is not None:
            work = functools.partial(spec.read_file, session, data, filename, outcome, context)
            _in_savepoint(session, work, outcome, context, actor, dry_run)
        else:
            assert spec.run is not None
            table = read_table(data, filename)
            header = Header(table.headers, spec.columns, outcome)
            if outcome.ok:
                work = functools.partial(spec.run, session, header, table.rows, outcome, context)
                _in_savepoint(session, work, outcome, context, actor, dry_run)
    except FileProblem as problem:
        outcome.error(None, None, None, str(problem))
    except Exception as error:  # a bug or a database failure: nothing of the file is kept
        log.exception("import of %s (%s) failed", filename, kind)
        outcome.error(
            None,
            None,
            None,
            f"The import stopped on an unexpected error ({type(error).__name__}); "
            "nothing was written. The error has been logged.",
        )
    return Result(
        _record_run(session, spec, filename, digest, outcome, dry_run, user, name), outcome
    )


def _in_savepoint(
    session: so.Session,
    work: Callable[[], None],
    outcome: Outcome,
    context: ImportContext,
    actor: str | None,
    dry_run: bool,
) -> None:
    last_event = session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    savepoint = session.begin_nested()
    try:
        work()
        if actor is not None and outcome.ok and not dry_run:
            _name_actor(session, last_event, context)
    except BaseException:
        savepoint.rollback()
        raise
    if outcome.ok and not dry_run:
        savepoint.commit()
    else:
        savepoint.rollback()


def _name_actor(session: so.Session, last_event: int, context: ImportContext) -> None:
    """Outside a request the services audit as 'system': name who ran the command instead."""
    session.flush()
    session.execute(
        sa.update(AuditEvent)
        .where(
            AuditEvent.id > last_event, AuditEvent.user_id.is_(None), AuditEvent.actor == "system"
        )
        .values(actor=context.actor),
        execution_options={"synchronize_session": False},
    )


def _record_run(
    session: so.Session,
    spec: Kind,
    filename: str,
    digest: str,
    outcome: Outcome,
    dry_run: bool,
    user: User | None,
    actor: str,
) -> ImportRun:
    if not outcome.ok:
        status = ImportStatus.FAILED
    else:
        status = ImportStatus.DRY_RUN if dry_run else ImportStatus.APPLIED
    counts = {**outcome.counts, "errors": outcome.error_count}
    run = ImportRun(
        kind=spec.name,
        filename=filename[:255],
        sha256=digest,
        user_id=user.id if user is not None else None,
        actor=actor,
        status=status,
        finished_at=utcnow(),
        counts=counts,
        errors=[error.as_dict() for error in outcome.errors] or None,
    )
    session.add(run)
    session.flush()
    summary = (
        f"Import #{run.id} of {spec.name} from {filename}: {status.label.lower()}, "
        f"{_counts_text(counts)}"
    )
    record(
        session,
        AuditAction.IMPORT,
        entity=run,
        summary=summary,
        user=user,
        actor=actor,
        changes={
            "kind": [None, spec.name],
            "file": [None, filename],
            "sha256": [None, digest],
            "status": [None, status.value],
            **{key: [None, value] for key, value in counts.items()},
        },
    )
    return run


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{counts.get(key, 0)} {key}"
        for key in ("created", "updated", "unchanged", "skipped", "errors")
    )


def counts_text(run: ImportRun) -> str:
    """What a run did, in a few words: '3 created, 1 updated, 0 unchanged' and the like."""
    counts = run.counts or {}
    if run.status == ImportStatus.FAILED:
        errors = counts.get("errors", 0)
        return f"{errors} error{'s' if errors != 1 else ''}, nothing written"
    parts = [f"{counts.get(key, 0)} {key}" for key in ("created", "updated", "unchanged")]
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']} blank rows skipped")
    text = ", ".join(parts)
    return f"would be {text} (nothing written)" if run.status == ImportStatus.DRY_RUN else text


# --------------------------------------------------------------------------- uploads


def uploads_dir(instance_path: str) -> Path:
    """Where uploaded files wait between the dry run and the apply."""
    return Path(instance_path) / "imports"


def store_upload(instance_path: str, data: bytes) -> str:
    """Keep an uploaded file under its SHA-256 until it is applied; prune old ones."""
    folder = uploads_dir(instance_path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = sha256_of(data)
    path = folder / digest
    if not path.exists():
        temporary = folder / f".{digest}.{os.getpid()}"
        temporary.write_bytes(data)
        temporary.replace(path)
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for old in folder.iterdir():
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return digest


def load_upload(instance_path: str, digest: str) -> bytes | None:
    """The stored bytes of an upload, or None if gone or altered."""
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        return None
    path = uploads_dir(instance_path) / digest
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data if sha256_of(data) == digest else None


def discard_upload(instance_path: str, digest: str) -> None:
    """Remove a stored upload once applied."""
    if len(digest) == 64:
        (uploads_dir(instance_path) / digest).unlink(missing_ok=True)


def template_csv(kind: str) -> str:
    """A CSV holding only the header row of a kind's columns (examples are in the column guide).

    No example row: a forgotten example would be imported as a real record.
    """
    return ",".join(c.name for c in KINDS[kind].columns) + "\r\n"
