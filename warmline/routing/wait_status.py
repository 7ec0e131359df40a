"""What a waiting caller may be told: their place in line and an estimate from observed waits."""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.matching import estimate_wait
from warmline.routing import keys
from warmline.routing.engine import RoutingEngine


@dataclass(frozen=True)
class WaitStatus:
    state: str  # waiting, offered, connected
    position: int | None  # 1 = next, among contacts waiting for the same kind of peer
    expected_wait_seconds: float | None  # None: not enough observations to say honestly


def wait_status(engine: RoutingEngine, contact_id: str) -> WaitStatus | None:
    view = engine.contact_view(contact_id)
    state = engine.contact_state(contact_id)
    if view is None or state is None:
        return None
    wanted = view.wanted_experience
    rank = engine.redis.zrank(
        keys.waiting(view.line_id, view.channel, wanted, view.language), contact_id)
    waits = [float(w) for w in engine.redis.lrange(
        keys.recent_waits(view.line_id, view.channel, wanted), 0, -1)]
    return WaitStatus(
        state=state,
        position=int(rank) + 1 if isinstance(rank, int) else None,
        expected_wait_seconds=estimate_wait(waits),
    )
