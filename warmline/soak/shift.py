"""The simulator's shift (callers, texters, peers on the stand-in's phones), made to live through
faults: the app's own scheduled jobs end wrap-ups, and a failing dashboard call is tried again
on the next tick, as a peer would press again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from redis import Redis

from warmline.routing import keys as routing_keys
from warmline.runtime import make_redis
from warmline.services.peers.dashboard import record_heartbeat
from warmline.simulate.agents import (
    HEARTBEAT_EVERY_WALL_SECONDS,
    OFF_NOTICE,
    PEER_TEXT_PAUSE_SECONDS,
    TICK_WALL_SECONDS,
    Shift,
)
from warmline.standin import Standin

log = logging.getLogger(__name__)


class SoakShift(Shift):
    """`Shift` with the soak's differences (see the module's doc)."""

    driver_errors = 0

    def _end_wrap_ups(self) -> None:
        # The simulator ends wrap-ups itself to beat RQ's whole-second scheduling at 120x; the
        # soak runs slower and lets the worker's scheduled job do it, as in production.
        return

    def _tick(self, now: float) -> None:
        try:
            super()._tick(now)
        except Exception as exc:  # noqa: BLE001 - the dashboard failed during a fault; try again
            self.driver_errors += 1
            log.debug("driver tick: %s", type(exc).__name__)

    def _sample(self, now: float) -> None:
        try:
            super()._sample(now)
        except Exception:  # noqa: BLE001 - a sample missed during an outage is only a sample
            self.driver_errors += 1

    def _hang_up_everyone(self) -> None:
        try:
            super()._hang_up_everyone()
        except Exception:  # noqa: BLE001
            self.driver_errors += 1

    def wind_down(self, settled: Callable[[], bool], wall_seconds: float) -> bool:
        """After the shift: peers stay on with their dashboards open until `settled()`, taking
        the texts still waiting (closing each soon, its texter long gone) and answering the
        call backs still owed, as the last peers of a night would. True once settled."""
        deadline = time.monotonic() + wall_seconds
        next_heartbeat = 0.0
        next_check = 0.0
        done = False
        while time.monotonic() < deadline:
            now = self.now()
            if time.monotonic() >= next_heartbeat:
                try:
                    for peer in self.peers:
                        if peer.texts:
                            record_heartbeat(self.system.runtime.redis, peer.peer_id)
                except Exception:  # noqa: BLE001 - Redis still coming back
                    self.driver_errors += 1
                next_heartbeat = time.monotonic() + HEARTBEAT_EVERY_WALL_SECONDS
            self._tick(now)
            for conversation in self.conversations.values():
                if conversation.close_at is None and (conversation.texter.done
                                                      or conversation.texter.next_at is None):
                    conversation.close_at = now + PEER_TEXT_PAUSE_SECONDS
            if time.monotonic() >= next_check:
                done = settled()
                if done:
                    break
                next_check = time.monotonic() + 0.5
            time.sleep(TICK_WALL_SECONDS)
        self._hang_up_everyone()
        return done


@dataclass
class OffWatcher:
    """Samples each peer's presence against their phone: `off` (or told "text ON") while talking
    with a caller is a peer wrongly set off on a live call."""

    redis_url: str
    standin: Standin
    peers: dict[int, str]  # peer id -> phone number
    seen: dict[tuple[int, str], float] = field(default_factory=dict)  # (peer, call sid) -> when
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _texts_seen: dict[int, int] = field(default_factory=dict)

    def start(self) -> OffWatcher:
        self._thread = threading.Thread(target=self._run, name="soak-off-watch", daemon=True)
        self._thread.start()
        return self

    def _live_call(self, number: str) -> str | None:
        phone = self.standin.net.phones.get(number)
        if phone is None:
            return None
        for call in list(phone.calls):
            if call.leg.answered_mono is not None and not call.leg.final and call.bridged_with():
                return call.sid
        return None

    def _run(self) -> None:
        redis = make_redis(self.redis_url, socket_timeout=1)
        try:
            while not self._stop.wait(0.2):
                for peer_id, number in self.peers.items():
                    self._check(redis, peer_id, number)
        finally:
            redis.close()

    def _check(self, redis: Redis, peer_id: int, number: str) -> None:
        call_sid = self._live_call(number)
        phone = self.standin.net.phones.get(number)
        texts = list(phone.texts) if phone is not None else []
        told_off = any(OFF_NOTICE in m.body for m in texts[self._texts_seen.get(peer_id, 0):])
        self._texts_seen[peer_id] = len(texts)
        if call_sid is None:
            return
        try:
            # Read as the app reads: a presence means something only while the routing state is
            # built. While Redis is being rebuilt after a loss (marker missing) a peer's hash is
            # half written and routing refuses to act on it (DESIGN.md "Redis can come back
            # empty"); an `off` seen then is the rebuild's scaffolding, not a peer set off.
            pipe = redis.pipeline(transaction=True)
            pipe.exists(routing_keys.state_marker())
            pipe.hget(routing_keys.peer(peer_id), "presence")
            built, presence = pipe.execute()
            if not built:
                presence = None
        except Exception:  # noqa: BLE001 - Redis is down (a fault): nothing to read
            presence = None
        if (presence == b"off" or told_off) and (peer_id, call_sid) not in self.seen:
            self.seen[(peer_id, call_sid)] = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
