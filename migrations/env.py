"""Alembic environment: our metadata, SQLite-safe batch mode, engine set-up."""

from __future__ import annotations

import os
from typing import Any

from alembic import context

from app.db import create_configured_engine
from app.models import Base
from app.models.base import ScaledDecimal, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Render our column types as their plain SQL types, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, ScaledDecimal):
        return "sa.BigInteger()"
    return False


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from app import create_app

    return str(create_app().config["DATABASE_URL"])


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_configured_engine(_url(), poolclass=__import__("sqlalchemy").pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _sqlite_foreign_keys(connection: Any, on: bool) -> None:
    """Switch SQLite's foreign-key enforcement (a no-op inside a transaction)."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys = {int(on)}")


def _run(connection: Any) -> None:
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead,
    # dropping the old one. With foreign keys enforced, that DROP deletes (or
    # nulls) every row pointing at the table: a rebuilt research_areas would
    # empty grant_areas. SQLite's own recipe: enforcement off while the schema
    # changes, then a foreign_key_check before it goes back on.
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        transaction_per_migration=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.commit()
            if broken:
                raise RuntimeError(f"Migrating broke foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


if os.environ.get("ALEMBIC_OFFLINE") or context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
