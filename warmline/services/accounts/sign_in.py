"""Dashboard sign-in: passwords, a growing delay per account, and sessions the server can end.

Guessing is slowed, never locked out. Each email (known or not, so the answer says nothing about
which emails have accounts) may fail FREE_FAILURES times; after that each failure makes the next
try wait twice as long, up to MAX_DELAY_SECONDS, and a try during the wait is refused without
checking the password (so it neither costs an argon2 hash nor lengthens the wait). A quiet
ACCOUNT_MEMORY_SECONDS forgets the failures, and so does a success. A browser that has signed in
to the account before carries a device token and is slowed on its own: someone who knows a
peer's email cannot keep that peer out. The cap per client address is the web layer's
(Flask-Limiter, `warmline.web.limits`).

Each session cookie carries a random session id. Signing out records that id as ended (Redis,
for as long as the cookie could live), so a copied cookie stops working at once, not when it
expires. Ended sessions are listed rather than live ones kept, so that losing Redis (a restart
without persistence) signs nobody out; it forgets the sign-outs of the last 14 hours, and "sign
out everywhere", which is in SQL, still holds.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from redis import Redis
from sqlalchemy import select, update

from warmline import epoch, keys
from warmline.models import User
from warmline.runtime import Runtime
from warmline.services.accounts.users import hash_password, verify_password

SESSION_LIFETIME = timedelta(hours=14)
"""Long enough for a double shift; the cookie and its server record end together."""

FREE_FAILURES = 3
"""Wrong passwords an email may have before the next try waits (typos happen)."""
FIRST_DELAY_SECONDS = 2
MAX_DELAY_SECONDS = 5 * 60
ACCOUNT_MEMORY_SECONDS = keys.SIGN_IN_ACCOUNT_TTL_SECONDS


class SignInRefusal(StrEnum):
    WRONG = "wrong"  # unknown email, wrong password or inactive account: one message
    SLOWED = "slowed"  # too many recent failures for this email: wait `retry_after` seconds


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    refusal: SignInRefusal | None = None
    retry_after: int = 0


def delay_after(failures: int) -> int:
    """Seconds the next try waits after `failures` failures in a row: 0, 0, 0, 2, 4, 8 ... 300."""
    if failures < FREE_FAILURES:
        return 0
    exponent = min(failures - FREE_FAILURES, int(math.log2(MAX_DELAY_SECONDS)) + 1)
    return int(min(FIRST_DELAY_SECONDS * 2**exponent, MAX_DELAY_SECONDS))


def _normalize(email: str) -> str:
    return email.strip().lower()


def _throttle_key(email: str, device: str | None) -> str:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return keys.sign_in_account(digest, device)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    # Verifying against a real argon2 hash for unknown emails keeps the timing the same, so the
    # answer time does not tell which emails have accounts.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not-a-password-of-anyone"))
    return _DUMMY_HASH[0]


def sign_in(runtime: Runtime, email: str, password: str, *, device: str | None = None,
            now: datetime) -> SignInResult:
    """Check a sign-in. `device` is the token of a browser that signed in to this email before."""
    normalized = _normalize(email)
    key = _throttle_key(normalized, device)
    wait = _seconds_to_wait(runtime.redis, key, now)
    if wait:
        return SignInResult(None, SignInRefusal.SLOWED, wait)
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == normalized)).first() \
            if normalized else None
        if user is None or not user.password_hash:
            verify_password(_dummy_hash(), password)
        elif verify_password(user.password_hash, password) and user.active:
            runtime.redis.delete(key)
            return SignInResult(user)
    retry_after = _record_failure(runtime.redis, key, now)
    if retry_after:
        return SignInResult(None, SignInRefusal.SLOWED, retry_after)
    return SignInResult(None, SignInRefusal.WRONG)


# The account's hash keeps "not_before" as epoch seconds: converted where it is read and written.
def _seconds_to_wait(redis: Redis, key: str, now: datetime) -> int:
    not_before = redis.hget(key, "not_before")
    if not_before is None:
        return 0
    return max(0, math.ceil(float(not_before) - epoch.seconds(now)))


def _record_failure(redis: Redis, key: str, now: datetime) -> int:
    failures = int(redis.hincrby(key, "failures", 1))
    delay = delay_after(failures)
    pipe = redis.pipeline()
    pipe.hset(key, "not_before", str(epoch.seconds(now) + delay))
    pipe.expire(key, ACCOUNT_MEMORY_SECONDS + delay)
    pipe.execute()
    return delay


# --------------------------------------------------------------------------- sessions


def new_device_token() -> str:
    return secrets.token_urlsafe(16)


def start_session() -> str:
    """A new session's id, for the (signed) cookie."""
    return secrets.token_urlsafe(24)


def session_is_live(runtime: Runtime, session_id: str) -> bool:
    return not runtime.redis.exists(keys.ended_session(_session_digest(session_id)))


def end_session(runtime: Runtime, session_id: str) -> None:
    runtime.redis.set(keys.ended_session(_session_digest(session_id)), "1",
                      ex=int(SESSION_LIFETIME.total_seconds()))


def _session_digest(session_id: str) -> str:
    # Only a digest is stored: reading Redis gives nobody a session id.
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def load_signed_in_user(runtime: Runtime, user_id: int, session_version: int) -> User | None:
    """The user a session cookie names, unless deactivated or signed out everywhere since."""
    with runtime.sessions() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or user.session_version != session_version:
            return None
        return user


def set_page_language(runtime: Runtime, user_id: int, language: str | None) -> None:
    """The person's own choice of the pages' language (None: follow the browser)."""
    with runtime.sessions() as session, session.begin():
        session.execute(update(User).where(User.id == user_id).values(language=language))


def sign_out_everywhere(runtime: Runtime, user_id: int) -> None:
    with runtime.sessions() as session, session.begin():
        session.execute(
            update(User).where(User.id == user_id).values(session_version=User.session_version + 1)
        )
