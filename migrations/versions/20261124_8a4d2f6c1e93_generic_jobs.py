"""generic jobs

Revision ID: 8a4d2f6c1e93
Revises: 3e8c1f0a9b57
Create Date: 2026-11-24 22:40:00.000000

Report jobs become jobs of any kind (report drafts, issuing, large list exports):
the table `report_jobs` becomes `jobs`, its `result_pdf` a `result` with its media
type (`result_type`). The table is made anew and the rows copied, so that every
constraint, index and sequence is named after the new table on both engines.
Downgrading keeps the report jobs only (the old code knows no other kind).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8a4d2f6c1e93'
down_revision: str | None = '3e8c1f0a9b57'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status IN ('queued', 'running')")
REPORT_KINDS = "('annual_draft', 'annual_issue')"
# The columns both tables share, in order.
COMMON = (
    'id', 'kind', 'parameters', 'parameters_key', 'title', 'status', 'progress', 'stage',
    'error', 'issued_report_id', '{result}', 'result_filename', 'result_size',
    'requested_by_id', 'requested_by', 'created_at', 'started_at', 'finished_at', 'updated_at',
)


def _create(table: str, result: str, with_type: bool) -> None:
    op.create_table(table,
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
    sa.Column(result, sa.LargeBinary(), nullable=True),
    *([sa.Column('result_type', sa.String(length=100), nullable=True)] if with_type else []),
    sa.Column('result_filename', sa.String(length=200), nullable=True),
    sa.Column('result_size', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f(f'ck_{table}_progress_percent')),
    sa.ForeignKeyConstraint(['issued_report_id'], ['issued_reports.id'], name=op.f(f'fk_{table}_issued_report_id_issued_reports'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f(f'fk_{table}_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}'))
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f'ix_{table}_requested_by_id_created_at', ['requested_by_id', 'created_at'], unique=False)
        batch_op.create_index(
            f'uq_{table}_active', ['kind', 'parameters_key'], unique=True,
            sqlite_where=ACTIVE, postgresql_where=ACTIVE,
        )


def _drop(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(f'uq_{table}_active')
        batch_op.drop_index(f'ix_{table}_requested_by_id_created_at')
    op.drop_table(table)


def _copy(source: str, source_result: str, target: str, target_result: str, where: str = '') -> None:
    into = ', '.join(COMMON).format(result=target_result)
    taken = ', '.join(COMMON).format(result=source_result)
    op.execute(f'INSERT INTO {target} ({into}) SELECT {taken} FROM {source} {where}')
    if op.get_bind().dialect.name == 'postgresql':
        # Rows came with their ids: the new table's sequence goes on after the last one.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{target}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {target}), 0) + 1, false)"
        )


def upgrade() -> None:
    _create('jobs', 'result', with_type=True)
    _copy('report_jobs', 'result_pdf', 'jobs', 'result')
    op.execute("UPDATE jobs SET result_type = 'application/pdf' WHERE result IS NOT NULL")
    _drop('report_jobs')


def downgrade() -> None:
    _create('report_jobs', 'result_pdf', with_type=False)
    _copy('jobs', 'result', 'report_jobs', 'result_pdf', f'WHERE kind IN {REPORT_KINDS}')
    _drop('jobs')
