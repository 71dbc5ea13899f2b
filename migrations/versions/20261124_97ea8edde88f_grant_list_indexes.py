"""grant list indexes

Revision ID: 97ea8edde88f
Revises: f4c1e7a2b9d0
Create Date: 2026-11-24 19:00:00

The grant list at 100,000 grants: partial indexes over the live grants (the list never
shows deleted ones unless asked) that give each sort its rows in order, and the status
filter and the pager's COUNT their rows from the index alone. ``confidentiality`` and
``deleted_at`` close ix_grants_live_status so that SQLite counts from it without reading
the table (it wants every column the query names, even one the index's WHERE implies).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '97ea8edde88f'
down_revision: str | None = 'f4c1e7a2b9d0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text('deleted_at IS NULL')
INDEXES = {
    'ix_grants_live_status': ['status', 'award_date', 'id', 'confidentiality', 'deleted_at'],
    'ix_grants_live_title': ['title', 'id'],
    'ix_grants_live_amount': ['amount_eur', 'id'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(
            name, 'grants', columns, unique=False, sqlite_where=LIVE, postgresql_where=LIVE
        )


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name='grants')
