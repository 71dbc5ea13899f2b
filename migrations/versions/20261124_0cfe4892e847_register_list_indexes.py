"""register list indexes

Revision ID: 0cfe4892e847
Revises: 8a4d2f6c1e93
Create Date: 2026-11-24 23:30:00.000000

The output, organisation, people and programme registers at 100,000 grants / 400,000
outputs. Partial indexes over live rows give each output and people sort its rows in
order (a page reads 50 index entries, not every row); the output indexes also carry the
columns the list filters on, so that a filter is tested in the index while it is read in
order (reading the rows themselves in title order, SQLite took 50-100 ms to find a page
of publications among thousands of software titles); the grant figures of a register
page (grants hosted, led, funded by a programme) are read from the grants themselves,
through the foreign-key indexes, and cached: indexes carrying the summed columns cost
the grant import a tenth of its speed; tiny partial indexes find the deleted
rows the "deleted" views list. Outputs, organisations and people get change
counters (same triggers as 3e8c1f0a9b57), so the registers can cache their counts,
filter options and the pages sorted by an aggregate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0cfe4892e847'
down_revision: str | None = '8a4d2f6c1e93'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text('deleted_at IS NULL')
DELETED = sa.text('deleted_at IS NOT NULL')
# Live-row indexes end with deleted_at (NULL in all of them): SQLite reads an index alone only
# when it holds every column the query names, even one the index's WHERE implies.
INDEXES = (
    (
        'ix_outputs_live_date',
        'outputs',
        ['output_date', 'id', 'type', 'confidentiality', 'deleted_at'],
        LIVE,
    ),
    (
        'ix_outputs_live_title',
        'outputs',
        ['title', 'id', 'type', 'output_date', 'confidentiality', 'deleted_at'],
        LIVE,
    ),
    (
        'ix_outputs_live_type',
        'outputs',
        ['type', 'id', 'output_date', 'confidentiality', 'deleted_at'],
        LIVE,
    ),
    ('ix_outputs_deleted', 'outputs', ['deleted_at'], DELETED),
    ('ix_people_live_name', 'people', ['family_name', 'given_names', 'id', 'deleted_at'], LIVE),
    ('ix_people_deleted', 'people', ['deleted_at'], DELETED),
)
# Tables added to the models' WATCHED_TABLES by this revision (a revision stands on its own).
WATCHED = ('outputs', 'organisations', 'people')
EVENTS = ('insert', 'update', 'delete')


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        op.create_index(
            name, table, columns, unique=False, sqlite_where=where, postgresql_where=where
        )
    counters = sa.table('change_counters', sa.column('table_name'), sa.column('version'))
    op.bulk_insert(counters, [{'table_name': name, 'version': 0} for name in WATCHED])
    if op.get_bind().dialect.name == 'postgresql':
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
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER {table}_{event}_changed')
    op.execute(
        sa.text('DELETE FROM change_counters WHERE table_name IN :names').bindparams(
            sa.bindparam('names', list(WATCHED), expanding=True)
        )
    )
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
