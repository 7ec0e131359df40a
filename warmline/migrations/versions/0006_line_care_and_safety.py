"""peers' load and the line's safety: back-to-back and flood limits, swap approval, open shifts,
peer activity and its daily totals

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'peer_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('peer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['peer_id'], ['peers.id'], ondelete='CASCADE',
                                name=op.f('fk_peer_activity_peer_id_peers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_activity')),
        sa.UniqueConstraint('key', name=op.f('uq_peer_activity_key')),
    )
    with op.batch_alter_table('peer_activity') as batch:
        batch.create_index(batch.f('ix_peer_activity_at'), ['at'], unique=False)
        batch.create_index(batch.f('ix_peer_activity_peer_id'), ['peer_id'], unique=False)
    op.create_table(
        'peer_activity_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('peer_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('available_seconds', sa.Integer(), nullable=False),
        sa.Column('busy_seconds', sa.Integer(), nullable=False),
        sa.Column('wrap_up_seconds', sa.Integer(), nullable=False),
        sa.Column('break_seconds', sa.Integer(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('texts', sa.Integer(), nullable=False),
        sa.Column('missed_offers', sa.Integer(), nullable=False),
        sa.Column('back_to_back', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['peer_id'], ['peers.id'], ondelete='CASCADE',
                                name=op.f('fk_peer_activity_days_peer_id_peers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_peer_activity_days')),
        sa.UniqueConstraint('peer_id', 'day', name=op.f('uq_peer_activity_days_peer_id')),
    )
    with op.batch_alter_table('peer_activity_days') as batch:
        batch.create_index(batch.f('ix_peer_activity_days_peer_id'), ['peer_id'], unique=False)
    op.create_table(
        'open_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shift_id', sa.Integer(), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('occurrence_date', sa.String(length=10), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('offered_by_peer_id', sa.Integer(), nullable=False),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('taken_by_peer_id', sa.Integer(), nullable=True),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cover_shift_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cover_shift_id'], ['shifts.id'], ondelete='SET NULL',
                                name=op.f('fk_open_shifts_cover_shift_id_shifts')),
        sa.ForeignKeyConstraint(['line_id'], ['lines.id'], ondelete='CASCADE',
                                name=op.f('fk_open_shifts_line_id_lines')),
        sa.ForeignKeyConstraint(['offered_by_peer_id'], ['peers.id'], ondelete='CASCADE',
                                name=op.f('fk_open_shifts_offered_by_peer_id_peers')),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], ondelete='CASCADE',
                                name=op.f('fk_open_shifts_shift_id_shifts')),
        sa.ForeignKeyConstraint(['taken_by_peer_id'], ['peers.id'], ondelete='SET NULL',
                                name=op.f('fk_open_shifts_taken_by_peer_id_peers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_open_shifts')),
        sa.UniqueConstraint('shift_id', 'occurrence_date',
                            name=op.f('uq_open_shifts_shift_id')),
    )
    with op.batch_alter_table('open_shifts') as batch:
        batch.create_index(batch.f('ix_open_shifts_line_id'), ['line_id'], unique=False)
        batch.create_index(batch.f('ix_open_shifts_shift_id'), ['shift_id'], unique=False)
        batch.create_index(batch.f('ix_open_shifts_state'), ['state'], unique=False)
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
    op.drop_table('peer_activity_days')
    op.drop_table('peer_activity')
    op.drop_table('open_shifts')
    with op.batch_alter_table('lines') as batch:
        batch.drop_column('swap_approval')
        batch.drop_column('flood_line_limit')
        batch.drop_column('flood_caller_limit')
        batch.drop_column('back_to_back_limit')
