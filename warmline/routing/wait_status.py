"""What a waiting caller may be told: their place in line and an estimate from observed waits."""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.matching import VOICE, Presence, estimate_wait
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


def wait_status(engine: RoutingEngine, contact_id: str) -> WaitStatus | None:
    """Three round trips: the contact (with the marker check), its line's queue, staff and
    recent waits together, then whether those peers are on calls."""
    view, state = engine.contact_view_and_state(contact_id)
    if view is None or state is None:
        return None
    wanted = view.wanted_experience
    pipe = engine.redis.pipeline(transaction=False)
    pipe.zrank(keys.waiting(view.line_id, view.channel, wanted, view.language), contact_id)
    pipe.lrange(keys.recent_waits(view.line_id, view.channel, wanted), 0, -1)
    pipe.zrange(keys.staffed(view.line_id, view.channel, wanted, view.language), 0, -1)
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
