"""Peers needed beside peers scheduled, for each hour of a week of one line.

Per local hour: the calls and texts the line's history brings at that hour of the week, the
peers Erlang C needs to answer the line's `service_target` (Erlang A when callers' patience is
known from their hang-ups), texts counted by their concurrency (`max_texts` at once), the peers
the roster has on shift, and the experiences asked for at that hour that nobody on shift shares.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.schedule import ShiftRule, find_peers_on_shift, list_hour_coverage
from warmline.models import Line, Peer, Shift
from warmline.planning.history import DEFAULT_HISTORY_WEEKS, LineHistory, ceil_div, hour_of_week, read_history
from warmline.planning.pool import PoolRates, peers_needed, predict
from warmline.services.schedules import line_schedule, shift_rule

# Used only where the history has contacts at some hour but no finished one to time.
FALLBACK_TALK_SECONDS = {"voice": 8 * 60.0, "sms": 10 * 60.0}


@dataclass(frozen=True)
class HourPlan:
    start: datetime  # aware, in the line's zone
    is_open: bool
    calls_per_hour: float
    texts_per_hour: float
    needed: int
    scheduled: int
    uncovered: tuple[str, ...]  # experiences asked for at this hour that nobody on shift shares
    answered_within: float | None  # predicted share of calls answered in time with those scheduled

    @property
    def gap(self) -> int:
        """Scheduled minus needed: negative is a shortfall."""
        return self.scheduled - self.needed


@dataclass(frozen=True)
class LinePlan:
    line_id: int
    name: str
    number: str
    target_seconds: int
    target_share: float
    history: LineHistory
    call_handle_seconds: float
    text_handle_seconds: float
    texts_at_once: float
    hours: list[HourPlan]

    @property
    def short_hours(self) -> list[HourPlan]:
        return [h for h in self.hours if h.is_open and h.gap < 0]


@dataclass(frozen=True)
class _Staff:
    rules: list[ShiftRule]
    experiences: dict[int, frozenset[str]]
    texts_at_once: float


def _staff(session: Session, line: Line, leave_out: Collection[int],
           extra: Sequence[ShiftRule]) -> _Staff:
    shifts = session.scalars(select(Shift).join(Peer, Shift.peer_id == Peer.id)
                             .where(Shift.line_id == line.id, Peer.active.is_(True)))
    rules = [shift_rule(s) for s in shifts if s.id not in leave_out]
    peers = session.scalars(select(Peer).where(Peer.id.in_({r.peer_id for r in (*rules, *extra)})))
    experiences: dict[int, frozenset[str]] = {}
    max_texts: list[int] = []
    for peer in peers:
        experiences[peer.id] = frozenset(e.key for e in peer.experiences if e.active)
        if "sms" in peer.channels:
            max_texts.append(peer.max_texts)
    return _Staff(rules, experiences, statistics.fmean(max_texts) if max_texts else 2.0)


def plan_line(session: Session, line: Line, start: datetime, now: datetime, *,
              weeks: float = DEFAULT_HISTORY_WEEKS, hours: int = 168,
              extra_rules: Sequence[ShiftRule] = (), leave_out: Collection[int] = ()) -> LinePlan:
    """The plan of `hours` local hours from `start`. For a what-if, `extra_rules` are shifts not
    saved yet and `leave_out` the ids of saved shifts they replace (a shift being moved)."""
    history = read_history(session, line, now, weeks)
    staff = _staff(session, line, leave_out, extra_rules)
    rules = [*staff.rules, *extra_rules]
    schedule = line_schedule(line)
    zone = ZoneInfo(line.timezone)
    wrap = float(line.wrap_up_seconds)
    handle = {channel: (history.talk_seconds[channel] or FALLBACK_TALK_SECONDS[channel]) + wrap
              for channel in ("voice", "sms")}
    target, share = line.target_answer_seconds, line.target_share
    patience = history.patience_seconds
    plans = []
    for slot in list_hour_coverage(schedule, rules, start, start + timedelta(hours=hours)):
        how = hour_of_week(slot.start, zone)
        calls, texts = history.rate(how, "voice"), history.rate(how, "sms")
        voice = PoolRates(calls, handle["voice"] / 60, target, share,
                          patience / 60 if patience else None)
        text_slots = peers_needed(PoolRates(texts, handle["sms"] / 60, target, share))
        text_peers = ceil_div(text_slots, staff.texts_at_once)
        needed = peers_needed(voice) + text_peers if slot.is_open else 0
        on = find_peers_on_shift(schedule, rules, slot.start + (slot.end - slot.start) / 2)
        shared = frozenset().union(*(staff.experiences.get(p, frozenset()) for p in on))
        uncovered = tuple(sorted(history.experiences_at(how) - shared)) if slot.is_open else ()
        answering = max(0, slot.min_peers - text_peers)
        plans.append(HourPlan(
            start=slot.local_start, is_open=slot.is_open, calls_per_hour=calls,
            texts_per_hour=texts, needed=needed, scheduled=slot.min_peers, uncovered=uncovered,
            answered_within=predict(voice, answering).answered_within
            if calls > 0 and slot.is_open else None))
    return LinePlan(line.id, line.name, line.number, target, share, history, handle["voice"],
                    handle["sms"], staff.texts_at_once, plans)
