"""The back-to-back limit as a peer meets it: the kind words, and the 10-minute break that ends
by itself. The limit itself is counted and enforced in the routing engine (accept.lua)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from warmline import epoch, jobs, keys
from warmline.domain.matching import Presence
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.peers.dashboard import Refusal, change_presence

REST_BREAK = timedelta(minutes=10)


def read_rest_due(runtime: Runtime, peer_id: int, now: datetime) -> tuple[int, int] | None:
    """(contacts in a row, the line's limit) when the peer is offered nothing until a break."""
    return routing.back_to_back(runtime, peer_id, now)


def take_rest_break(runtime: Runtime, peer_id: int, now: datetime) -> Refusal | None:
    """On break now, back to available by itself after REST_BREAK (unless they choose first)."""
    refusal = change_presence(runtime, peer_id, Presence.BREAK.value, now)
    if refusal is not None:
        return refusal
    # The break ends on a whole second: Redis keeps it, and the job carries it, as whole epoch
    # seconds (as jobs already queued do; workers/routing_jobs.py makes it a datetime again).
    until = math.ceil(epoch.seconds(now + REST_BREAK))
    runtime.redis.set(keys.rest_break(peer_id), str(until), ex=keys.REST_BREAK_TTL_SECONDS)
    jobs.END_REST_BREAK.enqueue_at(runtime, epoch.moment(until + 1), peer_id, until)
    return None


def end_rest_break(runtime: Runtime, peer_id: int, until: datetime, now: datetime) -> str:
    """The job's work: back to available if this very break, ending at `until`, is still
    running and is due."""
    raw = runtime.redis.get(keys.rest_break(peer_id))
    if raw is None or epoch.moment(int(raw)) != until:
        return "not_this_break"  # they came back (or went off) on their own, or a newer break
    if now < until:
        return "not_due"
    runtime.redis.delete(keys.rest_break(peer_id))
    if routing.routing_engine(runtime, now).presence(peer_id) != Presence.BREAK:
        return "not_on_break"
    refusal = change_presence(runtime, peer_id, Presence.AVAILABLE.value, now)
    return "ended" if refusal is None else "stayed_on_break"
