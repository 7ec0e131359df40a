"""line service target: what the staffing planner plans for (answered within, share)

Revision ID: 0005
Revises: 0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.add_column(sa.Column('target_answer_seconds', sa.Integer(), nullable=False,
                                   server_default='60'))
        batch.add_column(sa.Column('target_share', sa.Float(), nullable=False,
                                   server_default='0.8'))


def downgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.drop_column('target_share')
        batch.drop_column('target_answer_seconds')
