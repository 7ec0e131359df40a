"""What a waiting caller may be told: their place in line and an estimate from observed waits."""

from __future__ import annotations

from dataclasses import dataclass

from redis.client import Pipeline

from warmline.domain.matching import VOICE, ContactView, Presence, estimate_wait
from warmline.routing import keys
from warmline.routing.engine import RoutingEngine


@dataclass(frozen=True)
class WaitStatus:
    state: str  # waiting, offered, connected
    position: int | None  # 1 = next, among contacts waiting for the same kind of peer
    expected_wait_seconds: float | None  # None: not enough observations to say honestly
    # Peers on shift, not off, who could take this contact (any presence), and how many of them
    # are on a call right now: "all of our peers are talking with callers" only when they all are.
    staffed: int = 0
    talking: int = 0

    @property
    def all_talking(self) -> bool:
        return self.staffed > 0 and self.talking == self.staffed


@dataclass(frozen=True)
class QueueClass:
    """The queue a contact waits in: its line, channel, the experience class it waits for
    (ANY_EXPERIENCE when any peer will do) and its language."""

    line_id: int
    channel: str
    experience: str
    language: str

    @classmethod
    def of(cls, view: ContactView) -> QueueClass:
        return cls(view.line_id, view.channel, view.wanted_experience, view.language)


def _queue_reads(pipe: Pipeline, queue: QueueClass, contact_id: str) -> None:
    pipe.zrank(keys.waiting(queue.line_id, queue.channel, queue.experience, queue.language),
               contact_id)
    pipe.lrange(keys.recent_waits(queue.line_id, queue.channel, queue.experience), 0, -1)
    pipe.zrange(keys.staffed(queue.line_id, queue.channel, queue.experience, queue.language),
                0, -1)


def wait_status(engine: RoutingEngine, contact_id: str,
                expected: QueueClass | None = None) -> WaitStatus | None:
    """Three round trips: the contact (with the marker check), its line's queue, staff and
    recent waits together, then whether those peers are on calls (none when none is on shift).

    A caller who knows which queue the contact waits in (the hold loop has the caller's wait
    facts) passes it as `expected`: its reads then go with the contact's, one round trip fewer.
    When routing holds the contact in another queue (it chose anyone since), they are read again
    from routing's own view, as without a guess."""
    view, state, read_early = engine.contact_view_state_and(
        contact_id, None if expected is None
        else lambda pipe: _queue_reads(pipe, expected, contact_id))
    if view is None or state is None:
        return None
    if expected is not None and QueueClass.of(view) == expected:
        rank, recent, on_shift = read_early
    else:
        pipe = engine.redis.pipeline(transaction=False)
        _queue_reads(pipe, QueueClass.of(view), contact_id)
        rank, recent, on_shift = pipe.execute()
    staffed = [_text(p) for p in on_shift]
    return WaitStatus(
        state=state,
        position=int(rank) + 1 if isinstance(rank, int) else None,
        expected_wait_seconds=estimate_wait([float(w) for w in recent]),
        staffed=len(staffed),
        talking=_talking(engine, staffed),
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _talking(engine: RoutingEngine, peer_ids: list[str]) -> int:
    """Peers on a call: `busy`, or holding a voice contact (a call being bridged)."""
    if not peer_ids:
        return 0
    pipe = engine.redis.pipeline(transaction=False)
    for peer_id in peer_ids:
        pipe.hget(keys.peer(peer_id), "presence")
        pipe.scard(keys.peer_contacts(peer_id, VOICE))
    answers = pipe.execute()
    return sum(1 for presence, calls in zip(answers[::2], answers[1::2], strict=True)
               if (presence is not None and _text(presence) == Presence.BUSY) or int(calls) > 0)
