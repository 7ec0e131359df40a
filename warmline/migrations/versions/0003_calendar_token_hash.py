"""calendar tokens hashed at rest: peers.calendar_token (clear) becomes calendar_token_hash

Existing links keep working: each stored token is replaced by its SHA-256. A downgrade cannot
bring the clear tokens back; peers make a new link.

Revision ID: 0003
Revises: 0002
"""
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_peers = sa.table(
    'peers',
    sa.column('id', sa.Integer()),
    sa.column('calendar_token', sa.String(64)),
    sa.column('calendar_token_hash', sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table('peers') as batch_op:
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    tokens = conn.execute(sa.select(_peers.c.id, _peers.c.calendar_token)
                          .where(_peers.c.calendar_token.is_not(None))).all()
    for peer_id, token in tokens:
        # The same digest as warmline.services.peers.calendar.calendar_token_hash (kept here as it is
        # now: a migration must not change when the app does).
        digest = hashlib.sha256(token.encode()).hexdigest()
        conn.execute(sa.update(_peers).where(_peers.c.id == peer_id)
                     .values(calendar_token_hash=digest))
    with op.batch_alter_table('peers') as batch_op:
        batch_op.drop_constraint('uq_peers_calendar_token', type_='unique')
        batch_op.drop_column('calendar_token')
        batch_op.create_unique_constraint(op.f('uq_peers_calendar_token_hash'),
                                          ['calendar_token_hash'])


def downgrade() -> None:
    with op.batch_alter_table('peers') as batch_op:
        batch_op.drop_constraint(op.f('uq_peers_calendar_token_hash'), type_='unique')
        batch_op.drop_column('calendar_token_hash')
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_peers_calendar_token'), ['calendar_token'])
