"""Reads kept in the process until the tables under them change.

Every page of the grant list showed filter options (years, hundreds of programmes,
research areas) and counted the matching grants, read afresh each time: at 100,000
grants a third of the page's time on PostgreSQL. Those answers only change when the
tables they read change, and the database keeps a version of each watched table
(``change_counters``, set by triggers: see app/models/changes.py). A cached answer is
used while the versions it was read at are still current; one small query checks that.

The versions are read before the answer, in the same transaction: an answer computed
a moment later can only be newer than its versions say, never older.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm as so

from app.models.changes import WATCHED_TABLES, ChangeCounter

T = TypeVar("T")

# Answers kept per process; the least recently used go first.
MAX_ENTRIES = 512

_entries: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


def table_versions(session: so.Session, tables: Sequence[str]) -> tuple[tuple[int, ...], bool]:
    """The current version of each table, in the order asked, and whether this transaction
    changed any of them (PostgreSQL: its versions then only change at its first write).

    Every watched table's are read at once and kept by the session until it next writes,
    commits or rolls back: a page asking several cached questions reads them once.
    """
    unknown = set(tables) - set(WATCHED_TABLES)
    if unknown:
        raise ValueError(f"no change counter for {', '.join(sorted(unknown))}")
    found: dict[str, tuple[int, bool]] | None = session.info.get(_VERSIONS)
    if found is None:
        found = session.info[_VERSIONS] = _read_versions(session)
    return tuple(found[table][0] for table in tables), any(found[t][1] for t in tables)


def _read_versions(session: so.Session) -> dict[str, tuple[int, bool]]:
    if session.get_bind().dialect.name == "postgresql":
        # txid_current_if_assigned: NULL in a transaction that has written nothing.
        changed_here: Any = ChangeCounter.txid == sa.func.txid_current_if_assigned()
    else:
        changed_here = sa.false()  # SQLite's triggers give every row written a new version
    rows = session.execute(sa.select(ChangeCounter.table_name, ChangeCounter.version, changed_here))
    return {table: (number, bool(mine)) for table, number, mine in rows}


_VERSIONS = "change_counter_versions"


def forget_versions(session: so.Session) -> None:
    """For writes the session cannot see (a driver's executemany or COPY on its connection)."""
    session.info.pop(_VERSIONS, None)


@sa.event.listens_for(so.Session, "after_flush")
@sa.event.listens_for(so.Session, "after_commit")
@sa.event.listens_for(so.Session, "after_soft_rollback")
def _forget_versions(session: so.Session, *_: Any) -> None:
    """Whatever the session wrote or ended may have changed them."""
    forget_versions(session)


@sa.event.listens_for(so.Session, "do_orm_execute")
def _forget_versions_on_writes(state: so.ORMExecuteState) -> None:
    """Core INSERT/UPDATE/DELETE through the session (imports, bulk changes) too."""
    if not state.is_select:
        forget_versions(state.session)


def cached_read(
    session: so.Session, tables: Sequence[str], key: Hashable, read: Callable[[], T]
) -> T:
    """``read()``, or what it gave before while ``tables`` have not changed since.

    ``key`` names the question (with every argument the answer depends on); ``read`` must
    read only the watched ``tables`` and return a value nobody mutates. A transaction that
    has changed one of the tables reads afresh and keeps nothing.
    """
    versions, changed_here = table_versions(session, tables)
    if changed_here:
        return read()
    entry_key = (key, tuple(tables), versions)
    with _lock:
        if entry_key in _entries:
            _entries.move_to_end(entry_key)
            return _entries[entry_key]  # type: ignore[no-any-return]
    value = read()
    with _lock:
        _entries[entry_key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every cached answer (tests that count queries start from nothing)."""
    with _lock:
        _entries.clear()
