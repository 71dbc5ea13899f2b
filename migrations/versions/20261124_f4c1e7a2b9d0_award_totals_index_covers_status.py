"""award totals index covers the status

Revision ID: f4c1e7a2b9d0
Revises: 5442e0548ca4
Create Date: 2026-11-24 20:00:00

Withdrawn grants count in no figure (app/portfolio/definitions.py), so the
euros per award year need the status too: with it in the covering index they
are still read from the index alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'f4c1e7a2b9d0'
down_revision: str | None = '5442e0548ca4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_grants_award_totals', table_name='grants')
    op.create_index(
        'ix_grants_award_totals', 'grants',
        ['award_date', 'deleted_at', 'status', 'confidentiality', 'amount_eur'], unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_grants_award_totals', table_name='grants')
    op.create_index(
        'ix_grants_award_totals', 'grants',
        ['award_date', 'deleted_at', 'confidentiality', 'amount_eur'], unique=False,
    )
