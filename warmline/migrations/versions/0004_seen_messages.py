"""seen messages: every inbound text taken, by its MessageSid's keyed hash, kept for good

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'seen_messages',
        sa.Column('message_sid_hash', sa.String(length=64), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('message_sid_hash', name=op.f('pk_seen_messages')),
    )


def downgrade() -> None:
    op.drop_table('seen_messages')
