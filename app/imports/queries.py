"""Read queries for the import pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models import ImportRun


def recent_runs(session: so.Session, limit: int = 50) -> Sequence[ImportRun]:
    """The latest import runs, newest first."""
    return session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)).all()


def all_runs(session: so.Session) -> Iterator[ImportRun]:
    """Every import run, newest first, in batches (exports)."""
    query = sa.select(ImportRun).order_by(ImportRun.id.desc()).execution_options(yield_per=500)
    for batch in session.scalars(query).partitions():
        yield from batch


def get_run(session: so.Session, run_id: int) -> ImportRun | None:
    """One import run."""
    return session.get(ImportRun, run_id)
