"""users session token

Revision ID: d8f2b61a9c3e
Revises: 4de521744d44
Create Date: 2026-11-24 19:50:00

Session and remember cookies carry "<user id>:<session token>"; a new token
(at log-out, on a password reset) makes every earlier cookie worthless. Each
existing account gets a random token (so everyone logs in again once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd8f2b61a9c3e'
down_revision: str | None = '4de521744d44'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    random_token = (
        "lower(hex(randomblob(24)))" if op.get_bind().dialect.name == 'sqlite'
        else "md5(random()::text || clock_timestamp()::text || id::text)"
    )
    op.execute(f"UPDATE users SET session_token = {random_token}")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
