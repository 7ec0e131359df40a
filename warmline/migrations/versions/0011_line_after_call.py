"""line after-call settings (the survey, the resources texted on a yes) and the survey's tallies

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lines') as batch:
        batch.add_column(sa.Column('survey', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('resources', sa.JSON(), nullable=False,
                                   server_default='{}'))
    op.create_table(
        'survey_tallies',
        sa.Column('line_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('line_id', 'day', 'score'),
    )


def downgrade() -> None:
    op.drop_table('survey_tallies')
    with op.batch_alter_table('lines') as batch:
        batch.drop_column('resources')
        batch.drop_column('survey')
