"""Redis bookkeeping of callbacks: which callback a peer's ring belongs to, holds and locks.

Ids only: nothing here is a number. Keys share the voice prefix, so a scan of `wl:` finds them.
"""

from __future__ import annotations

from redis import Redis
from redis.lock import Lock

from warmline.voice.state import PREFIX as VOICE_PREFIX

PREFIX = f"{VOICE_PREFIX}callback:"
# A callback's bookkeeping outlives any attempt; nothing here must survive a day.
CALLBACK_STATE_TTL_SECONDS = 24 * 3600
# Placing a call to the caller takes one REST request (5 s timeout) and two commits.
ATTEMPT_LOCK_SECONDS = 15


def key_ring_attempt(ring_id: str) -> str:
    return f"{PREFIX}ring:{ring_id}:attempt"


def key_attempt_lock(attempt_id: str) -> str:
    return f"{PREFIX}attempt:{attempt_id}:lock"


def key_attempt_calling(attempt_id: str) -> str:
    return f"{PREFIX}attempt:{attempt_id}:calling"


def key_callback_lock(callback_id: int) -> str:
    return f"{PREFIX}{callback_id}:lock"


def key_peer_hold(peer_id: int) -> str:
    """A peer who took a callback on the dashboard, held (on break) while we ring them."""
    return f"{PREFIX}hold:{peer_id}"


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


class CallbackState:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def set_ring_attempt(self, ring_id: str, attempt_id: str) -> bool:
        """The first attempt recorded for a ring wins (a repeated accept webhook adds none)."""
        return bool(self.redis.set(key_ring_attempt(ring_id), attempt_id, nx=True,
                                   ex=CALLBACK_STATE_TTL_SECONDS))

    def ring_attempt(self, ring_id: str) -> str | None:
        return _text(self.redis.get(key_ring_attempt(ring_id)))

    def attempt_lock(self, attempt_id: str) -> Lock:
        lock: Lock = self.redis.lock(key_attempt_lock(attempt_id), timeout=ATTEMPT_LOCK_SECONDS,
                                     blocking_timeout=ATTEMPT_LOCK_SECONDS)
        return lock

    def claim_calling(self, attempt_id: str) -> bool:
        """Only the first wait round of the peer starts the call to the caller."""
        return bool(self.redis.set(key_attempt_calling(attempt_id), "1", nx=True,
                                   ex=CALLBACK_STATE_TTL_SECONDS))

    def callback_lock(self, callback_id: int) -> Lock:
        lock: Lock = self.redis.lock(key_callback_lock(callback_id), timeout=10, blocking_timeout=5)
        return lock

    def hold_peer(self, peer_id: int, ring_id: str) -> bool:
        return bool(self.redis.set(key_peer_hold(peer_id), ring_id, nx=True,
                                   ex=CALLBACK_STATE_TTL_SECONDS))

    def held_ring(self, peer_id: int) -> str | None:
        return _text(self.redis.get(key_peer_hold(peer_id)))

    def release_peer(self, peer_id: int, ring_id: str) -> bool:
        """Drops the hold only if it is still this ring's; True when it was."""
        script = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
                  "redis.call('DEL', KEYS[1]) return 1 end return 0")
        return bool(self.redis.eval(script, 1, key_peer_hold(peer_id), ring_id))
