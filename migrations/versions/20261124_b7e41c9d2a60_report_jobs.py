"""report jobs

Revision ID: b7e41c9d2a60
Revises: 97ea8edde88f
Create Date: 2026-11-24 19:30:00.000000

Background report renders (drafts and issuing) with their progress and result.
At most one job per kind and parameters may be queued or running (a partial
unique index), so a double click never issues a report twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e41c9d2a60'
down_revision: str | None = '97ea8edde88f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table('report_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('parameters_key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='job_status', native_enum=False, create_constraint=True, length=7), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('issued_report_id', sa.Integer(), nullable=True),
    sa.Column('result_pdf', sa.LargeBinary(), nullable=True),
    sa.Column('result_filename', sa.String(length=200), nullable=True),
    sa.Column('result_size', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_report_jobs_progress_percent')),
    sa.ForeignKeyConstraint(['issued_report_id'], ['issued_reports.id'], name=op.f('fk_report_jobs_issued_report_id_issued_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_jobs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs'))
    )
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_report_jobs_requested_by_id_created_at', ['requested_by_id', 'created_at'], unique=False)
        batch_op.create_index(
            'uq_report_jobs_active', ['kind', 'parameters_key'], unique=True,
            sqlite_where=ACTIVE, postgresql_where=ACTIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_index('uq_report_jobs_active')
        batch_op.drop_index('ix_report_jobs_requested_by_id_created_at')

    op.drop_table('report_jobs')
