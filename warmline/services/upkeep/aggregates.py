"""Daily aggregates per line, line-local day and hour, channel and experience, computed from events.

Figures (each counts contacts by their ``arrived`` event's line-local hour; every count but
``offered`` is among the offered contacts, so rates never exceed 1):
    offered     the contact was queued for a peer (a ``queued`` event) or reached one
    answered    it reached a peer: a ``bridged`` event, or outcome connected / callback_connected
    abandoned   outcome ``abandoned`` (the caller left while waiting)
    answer time seconds from arrival to the first ``bridged`` event (samples kept for p50/p90)
    duration    seconds from the first ``bridged`` event to the end (outcome or ``ended`` event)
    callbacks   a ``callback_requested`` event
    transfers   a ``transferred`` event or a transferred_crisis / transferred_backup outcome;
                by where the call went (``transfers_<kind>``, TRANSFER_KINDS), from the last
                ``transferred`` event's ``to`` and ``warm`` (without one, from the outcome):
                the crisis line brought in by the peer (``crisis_warm``) or chosen by the
                caller pressing 9 (``crisis_keypad``), another peer, the admin on shift, or the
                backup line. The kinds add up to the total
    mentored    a ``mentor_joined`` event: a mentor came onto the call (asked for, or shadowing)
    repeat      the caller's keyed hash arrived on the same line in the 30 days before

A day's rows are recomputed from its events as a whole (delete and insert in one transaction),
so re-running gives the same rows. A day is *final* once computed a day after its local end
(callbacks and long conversations have ended by then); events are deleted by retention only from
final days, and a day whose events were deleted is never recomputed (``AggregateDay``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from warmline.models import AggregateDay, ContactEvent, DailyAggregate, EventKind, Line, Outcome
from warmline.runtime import Runtime

REPEAT_WINDOW = timedelta(days=30)
FINAL_AFTER = timedelta(days=1)
# How far back a never-aggregated day is still looked for (a worker down for months).
MAX_CATCH_UP_DAYS = 400

_ANSWERED_OUTCOMES = frozenset({Outcome.CONNECTED.value, Outcome.CALLBACK_CONNECTED.value})
_TRANSFER_OUTCOMES = frozenset({Outcome.TRANSFERRED_CRISIS.value, Outcome.TRANSFERRED_BACKUP.value})
# Where a transferred call went; each is a `transfers_<kind>` column of DailyAggregate.
TRANSFER_KINDS = ("crisis_warm", "crisis_keypad", "peer", "admin", "backup")


def transfer_kind(detail: dict[str, Any] | None, outcome: str | None) -> str | None:
    """A transfer's kind from its event's detail (`to`, `warm`), else from the outcome."""
    to = (detail or {}).get("to")
    if to == "crisis" or (to is None and outcome == Outcome.TRANSFERRED_CRISIS.value):
        # Only a peer brings the crisis line in warm; a cold transfer is the caller's 9.
        return "crisis_warm" if (detail or {}).get("warm") else "crisis_keypad"
    if to in ("peer", "admin", "backup"):
        return str(to)
    if to is None and outcome == Outcome.TRANSFERRED_BACKUP.value:
        return "backup"
    return None


def local_day_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """The instants (UTC) of a local day's first midnight and the next day's."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


@dataclass
class _ContactFacts:
    arrived_at: datetime
    channel: str
    caller_hash: str | None
    experience_key: str = ""
    queued: bool = False
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    callback: bool = False
    transferred: bool = False
    transfer_detail: dict[str, Any] | None = None  # the last `transferred` event's
    mentored: bool = False

    @property
    def answered(self) -> bool:
        return self.bridged_at is not None or self.outcome in _ANSWERED_OUTCOMES

    @property
    def offered(self) -> bool:
        return self.queued or self.answered

    @property
    def transfer_kind(self) -> str | None:
        return transfer_kind(self.transfer_detail, self.outcome) if self.transferred else None


def _facts(arrival: ContactEvent, events: Iterable[ContactEvent]) -> _ContactFacts:
    facts = _ContactFacts(arrival.at, arrival.channel, arrival.caller_hash)
    for event in events:
        if event.experience_key:
            facts.experience_key = event.experience_key
        if event.kind == EventKind.QUEUED.value:
            facts.queued = True
        elif event.kind == EventKind.BRIDGED.value and facts.bridged_at is None:
            facts.bridged_at = event.at
        elif event.kind == EventKind.CALLBACK_REQUESTED.value:
            facts.callback = True
        elif event.kind == EventKind.TRANSFERRED.value:
            facts.transferred = True
            facts.transfer_detail = dict(event.detail or {})
        elif event.kind == EventKind.MENTOR_JOINED.value:
            facts.mentored = True
        if event.outcome and facts.outcome is None:
            facts.outcome = event.outcome
            facts.ended_at = facts.ended_at or event.at
        if event.kind == EventKind.ENDED.value and facts.ended_at is None:
            facts.ended_at = event.at
    if facts.outcome in _TRANSFER_OUTCOMES:
        facts.transferred = True
    return facts


def _is_repeat(facts: _ContactFacts, contact_id: str, earlier: dict[str, list[tuple[datetime, str]]]) -> bool:
    if not facts.caller_hash:
        return False
    since = facts.arrived_at - REPEAT_WINDOW
    return any(
        since <= at < facts.arrived_at and other != contact_id
        for at, other in earlier.get(facts.caller_hash, [])
    )


def recompute_day(session: Session, line: Line, day: date, now: datetime) -> bool:
    """Recompute one line-local day's rows from its events; False if its events were purged."""
    marker = session.get(AggregateDay, (line.id, day))
    if marker is not None and marker.purged_at is not None:
        return False
    zone = ZoneInfo(line.timezone)
    start, end = local_day_bounds(zone, day)
    arrivals = {
        event.contact_id: event
        for event in session.scalars(
            select(ContactEvent)
            .where(
                ContactEvent.line_id == line.id,
                ContactEvent.kind == EventKind.ARRIVED.value,
                ContactEvent.at >= start,
                ContactEvent.at < end,
            )
            .order_by(ContactEvent.at, ContactEvent.id)
        )
    }
    by_contact: dict[str, list[ContactEvent]] = defaultdict(list)
    if arrivals:
        for event in session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id.in_(list(arrivals)))
            .order_by(ContactEvent.at, ContactEvent.id)
        ):
            by_contact[event.contact_id].append(event)
    hashes = {a.caller_hash for a in arrivals.values() if a.caller_hash}
    earlier: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    if hashes:
        for caller_hash, at, contact_id in session.execute(
            select(ContactEvent.caller_hash, ContactEvent.at, ContactEvent.contact_id).where(
                ContactEvent.line_id == line.id,
                ContactEvent.kind == EventKind.ARRIVED.value,
                ContactEvent.caller_hash.in_(hashes),
                ContactEvent.at >= start - REPEAT_WINDOW,
                ContactEvent.at < end,
            )
        ):
            if caller_hash:
                earlier[caller_hash].append((at, contact_id))

    rows: dict[tuple[int, str, str], dict[str, Any]] = {}
    for contact_id, arrival in arrivals.items():
        facts = _facts(arrival, by_contact[contact_id])
        if not facts.offered:
            continue
        key = (facts.arrived_at.astimezone(zone).hour, facts.channel, facts.experience_key)
        row = rows.setdefault(
            key,
            {
                "offered": 0,
                "answered": 0,
                "abandoned": 0,
                "callbacks": 0,
                "transfers": 0,
                **{f"transfers_{kind}": 0 for kind in TRANSFER_KINDS},
                "mentored": 0,
                "repeat_contacts": 0,
                "answer_seconds": [],
                "duration_seconds_total": 0,
            },
        )
        row["offered"] += 1
        row["answered"] += facts.answered
        row["abandoned"] += facts.outcome == Outcome.ABANDONED.value
        row["callbacks"] += facts.callback
        row["transfers"] += facts.transferred
        if facts.transfer_kind is not None:
            row[f"transfers_{facts.transfer_kind}"] += 1
        row["mentored"] += facts.mentored
        row["repeat_contacts"] += _is_repeat(facts, contact_id, earlier)
        if facts.bridged_at is not None:
            row["answer_seconds"].append(round((facts.bridged_at - facts.arrived_at).total_seconds()))
            if facts.ended_at is not None and facts.ended_at > facts.bridged_at:
                row["duration_seconds_total"] += round((facts.ended_at - facts.bridged_at).total_seconds())

    session.execute(
        delete(DailyAggregate).where(DailyAggregate.line_id == line.id, DailyAggregate.day == day)
    )
    for (hour, channel, experience_key), figures in sorted(rows.items()):
        figures["answer_seconds"] = sorted(figures["answer_seconds"])
        session.add(
            DailyAggregate(
                line_id=line.id, day=day, hour=hour, channel=channel, experience_key=experience_key, **figures
            )
        )
    if marker is None:
        session.add(AggregateDay(line_id=line.id, day=day, computed_at=now))
    else:
        marker.computed_at = now
    return True


def is_day_final(marker: AggregateDay | None, zone: ZoneInfo) -> bool:
    if marker is None:
        return False
    if marker.purged_at is not None:
        return True
    return marker.computed_at >= local_day_bounds(zone, marker.day)[1] + FINAL_AFTER


def days_to_aggregate(session: Session, line: Line, now: datetime) -> list[date]:
    """Local days of `line` not final yet, from the first such day with events up to today."""
    zone = ZoneInfo(line.timezone)
    today = now.astimezone(zone).date()
    markers = session.scalars(
        select(AggregateDay).where(
            AggregateDay.line_id == line.id, AggregateDay.day >= today - timedelta(days=MAX_CATCH_UP_DAYS)
        )
    ).all()
    final = {m.day for m in markers if is_day_final(m, zone)}
    floor = today - timedelta(days=MAX_CATCH_UP_DAYS)
    first_event = session.scalar(
        select(func.min(ContactEvent.at)).where(
            ContactEvent.line_id == line.id,
            ContactEvent.kind == EventKind.ARRIVED.value,
            ContactEvent.at >= local_day_bounds(zone, floor)[0],
        )
    )
    if first_event is None:
        return []
    day = max(first_event.astimezone(zone).date(), floor)
    days: list[date] = []
    while day <= today:
        if day not in final:
            days.append(day)
        day += timedelta(days=1)
    return days


def aggregate_pending_days(runtime: Runtime, now: datetime) -> int:
    """Recompute every line's days that are not final yet (the hourly job); returns how many."""
    computed = 0
    with runtime.sessions() as session:
        lines = session.scalars(select(Line).order_by(Line.id)).all()
    for line in lines:
        with runtime.sessions.begin() as session:
            for day in days_to_aggregate(session, line, now):
                computed += recompute_day(session, line, day, now)
    return computed


def aggregate_days(runtime: Runtime, line_id: int, days: Sequence[date], now: datetime) -> int:
    """Recompute the given days of one line (for tests, repairs and reports on demand)."""
    with runtime.sessions.begin() as session:
        line = session.get_one(Line, line_id)
        return sum(recompute_day(session, line, day, now) for day in days)


# --------------------------------------------------------------------------- reading


def percentile(sorted_samples: Sequence[int], pct: float) -> int | None:
    """Nearest-rank percentile of already sorted samples; None when there are none."""
    if not sorted_samples:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_samples)))
    return int(sorted_samples[rank - 1])


@dataclass(frozen=True)
class ReportTotals:
    """A line's figures over a range of local days (see the module's definitions)."""

    line_id: int
    start: date
    end: date
    offered: int
    answered: int
    abandoned: int
    callbacks: int
    transfers: int
    mentored: int
    repeat_contacts: int
    answer_rate: float | None
    abandon_rate: float | None
    repeat_share: float | None
    answer_seconds_p50: int | None
    answer_seconds_p90: int | None
    mean_duration_seconds: float | None
    offered_by_hour: dict[int, int] = field(default_factory=dict)
    offered_by_experience: dict[str, int] = field(default_factory=dict)
    offered_by_channel: dict[str, int] = field(default_factory=dict)
    transfers_by_kind: dict[str, int] = field(default_factory=dict)  # TRANSFER_KINDS, in order


def read_report(
    runtime: Runtime, *, line_id: int, start: date, end: date, channel: str | None = None
) -> ReportTotals:
    """Totals and percentiles of one line over local days `start`..`end` inclusive."""
    query = select(DailyAggregate).where(
        DailyAggregate.line_id == line_id, DailyAggregate.day >= start, DailyAggregate.day <= end
    )
    if channel is not None:
        query = query.where(DailyAggregate.channel == channel)
    with runtime.sessions() as session:
        rows = session.scalars(query).all()
    totals = dict.fromkeys(
        (
            "offered",
            "answered",
            "abandoned",
            "callbacks",
            "transfers",
            *(f"transfers_{kind}" for kind in TRANSFER_KINDS),
            "mentored",
            "repeat_contacts",
            "duration_seconds_total",
        ),
        0,
    )
    samples: list[int] = []
    by_hour: dict[int, int] = defaultdict(int)
    by_experience: dict[str, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    for row in rows:
        for name in totals:
            totals[name] += getattr(row, name)
        samples.extend(int(s) for s in row.answer_seconds)
        by_hour[row.hour] += row.offered
        by_experience[row.experience_key] += row.offered
        by_channel[row.channel] += row.offered
    samples.sort()
    offered, answered = totals["offered"], totals["answered"]
    return ReportTotals(
        line_id=line_id,
        start=start,
        end=end,
        offered=offered,
        answered=answered,
        abandoned=totals["abandoned"],
        callbacks=totals["callbacks"],
        transfers=totals["transfers"],
        mentored=totals["mentored"],
        repeat_contacts=totals["repeat_contacts"],
        answer_rate=answered / offered if offered else None,
        abandon_rate=totals["abandoned"] / offered if offered else None,
        repeat_share=totals["repeat_contacts"] / offered if offered else None,
        answer_seconds_p50=percentile(samples, 50),
        answer_seconds_p90=percentile(samples, 90),
        mean_duration_seconds=totals["duration_seconds_total"] / answered if answered else None,
        offered_by_hour=dict(sorted(by_hour.items())),
        offered_by_experience=dict(sorted(by_experience.items())),
        offered_by_channel=dict(sorted(by_channel.items())),
        transfers_by_kind={kind: totals[f"transfers_{kind}"] for kind in TRANSFER_KINDS},
    )
