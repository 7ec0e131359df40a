"""daily aggregates count the contacts a mentor joined (a `mentor_joined` event)

Revision ID: 0014
Revises: 0013
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('daily_aggregates') as batch:
        batch.add_column(sa.Column('mentored', sa.Integer(), nullable=False,
                                   server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('daily_aggregates') as batch:
        batch.drop_column('mentored')
