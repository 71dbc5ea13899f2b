"""portfolio indexes on grants

Revision ID: e5fc739d7ed5
Revises: fc5f7f8c479a
Create Date: 2026-11-24 17:09:28.918159

Euros per award year read from one covering index (portfolio figures at
100,000 grants), and a partial index of the outcome reports still awaited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e5fc739d7ed5'
down_revision: str | None = 'fc5f7f8c479a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITED = sa.text('outcome_report_received IS NULL')


def upgrade() -> None:
    op.create_index(
        'ix_grants_award_totals', 'grants',
        ['award_date', 'deleted_at', 'confidentiality', 'amount_eur'], unique=False,
    )
    op.create_index(
        'ix_grants_report_awaited', 'grants', ['outcome_report_due'], unique=False,
        sqlite_where=AWAITED, postgresql_where=AWAITED,
    )


def downgrade() -> None:
    op.drop_index('ix_grants_report_awaited', table_name='grants')
    op.drop_index('ix_grants_award_totals', table_name='grants')
