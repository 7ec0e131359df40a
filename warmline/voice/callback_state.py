"""Redis bookkeeping of callbacks: which callback a peer's ring belongs to, holds and locks.

Ids only: nothing here is a number. The keys and their TTLs are built in `warmline.keys`.
"""

from __future__ import annotations

from redis import Redis
from redis.lock import Lock

from warmline import keys


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


class CallbackState:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def set_ring_attempt(self, ring_id: str, attempt_id: str) -> bool:
        """The first attempt recorded for a ring wins (a repeated accept webhook adds none)."""
        return bool(self.redis.set(keys.callback_ring_attempt(ring_id), attempt_id, nx=True,
                                   ex=keys.CALLBACK_STATE_TTL_SECONDS))

    def ring_attempt(self, ring_id: str) -> str | None:
        return _text(self.redis.get(keys.callback_ring_attempt(ring_id)))

    def attempt_lock(self, attempt_id: str) -> Lock:
        lock: Lock = self.redis.lock(keys.callback_attempt_lock(attempt_id),
                                     timeout=keys.ATTEMPT_LOCK_SECONDS,
                                     blocking_timeout=keys.ATTEMPT_LOCK_SECONDS)
        return lock

    def claim_calling(self, attempt_id: str) -> bool:
        """Only the first wait round of the peer starts the call to the caller."""
        return bool(self.redis.set(keys.callback_attempt_calling(attempt_id), "1", nx=True,
                                   ex=keys.CALLBACK_STATE_TTL_SECONDS))

    def callback_lock(self, callback_id: int) -> Lock:
        lock: Lock = self.redis.lock(keys.callback_lock(callback_id),
                                     timeout=keys.CALLBACK_LOCK_SECONDS, blocking_timeout=5)
        return lock

    def set_peer_language(self, leg_id: str, language: str) -> None:
        self.redis.set(keys.callback_peer_language(leg_id), language,
                       ex=keys.CALLBACK_STATE_TTL_SECONDS)

    def peer_language(self, leg_id: str) -> str | None:
        return _text(self.redis.get(keys.callback_peer_language(leg_id)))

    def hold_peer(self, peer_id: int, ring_id: str) -> bool:
        return bool(self.redis.set(keys.callback_peer_hold(peer_id), ring_id, nx=True,
                                   ex=keys.CALLBACK_STATE_TTL_SECONDS))

    def held_ring(self, peer_id: int) -> str | None:
        return _text(self.redis.get(keys.callback_peer_hold(peer_id)))

    def release_peer(self, peer_id: int, ring_id: str) -> bool:
        """Drops the hold only if it is still this ring's; True when it was."""
        script = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
                  "redis.call('DEL', KEYS[1]) return 1 end return 0")
        return bool(self.redis.eval(script, 1, keys.callback_peer_hold(peer_id), ring_id))
