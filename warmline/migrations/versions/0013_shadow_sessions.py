"""shadowing sessions: a new peer paired with a mentor for one occurrence of their shift

Revision ID: 0013
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'shadow_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shift_id', sa.Integer(), nullable=False),
        sa.Column('occurrence_date', sa.String(length=10), nullable=False),
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('peer_id', sa.Integer(), nullable=False),
        sa.Column('mentor_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], ondelete='CASCADE',
                                name=op.f('fk_shadow_sessions_shift_id_shifts')),
        sa.ForeignKeyConstraint(['line_id'], ['lines.id'], ondelete='CASCADE',
                                name=op.f('fk_shadow_sessions_line_id_lines')),
        sa.ForeignKeyConstraint(['peer_id'], ['peers.id'], ondelete='CASCADE',
                                name=op.f('fk_shadow_sessions_peer_id_peers')),
        sa.ForeignKeyConstraint(['mentor_id'], ['peers.id'], ondelete='CASCADE',
                                name=op.f('fk_shadow_sessions_mentor_id_peers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shadow_sessions')),
        sa.UniqueConstraint('shift_id', 'occurrence_date',
                            name=op.f('uq_shadow_sessions_shift_id')),
    )
    with op.batch_alter_table('shadow_sessions') as batch:
        batch.create_index(batch.f('ix_shadow_sessions_shift_id'), ['shift_id'], unique=False)
        batch.create_index(batch.f('ix_shadow_sessions_peer_id'), ['peer_id'], unique=False)


def downgrade() -> None:
    op.drop_table('shadow_sessions')
