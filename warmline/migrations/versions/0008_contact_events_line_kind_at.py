"""an index for one line's events of some kinds over a time window (reports, aggregates)

Revision ID: 0008
Revises: 0007
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_contact_events_line_kind_at', 'contact_events',
                    ['line_id', 'kind', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contact_events_line_kind_at', table_name='contact_events')
