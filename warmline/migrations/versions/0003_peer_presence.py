"""peer presence: the presence a peer last asked for, kept in SQL so a Redis loss loses none

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('peers') as batch:
        batch.add_column(sa.Column('presence', sa.String(length=10), server_default='off',
                                   nullable=False))
        batch.add_column(sa.Column('presence_changed_at', sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('peers') as batch:
        batch.drop_column('presence_changed_at')
        batch.drop_column('presence')
