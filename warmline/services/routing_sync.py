"""Keeps the routing engine's copy of lines, peers and "who is on shift" in step with SQL.

Runs at a contact's arrival (at most every keys.LINE_SYNC_INTERVAL_SECONDS per line), from the
minute job, and after a roster change; each run is idempotent, so extra runs cost only time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from warmline import keys
from warmline.models import Line, Shift
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.schedules import active_lines, peers_on_shift


def refresh_line_routing(runtime: Runtime, line_id: int, now: datetime, *, force: bool = False) -> bool:
    """Sync one line's rules, its peers' profiles and its on-shift set; False if done recently."""
    mark = keys.line_synced(line_id)
    if not force and not runtime.redis.set(mark, "1", nx=True, ex=keys.LINE_SYNC_INTERVAL_SECONDS):
        return False
    if force:
        runtime.redis.set(mark, "1", ex=keys.LINE_SYNC_INTERVAL_SECONDS)
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            return False
        peer_ids = sorted(set(session.scalars(
            select(Shift.peer_id).where(Shift.line_id == line_id)).all()))
        on_shift = peers_on_shift(session, line, now) if line.active else frozenset()
    routing.sync_line(runtime, line_id, now)
    for peer_id in peer_ids:
        routing.sync_peer(runtime, peer_id, now)
    routing.apply_shift_roster(runtime, line_id, on_shift, now)
    return True


def refresh_all_lines(runtime: Runtime, now: datetime) -> int:
    with runtime.sessions() as session:
        line_ids = [line.id for line in active_lines(session)]
    for line_id in line_ids:
        refresh_line_routing(runtime, line_id, now, force=True)
    return len(line_ids)
