"""change counters

Revision ID: 3e8c1f0a9b57
Revises: b7e41c9d2a60
Create Date: 2026-11-24 22:10:00.000000

A version number per watched table, changed by triggers in the writing transaction,
so that per-process caches of the grant list's filter options and counts know when
the data under them changed, whichever process, command or tool changed it.
PostgreSQL takes a number from a sequence once per transaction (statement triggers
that skip the update when the row already carries the transaction's id); SQLite (row
triggers only) a random 64-bit number per row. Either way a number is never used twice, so a
rolled-back change cannot be mistaken for a later one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3e8c1f0a9b57'
down_revision: str | None = 'b7e41c9d2a60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The models' WATCHED_TABLES as of this revision (a revision stands on its own).
WATCHED = ('grants', 'grant_areas', 'programmes', 'research_areas')
EVENTS = ('insert', 'update', 'delete')


def upgrade() -> None:
    counters = op.create_table('change_counters',
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('txid', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_change_counters'))
    )
    op.bulk_insert(counters, [{'table_name': name, 'version': 0} for name in WATCHED])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE SEQUENCE change_counter_versions')
        op.execute(
            # Once per table and transaction: PostgreSQL keeps every version of a row a
            # transaction updates, and updating one row for each of 100,000 statements (an
            # import's executemany) took minutes. The readers skip their cache in a
            # transaction that changed the table (txid), so nobody reads a half-made state.
            "CREATE FUNCTION bump_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE change_counters "
            "SET version = nextval('change_counter_versions'), txid = txid_current() "
            "WHERE table_name = TG_TABLE_NAME AND txid IS DISTINCT FROM txid_current(); "
            "RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f'CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                f'ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_counter()'
            )
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(
                    f'CREATE TRIGGER {table}_{event}_changed AFTER {event.upper()} ON {table} '
                    f"BEGIN UPDATE change_counters SET version = random() "
                    f"WHERE table_name = '{table}'; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f'DROP TRIGGER {table}_changed ON {table}')
        op.execute('DROP FUNCTION bump_change_counter()')
        op.execute('DROP SEQUENCE change_counter_versions')
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER {table}_{event}_changed')
    op.drop_table('change_counters')
