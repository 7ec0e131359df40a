"""Hours and activity per peer: durable facts of working time, and the report built from them.

The routing services record each fact as it happens (`record_activity`: a presence change, a
contact taken, a missed offer, the back-to-back limit reached) through a job on the slow
`events` queue, so routing never waits on SQL and a fact survives a database blip (retries).
The report adds up, per peer and UTC day: time available, busy, in wrap-up and on break (from
the presence changes), time on shift (from the roster), contacts by channel, missed offers and
back-to-back limits reached. Days are rolled up into PeerActivityDay; raw facts older than
PEER_ACTIVITY_RAW_DAYS are then pruned, so totals outlive the contact retention window.
Admins see everyone's; a peer sees their own. Nothing here is about a caller.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warmline.models import Peer, PeerActivity, PeerActivityDay, Shift
from warmline.runtime import Runtime
from warmline.services.activity_log import ActivityKind
from warmline.services.peers.dashboard import list_occurrences

PEER_ACTIVITY_RAW_DAYS = 90
# Presence states the report counts as time (offered counts as available: the peer was ready).
COUNTED = {"available": "available", "offered": "available", "busy": "busy",
           "wrap_up": "wrap_up", "break": "break"}


@dataclass
class DayTotals:
    available_seconds: int = 0
    busy_seconds: int = 0
    wrap_up_seconds: int = 0
    break_seconds: int = 0
    calls: int = 0
    texts: int = 0
    missed_offers: int = 0
    back_to_back: int = 0

    def add(self, other: DayTotals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class PeerHours:
    peer_id: int
    name: str
    shift_seconds: int = 0
    totals: DayTotals = field(default_factory=DayTotals)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, UTC)
    return start, start + timedelta(days=1)


def _compute_day(session: Session, peer_id: int, day: date, now: datetime) -> DayTotals:
    """One UTC day from the raw facts: presence time clipped to the day (and to now)."""
    lo, hi = _day_bounds(day)
    hi = min(hi, now)
    totals = DayTotals()
    if hi <= lo:
        return totals
    before = session.scalars(
        select(PeerActivity.state).where(PeerActivity.peer_id == peer_id,
                                         PeerActivity.kind == ActivityKind.PRESENCE.value,
                                         PeerActivity.at < lo)
        .order_by(PeerActivity.at.desc(), PeerActivity.id.desc()).limit(1)).first()
    facts = session.scalars(
        select(PeerActivity).where(PeerActivity.peer_id == peer_id, PeerActivity.at >= lo,
                                   PeerActivity.at < hi)
        .order_by(PeerActivity.at, PeerActivity.id)).all()
    state, since = before or "off", lo
    for fact in facts:
        if fact.kind == ActivityKind.PRESENCE.value:
            _add_time(totals, state, (fact.at - since).total_seconds())
            state, since = fact.state, fact.at
        elif fact.kind == ActivityKind.CONTACT.value:
            if fact.state == "voice":
                totals.calls += 1
            else:
                totals.texts += 1
        elif fact.kind == ActivityKind.MISSED.value:
            totals.missed_offers += 1
        elif fact.kind == ActivityKind.BACK_TO_BACK.value:
            totals.back_to_back += 1
    _add_time(totals, state, (hi - since).total_seconds())
    return totals


def _add_time(totals: DayTotals, state: str, seconds: float) -> None:
    counted = COUNTED.get(state)
    if counted is not None and seconds > 0:
        name = f"{counted}_seconds"
        setattr(totals, name, getattr(totals, name) + round(seconds))


def _stored(session: Session, peer_ids: Sequence[int], start: date,
            end: date) -> dict[tuple[int, date], DayTotals]:
    rows = session.scalars(select(PeerActivityDay).where(
        PeerActivityDay.peer_id.in_(peer_ids), PeerActivityDay.day >= start,
        PeerActivityDay.day < end))
    return {(r.peer_id, r.day): DayTotals(**{f.name: getattr(r, f.name) for f in fields(DayTotals)})
            for r in rows}


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


def build_hours_report(runtime: Runtime, start: date, end: date, now: datetime,
                       peer_ids: Sequence[int] | None = None) -> list[PeerHours]:
    """Every active peer's (or only `peer_ids`') hours over UTC days [start, end)."""
    with runtime.sessions() as session:
        query = select(Peer).order_by(Peer.name)
        query = query.where(Peer.id.in_(peer_ids)) if peer_ids is not None else query.where(
            Peer.active.is_(True))
        peers = list(session.scalars(query))
        ids = [p.id for p in peers]
        stored = _stored(session, ids, start, end)
        shifts: dict[int, list[Shift]] = defaultdict(list)
        for shift in session.scalars(select(Shift).where(Shift.peer_id.in_(ids))):
            shifts[shift.peer_id].append(shift)
        lo, hi = _day_bounds(start)[0], _day_bounds(end)[0]
        report: list[PeerHours] = []
        for peer in peers:
            hours = PeerHours(peer.id, peer.name)
            for day in _days(start, end):
                hours.totals.add(stored.get((peer.id, day)) or _compute_day(session, peer.id, day, now))
            for occurrence in list_occurrences(shifts[peer.id], lo, hi):
                clipped = min(occurrence.end, hi) - max(occurrence.start, lo)
                hours.shift_seconds += max(0, round(clipped.total_seconds()))
            report.append(hours)
    return report


CSV_COLUMNS = ("peer", "on_shift_hours", "available_hours", "busy_hours", "wrap_up_hours",
               "break_hours", "calls", "texts", "missed_offers", "back_to_back_limits")


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:.2f}"


def hours_csv(report: Sequence[PeerHours]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report:
        t = row.totals
        writer.writerow([row.name, _hours(row.shift_seconds), _hours(t.available_seconds),
                         _hours(t.busy_seconds), _hours(t.wrap_up_seconds),
                         _hours(t.break_seconds), t.calls, t.texts, t.missed_offers,
                         t.back_to_back])
    return out.getvalue()


def roll_up_days(runtime: Runtime, now: datetime) -> int:
    """Store each finished UTC day's totals once, then prune raw facts past the window.
    Returns how many day rows were written."""
    today = now.astimezone(UTC).date()
    written = 0
    with runtime.sessions.begin() as session:
        first = session.scalars(select(PeerActivity.at).order_by(PeerActivity.at).limit(1)).first()
        if first is None:
            return 0
        peers = list(session.scalars(select(PeerActivity.peer_id).distinct()))
        done = {(r.peer_id, r.day) for r in session.scalars(select(PeerActivityDay))}
        for day in _days(first.date(), today):
            for peer_id in peers:
                if (peer_id, day) in done:
                    continue
                totals = _compute_day(session, peer_id, day, now)
                session.add(PeerActivityDay(peer_id=peer_id, day=day, **vars(totals)))
                written += 1
        cutoff = datetime.combine(today - timedelta(days=PEER_ACTIVITY_RAW_DAYS), time.min, UTC)
        for peer_id in peers:
            # Keep the last presence before the cut-off: the day after it starts from that state.
            keep = session.scalars(select(PeerActivity.id).where(
                PeerActivity.peer_id == peer_id, PeerActivity.at < cutoff,
                PeerActivity.kind == ActivityKind.PRESENCE.value)
                .order_by(PeerActivity.at.desc(), PeerActivity.id.desc()).limit(1)).first()
            session.execute(delete(PeerActivity).where(
                PeerActivity.peer_id == peer_id, PeerActivity.at < cutoff,
                PeerActivity.id != (keep or 0)))
    return written
