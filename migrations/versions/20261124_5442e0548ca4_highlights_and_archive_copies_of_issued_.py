"""highlights and archive copies of issued reports

Revision ID: 5442e0548ca4
Revises: d8f2b61a9c3e
Create Date: 2026-11-24 18:39:54.210147

Highlights written by staff for the annual impact report, and the archive copy
(PDF/A-3u with the figures attached as CSV) stored beside each issued PDF;
reports issued earlier keep NULL there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5442e0548ca4'
down_revision: str | None = 'd8f2b61a9c3e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('highlights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('output_id', sa.Integer(), nullable=True),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('output_id IS NULL OR grant_id IS NULL', name=op.f('ck_highlights_one_subject')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_highlights_position_positive')),
    sa.CheckConstraint('year BETWEEN 1900 AND 2100', name=op.f('ck_highlights_year_plausible')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_highlights_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grant_id'], ['grants.id'], name=op.f('fk_highlights_grant_id_grants')),
    sa.ForeignKeyConstraint(['output_id'], ['outputs.id'], name=op.f('fk_highlights_output_id_outputs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_highlights'))
    )
    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_highlights_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_highlights_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_highlights_output_id'), ['output_id'], unique=False)
        batch_op.create_index('ix_highlights_year_position', ['year', 'position'], unique=False)

    with op.batch_alter_table('issued_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archive_pdf', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('archive_size_bytes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('archive_sha256', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('issued_reports', schema=None) as batch_op:
        batch_op.drop_column('archive_sha256')
        batch_op.drop_column('archive_size_bytes')
        batch_op.drop_column('archive_pdf')

    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.drop_index('ix_highlights_year_position')
        batch_op.drop_index(batch_op.f('ix_highlights_output_id'))
        batch_op.drop_index(batch_op.f('ix_highlights_grant_id'))
        batch_op.drop_index(batch_op.f('ix_highlights_author_id'))

    op.drop_table('highlights')
