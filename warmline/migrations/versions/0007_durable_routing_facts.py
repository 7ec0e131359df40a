"""durable routing facts: the presence a peer last asked for, and the call offer being rung

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('peers') as batch:
        batch.add_column(sa.Column('presence', sa.String(length=10), server_default='off',
                                   nullable=False))
        batch.add_column(sa.Column('presence_changed_at', sa.DateTime(timezone=True),
                                   nullable=True))
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('offer_id', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('offer_peer_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('offer_call_sid', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        for column in ('offer_expires_at', 'offer_call_sid', 'offer_peer_id', 'offer_id'):
            batch.drop_column(column)
    with op.batch_alter_table('peers') as batch:
        batch.drop_column('presence_changed_at')
        batch.drop_column('presence')
