"""What the soak counts, per fault window and in total, from SQL and the stand-in's record.

A contact belongs to the window in which it arrived (from one fault's start to the next's); a
stand-in observation to the window in which it happened. Every count but the first two must be 0.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import select

from warmline import epoch
from warmline.models import CallbackRequest, Contact, ContactEvent
from warmline.runtime import Runtime
from warmline.standin import Event

COLUMNS: tuple[tuple[str, str], ...] = (
    ("offered", "contacts offered"),
    ("one_outcome", "contacts with exactly one outcome"),
    ("no_outcome", "contacts without an outcome"),
    ("several_outcomes", "contacts with more than one outcome"),
    ("double_bookings", "double bookings (a peer on two contacts, a contact with two peers)"),
    ("held_too_long", "callers held past max_wait_seconds plus the grace"),
    ("off_on_live_call", "peers set off while on a live call"),
    ("callbacks_twice", "callbacks placed twice"),
    ("invalid_twiml", "invalid TwiML"),
    ("server_errors", "5xx answers"),
)
# The counts that must all be 0 (the soak's verdict).
MUST_BE_ZERO = tuple(name for name, _ in COLUMNS if name not in ("offered", "one_outcome"))


@dataclass
class Counts:
    offered: int = 0
    one_outcome: int = 0
    no_outcome: int = 0
    several_outcomes: int = 0
    double_bookings: int = 0
    held_too_long: int = 0
    off_on_live_call: int = 0
    callbacks_twice: int = 0
    invalid_twiml: int = 0
    server_errors: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def failures(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in MUST_BE_ZERO if getattr(self, name)}


@dataclass
class Timeline:
    """Maps moments to fault windows. Offsets are wall seconds after the shift's start."""

    labels: list[str]
    starts: list[float]
    t0_mono: float  # time.monotonic() at the shift's start
    t0_epoch: float  # time.time() at the same moment
    standin_started: float  # time.monotonic() of the stand-in's second 0
    speed: float

    def window(self, offset: float) -> str:
        return self.labels[max(0, bisect.bisect_right(self.starts, offset) - 1)]

    def of_event(self, event: Event) -> float:
        return self.standin_started + event.at / self.speed - self.t0_mono

    def of_datetime(self, moment: datetime) -> float:
        return epoch.seconds(moment) - self.t0_epoch


@dataclass
class Tally:
    by_window: dict[str, Counts] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def counts(self, window: str) -> Counts:
        return self.by_window.setdefault(window, Counts())

    def total(self) -> Counts:
        total = Counts()
        for counts in self.by_window.values():
            total.add(counts)
        return total


def count_contacts(tally: Tally, timeline: Timeline, runtime: Runtime, line_id: int) -> None:
    """Offered, one outcome, none, several: each contact of the line against its outcome events."""
    with runtime.sessions() as session:
        contacts = list(session.execute(
            select(Contact.id, Contact.arrived_at, Contact.outcome, Contact.channel)
            .where(Contact.line_id == line_id)))
        callbacks = {contact_id: f"{status}, {attempts} attempts" for contact_id, status, attempts
                     in session.execute(select(CallbackRequest.contact_id, CallbackRequest.status,
                                               CallbackRequest.attempts))}
        kinds: dict[str, list[str]] = defaultdict(list)
        outcomes: dict[str, int] = defaultdict(int)
        for contact_id, kind, outcome in session.execute(
                select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.outcome)
                .where(ContactEvent.line_id == line_id).order_by(ContactEvent.at, ContactEvent.id)):
            kinds[contact_id].append(kind)
            if outcome is not None:
                outcomes[contact_id] += 1
    for contact_id, arrived_at, outcome, channel in contacts:
        window = timeline.window(timeline.of_datetime(arrived_at))
        counts = tally.counts(window)
        counts.offered += 1
        recorded = outcomes.get(contact_id, 0)
        if recorded == 0 and outcome is None:
            counts.no_outcome += 1
            tally.notes.append(f"no outcome: {channel} contact {contact_id[:8]} ({window}), "
                               f"events: {' '.join(kinds.get(contact_id, [])) or 'none'}"
                               + (f"; call back {callbacks[contact_id]}" if contact_id in callbacks
                                  else ""))
        elif recorded > 1:
            counts.several_outcomes += 1
            tally.notes.append(f"{recorded} outcomes: {channel} contact {contact_id[:8]} "
                               f"({window}), events: {' '.join(kinds.get(contact_id, []))}")
        else:
            counts.one_outcome += 1


@dataclass
class _Stay:
    conference: str
    number: str
    start: float
    end: float


def count_double_bookings(tally: Tally, timeline: Timeline, events: list[Event],
                          peer_numbers: set[str]) -> None:
    """From conference joins and leaves: a peer in two conferences at once, or two peers in one
    conference at once (the soak makes no transfers, so a contact has one peer at a time)."""
    open_stays: dict[str, _Stay] = {}
    stays: list[_Stay] = []
    for event in events:
        if event.kind == "conference_joined" and event.data.get("number") in peer_numbers \
                and event.call_sid:
            open_stays[event.call_sid] = _Stay(str(event.data["conference"]),
                                               str(event.data["number"]), event.at, math.inf)
        elif event.kind == "conference_left" and event.call_sid in open_stays:
            stay = open_stays.pop(event.call_sid)
            stay.end = event.at
            stays.append(stay)
    stays += open_stays.values()
    stays.sort(key=lambda s: s.start)
    for n, stay in enumerate(stays):
        for other in stays[:n]:
            overlapping = other.end > stay.start
            if overlapping and (other.number == stay.number) != (other.conference == stay.conference):
                moment = Event(0, stay.start, "")
                tally.counts(timeline.window(timeline.of_event(moment))).double_bookings += 1
                tally.notes.append(f"double booking: {other.number}/{other.conference} and "
                                   f"{stay.number}/{stay.conference}")


def count_held_too_long(tally: Tally, timeline: Timeline, events: list[Event],
                        limit_seconds: float) -> None:
    """A caller's time in their queue (stand-in seconds, as Twilio's QueueTime) over the limit."""
    for event in events:
        if event.kind == "left_queue" and float(event.data.get("queue_time", 0)) > limit_seconds:
            entered = Event(0, event.at - float(event.data["queue_time"]), "")
            tally.counts(timeline.window(timeline.of_event(entered))).held_too_long += 1
            tally.notes.append(f"held {event.data['queue_time']} s (limit {limit_seconds:g}), then "
                               f"{event.data.get('result')}, call {event.call_sid}")


def count_callbacks_twice(tally: Tally, timeline: Timeline, events: list[Event],
                          caller_numbers: set[str], line_numbers: set[str]) -> None:
    """A caller answered a second call from the line: their call back was placed twice."""
    answered: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.kind == "answered" and event.data.get("number") in caller_numbers \
                and event.data.get("from_") in line_numbers:
            answered[str(event.data["number"])].append(event)
    for calls in answered.values():
        for extra in calls[1:]:
            tally.counts(timeline.window(timeline.of_event(extra))).callbacks_twice += 1
            tally.notes.append("a caller answered a second call back")


def count_answers(tally: Tally, timeline: Timeline, events: list[Event]) -> None:
    """Invalid TwiML (schema failures, answers that are not a <Response>, bad messaging TwiML)
    and 5xx answers to any webhook."""
    for event in events:
        window = tally.counts(timeline.window(timeline.of_event(event)))
        invalid = event.kind in ("schema_failure", "messaging_twiml_failure") or (
            event.kind == "webhook_failed" and event.data.get("code") in (12100, 12300))
        if invalid:
            window.invalid_twiml += 1
            tally.notes.append(f"invalid TwiML at {event.data.get('url')}: "
                               f"{event.data.get('reason') or event.data.get('problem')}")
        if event.kind == "webhook" and int(event.data.get("status") or 0) >= 500:
            window.server_errors += 1
            tally.notes.append(f"{event.data['status']} from {event.data.get('url')}")
