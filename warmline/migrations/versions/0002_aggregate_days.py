"""aggregate days: when each line-local day was aggregated and when its events were deleted

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'aggregate_days',
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('line_id', 'day', name=op.f('pk_aggregate_days')),
    )


def downgrade() -> None:
    op.drop_table('aggregate_days')
