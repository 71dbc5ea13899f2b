"""longer grant references (360Giving identifiers)

Revision ID: c3a9d7e15b42
Revises: a1d3e0c5b7f2
Create Date: 2026-11-24 19:45:00.000000

360Giving grant identifiers are the reference of an imported grant, and some
are longer than 40 characters (the standard's own test file has one of 41).
grants.reference becomes VARCHAR(120), the length of an org-id. On SQLite the
batch rebuild runs with foreign keys off (migrations/env.py), so the rows that
point at grants stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3a9d7e15b42'
down_revision: str | None = 'a1d3e0c5b7f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=40),
                              type_=sa.String(length=120), existing_nullable=False)


def downgrade() -> None:
    # PostgreSQL refuses the downgrade while a reference is longer than 40 characters.
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.alter_column('reference', existing_type=sa.String(length=120),
                              type_=sa.String(length=40), existing_nullable=False)
