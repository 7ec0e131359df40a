"""daily aggregates count transfers by where the call went (from `transferred` events' `to`)

Days computed before this read zero by kind (their total stands) until they are computed again;
days already final are not, so their breakdown stays empty.

Revision ID: 0016
Revises: 0015
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ('crisis_warm', 'crisis_keypad', 'peer', 'admin', 'backup')


def upgrade() -> None:
    with op.batch_alter_table('daily_aggregates') as batch:
        for kind in KINDS:
            batch.add_column(sa.Column(f'transfers_{kind}', sa.Integer(), nullable=False,
                                       server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('daily_aggregates') as batch:
        for kind in reversed(KINDS):
            batch.drop_column(f'transfers_{kind}')
