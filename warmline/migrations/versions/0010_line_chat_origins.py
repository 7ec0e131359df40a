"""line chat origins: the pages allowed to embed a line's web chat widget (empty: no chat)

Revision ID: 0010
Revises: 0009
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.add_column(sa.Column('chat_origins', sa.JSON(), nullable=False,
                                   server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.drop_column('chat_origins')
