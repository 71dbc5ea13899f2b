"""index grants by end date

Revision ID: a1d3e0c5b7f2
Revises: e5fc739d7ed5
Create Date: 2026-11-24 18:50:00

Portfolio figures count the grants completed in a period: an index on the end
date reads a year's few thousand grants instead of all of them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a1d3e0c5b7f2"
down_revision: str | None = "e5fc739d7ed5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_grants_end_date", "grants", ["end_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_grants_end_date", table_name="grants")
