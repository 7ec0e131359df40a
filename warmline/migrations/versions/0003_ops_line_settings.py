"""line settings for peers' load and the line's safety: back-to-back limit, flood limits, swap approval

Revision ID: 0003_ops
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_ops'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.add_column(sa.Column('back_to_back_limit', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('flood_caller_limit', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('flood_line_limit', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('swap_approval', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.drop_column('swap_approval')
        batch.drop_column('flood_line_limit')
        batch.drop_column('flood_caller_limit')
        batch.drop_column('back_to_back_limit')
