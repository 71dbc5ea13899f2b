"""Change counters: a number per watched table that the database changes with the table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from .base import Base

# Tables whose changes invalidate cached reads (filter options, list counts, register pages
# sorted by an aggregate). Triggers made by migrations 3e8c1f0a9b57 and 0cfe4892e847 set the
# table's counter to a fresh number on every insert, update or delete, in the writing
# transaction; a migration that rebuilds one of these tables on SQLite must make its triggers
# again (tests/test_read_cache.py checks that they exist).
WATCHED_TABLES = (
    "grants",
    "grant_areas",
    "programmes",
    "research_areas",
    "outputs",
    "organisations",
    "people",
)


class ChangeCounter(Base):
    """The current version of one watched table: a number that is never used twice.

    Not a count: a rolled-back change must not give a later change the same number, or a
    cached read of the rolled-back state could be taken for the later one.
    """

    __tablename__ = "change_counters"

    table_name: so.Mapped[str] = so.mapped_column(sa.String(63), primary_key=True)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # PostgreSQL: the transaction that last changed the table (its trigger changes the
    # version once per transaction; app/records/cache.py skips the cache inside it).
    txid: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
