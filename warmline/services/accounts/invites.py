"""One-time links to set a password: an invitation for a new peer, or a reset made by an admin.

The token is shown once (to the admin who made it) and only its keyed hash is stored, with an
expiry, so a copy of the database cannot be turned into a sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warmline.crypto import DataKeys
from warmline.models import User
from warmline.runtime import Runtime
from warmline.services.accounts.users import set_password

INVITE_LIFETIME = timedelta(days=7)
"""Long enough for a volunteer who checks mail weekly; short enough that a forgotten link dies."""
TOKEN_BYTES = 32
_HASH_PURPOSE = "invite:"  # keeps these hashes apart from phone pseudonyms made with the same key


def invite_hash(keys: DataKeys, token: str) -> str:
    return keys.keyed_hash(_HASH_PURPOSE + token)


def issue_invite(session: Session, keys: DataKeys, user: User, now: datetime) -> str:
    """A fresh token for ``user`` (any earlier link stops working); returns it, to show once."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user.invite_token_hash = invite_hash(keys, token)
    user.invite_expires_at = now + INVITE_LIFETIME
    return token


@dataclass(frozen=True)
class Invitation:
    email: str
    first_name: str
    expires_at: datetime


def _find(session: Session, keys: DataKeys, token: str, now: datetime, *,
          lock: bool = False) -> User | None:
    if not token or len(token) > 200:
        return None
    query = select(User).where(User.invite_token_hash == invite_hash(keys, token))
    if lock:
        query = query.with_for_update(of=User)  # a second redemption waits, finds the link spent
    user = session.scalars(query).first()
    if user is None or not user.active or user.invite_expires_at is None or user.invite_expires_at <= now:
        return None
    return user


def find_invitation(runtime: Runtime, token: str, now: datetime) -> Invitation | None:
    """The invitation of a link that still works, or None (unknown, used, expired, deactivated)."""
    with runtime.sessions() as session:
        user = _find(session, runtime.keys, token, now)
        if user is None or user.invite_expires_at is None:
            return None
        first = user.peer.first_name if user.peer is not None else ""
        return Invitation(user.email, first, user.invite_expires_at)


def redeem_invitation(runtime: Runtime, token: str, password: str, now: datetime) -> str | None:
    """Set the password and spend the link; the user's email, or None when the link does not work.

    Raises PasswordRejectedError (nothing changes, the link still works) for a password that
    may not be set.
    """
    with runtime.sessions.begin() as session:
        user = _find(session, runtime.keys, token, now, lock=True)
        if user is None:
            return None
        # Spent by a conditional UPDATE as well, for databases without row locks (SQLite): of
        # two redemptions at once, exactly one changes the row and sets its password.
        spent = session.execute(
            update(User)
            .where(User.id == user.id, User.invite_token_hash == invite_hash(runtime.keys, token))
            .values(invite_token_hash=None, invite_expires_at=None)
            .execution_options(synchronize_session=False))
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            return None
        email = user.email
        set_password(session, email, password, actor=email, now=now)
        return email
