"""one contact per voice call: a unique index on contacts.provider_sid where channel = 'voice'

The arrival inserts a call's contact without asking SQL first whether a retry of the call's
first request stored one already; this index answers that on the insert. A voice call that was
stored twice before it existed keeps its first contact's sid and the others lose theirs (their
rows and events stay; only the link to the ended call goes).

Revision ID: 0015
Revises: 0014
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VOICE = sa.text("channel = 'voice'")


def upgrade() -> None:
    op.execute(
        "UPDATE contacts SET provider_sid = NULL WHERE channel = 'voice' "
        "AND provider_sid IS NOT NULL AND EXISTS (SELECT 1 FROM contacts AS earlier "
        "WHERE earlier.channel = 'voice' AND earlier.provider_sid = contacts.provider_sid "
        "AND (earlier.arrived_at < contacts.arrived_at "
        "OR (earlier.arrived_at = contacts.arrived_at AND earlier.id < contacts.id)))"
    )
    op.create_index('ux_contacts_voice_call', 'contacts', ['provider_sid'], unique=True,
                    postgresql_where=_VOICE, sqlite_where=_VOICE)


def downgrade() -> None:
    op.drop_index('ux_contacts_voice_call', table_name='contacts')
