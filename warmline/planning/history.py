"""A line's load as its event log tells it: arrivals per local hour of the week, channel and
experience; how long contacts last; how patient callers are.

Read from the anonymized event log only (no contact rows, no identities): an `arrived` event
gives the hour, `queued` or `bridged` says the contact was offered to peers, `bridged` to the
end (outcome or `ended`) is the talk time, and hang-ups while waiting give the patience.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import ContactEvent, EventKind, Line, Outcome

HOURS_OF_WEEK = 168
DEFAULT_HISTORY_WEEKS = 8
ANY = "any"  # the experience of a contact that asked for the next available peer


@dataclass
class _Contact:
    arrived_at: datetime
    channel: str
    experience: str = ANY
    queued_at: datetime | None = None
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None


@dataclass
class LineHistory:
    """Rates per local hour of the week and what a contact costs a peer, for one line."""

    line_id: int
    since: datetime
    until: datetime
    # (hour of week, channel, experience) -> contacts offered to peers per hour
    rates: dict[tuple[int, str, str], float] = field(default_factory=dict)
    offered: dict[str, int] = field(default_factory=lambda: {"voice": 0, "sms": 0})
    talk_seconds: dict[str, float | None] = field(default_factory=lambda: {"voice": None, "sms": None})
    patience_seconds: float | None = None  # None: nobody hung up while waiting
    hang_ups: int = 0

    @property
    def weeks(self) -> float:
        return (self.until - self.since).total_seconds() / (7 * 86_400)

    def rate(self, hour: int, channel: str) -> float:
        return sum(v for (h, c, _), v in self.rates.items() if h == hour and c == channel)

    def experiences_at(self, hour: int) -> set[str]:
        return {e for (h, _, e), v in self.rates.items() if h == hour and v > 0 and e != ANY}


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


def _hour_occurrences(since: datetime, until: datetime, zone: ZoneInfo) -> list[int]:
    """How many times each local hour of the week happened in [since, until)."""
    counts = [0] * HOURS_OF_WEEK
    at = since.replace(minute=0, second=0, microsecond=0)
    while at < until:
        counts[hour_of_week(at, zone)] += 1
        at += timedelta(hours=1)
    return counts


def _contacts(session: Session, line_id: int, since: datetime, until: datetime) -> dict[str, _Contact]:
    contacts: dict[str, _Contact] = {}
    # Columns, not ORM objects: weeks of a busy line are tens of thousands of events.
    events = session.execute(
        select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.at, ContactEvent.channel,
               ContactEvent.experience_key, ContactEvent.outcome)
        .where(ContactEvent.line_id == line_id, ContactEvent.at >= since,
               ContactEvent.at < until + timedelta(days=1))
        .order_by(ContactEvent.at, ContactEvent.id))
    for contact_id, kind, at, channel, experience, outcome in events:
        if kind == EventKind.ARRIVED.value:
            if at < until:
                # A web chat takes a peer's text capacity (max_texts): planned as a text.
                contacts.setdefault(contact_id, _Contact(at, "sms" if channel == "chat" else channel))
            continue
        contact = contacts.get(contact_id)
        if contact is None:
            continue
        if experience:
            contact.experience = experience
        if kind == EventKind.QUEUED.value and contact.queued_at is None:
            contact.queued_at = at
        elif kind == EventKind.BRIDGED.value and contact.bridged_at is None:
            contact.bridged_at = at
        if outcome and contact.outcome is None:
            contact.outcome = outcome
            contact.ended_at = contact.ended_at or at
        if kind == EventKind.ENDED.value and contact.ended_at is None:
            contact.ended_at = at
    return contacts


def read_history(session: Session, line: Line, now: datetime,
                 weeks: float = DEFAULT_HISTORY_WEEKS) -> LineHistory:
    """The last `weeks` weeks of the line's event log (or all of it, when shorter)."""
    zone = ZoneInfo(line.timezone)
    until = now.replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(weeks=weeks)
    contacts = _contacts(session, line.id, since, until)
    if contacts:
        first = min(c.arrived_at for c in contacts.values())
        since = max(since, first.replace(minute=0, second=0, microsecond=0))
    history = LineHistory(line.id, since, until)
    occurrences = _hour_occurrences(since, until, zone)
    counts: dict[tuple[int, str, str], int] = defaultdict(int)
    talks: dict[str, list[float]] = defaultdict(list)
    exposure = 0.0
    for contact in contacts.values():
        if contact.queued_at is None and contact.bridged_at is None:
            continue  # closed hours, limits, blocks: never offered to a peer
        history.offered[contact.channel] = history.offered.get(contact.channel, 0) + 1
        counts[(hour_of_week(contact.arrived_at, zone), contact.channel, contact.experience)] += 1
        if contact.bridged_at is not None and contact.ended_at is not None \
                and contact.ended_at > contact.bridged_at:
            talks[contact.channel].append((contact.ended_at - contact.bridged_at).total_seconds())
        if contact.channel == "voice":
            # Patience by maximum likelihood for an exponential: hang-ups over the time all
            # callers spent waiting (those answered or still waiting are censored).
            queued = contact.queued_at or contact.arrived_at
            left = contact.bridged_at or contact.ended_at
            if left is not None and left > queued:
                exposure += (left - queued).total_seconds()
            if contact.outcome == Outcome.ABANDONED.value and contact.bridged_at is None:
                history.hang_ups += 1
    history.rates = {key: count / occurrences[key[0]]
                     for key, count in counts.items() if occurrences[key[0]]}
    for channel, values in talks.items():
        history.talk_seconds[channel] = sum(values) / len(values)
    if history.hang_ups and exposure > 0:
        history.patience_seconds = exposure / history.hang_ups
    return history


def ceil_div(needed_slots: int, per_peer: float) -> int:
    return math.ceil(needed_slots / per_peer) if needed_slots else 0
