"""Dashboard sign-ins: argon2 password hashes and `python -m warmline user password EMAIL`."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import TextIO

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import AuditEntry, Peer, User
from warmline.runtime import Runtime

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only stops absurd input
CLI_ACTOR = "cli"

# argon2-cffi's defaults follow RFC 9106's low-memory recommendation.
_hasher = PasswordHasher()


class PasswordRejectedError(ValueError):
    """A password that may not be set (too short, too long, or empty)."""


class UnknownUserError(LookupError):
    """No user and no peer has that email."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a hash that is not argon2's."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejectedError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRejectedError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def set_password(
    session: Session, email: str, password: str, *, now: datetime, actor: str = CLI_ACTOR
) -> User:
    """Store a new password for ``email``, making the sign-in of an existing peer if needed.

    Existing sessions of that user are ended (their version is bumped) and a lockout is lifted:
    setting a password is how an admin lets someone back in.
    """
    check_password(password)
    normalized = email.strip().lower()
    user = session.scalars(select(User).where(User.email == normalized)).first()
    if user is None:
        peer = session.scalars(select(Peer).where(Peer.email == normalized)).first()
        if peer is None:
            raise UnknownUserError(normalized)
        user = User(email=peer.email, role=peer.role, peer_id=peer.id, active=peer.active,
                    session_version=1)
        session.add(user)
    else:
        user.session_version = (user.session_version or 0) + 1
    user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    session.flush()
    session.add(AuditEntry(user_id=None, actor=actor, action="user.password_set",
                           target=normalized, detail={}, at=now))
    return user


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass("New password: ", stream=sys.stderr)
    # Only the line ending is removed: spaces may be part of a passphrase.
    return stdin.readline().rstrip("\r\n")


def set_password_command(runtime: Runtime, email: str, stdin: TextIO, now: datetime) -> int:
    """Read the new password from stdin's first line and store it; exit 1 with a reason if not."""
    password = _read_password(stdin)
    try:
        with runtime.sessions.begin() as session:
            user = set_password(session, email, password, now=now)
            active = user.active
    except PasswordRejectedError as exc:
        print(f"{email}: {exc}; nothing was changed", file=sys.stderr)
        return 1
    except UnknownUserError:
        print(f"{email}: no user or peer has this email (add the peer to the roster first)",
              file=sys.stderr)
        return 1
    note = "" if active else " (this sign-in is deactivated: it cannot sign in until reactivated)"
    print(f"password set for {email.strip().lower()}{note}")
    return 0
