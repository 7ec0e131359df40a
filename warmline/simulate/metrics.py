"""The shift's figures, read from what the app itself recorded (contacts and their event log).

Times in SQL are the app's wall clock; multiplied by the speed they are simulated seconds. The
app's own processing time is multiplied too, so waits are an upper bound by a few seconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from warmline.models import Contact, ContactEvent, EventKind, Outcome, Peer
from warmline.runtime import Runtime
from warmline.simulate.agents import Sample

# A caller heard a way out of the wait: a call back, or the partner (backup) line.
FALLBACK_WORDS = ("To be called back", "partner line")


@dataclass
class ExperienceFigures:
    asked: int = 0
    answered: int = 0
    matched: int = 0  # answered by a peer who shares the experience

    @property
    def match_rate(self) -> float | None:
        return self.matched / self.answered if self.answered else None


@dataclass
class PeerLoad:
    name: str
    calls: int = 0
    texts: int = 0
    busy_seconds: float = 0.0

    @property
    def contacts(self) -> int:
        return self.calls + self.texts


@dataclass
class Figures:
    """Everything the report prints about one simulated shift."""

    offered: dict[str, int] = field(default_factory=lambda: {"voice": 0, "sms": 0})
    answered: dict[str, int] = field(default_factory=lambda: {"voice": 0, "sms": 0})
    abandoned: int = 0
    answer_seconds: list[float] = field(default_factory=list)
    callbacks_requested: int = 0
    callbacks_connected: int = 0
    transfers_backup: int = 0
    transfers_crisis: int = 0
    unfinished: int = 0
    callers: int = 0
    callers_offered_fallback: int = 0
    experiences: dict[str, ExperienceFigures] = field(default_factory=dict)
    peers: list[PeerLoad] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0
    job_errors: int = 0

    @property
    def total_offered(self) -> int:
        return sum(self.offered.values())

    @property
    def answer_rate(self) -> float | None:
        return sum(self.answered.values()) / self.total_offered if self.total_offered else None

    def channel_answer_rate(self, channel: str) -> float | None:
        offered = self.offered.get(channel, 0)
        return self.answered.get(channel, 0) / offered if offered else None

    @property
    def abandonment(self) -> float | None:
        offered = self.offered.get("voice", 0)
        return self.abandoned / offered if offered else None

    def answer_percentile(self, p: float) -> float | None:
        return percentile(self.answer_seconds, p)

    @property
    def gini(self) -> float | None:
        return gini([peer.contacts for peer in self.peers])


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by the nearest-rank method (every answer is a real sample)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def gini(values: Sequence[float]) -> float | None:
    """0 when every peer took the same load, towards 1 when one peer took it all."""
    if not values or sum(values) == 0:
        return None if not values else 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * sum(ordered)) - (n + 1) / n


def _seconds(start: datetime, end: datetime, speed: float) -> float:
    return max(0.0, (end - start).total_seconds() * speed)


def collect_figures(runtime: Runtime, line_id: int, speed: float, end: datetime) -> Figures:
    """Figures of every contact on the line, from the contacts table and the event log."""
    figures = Figures()
    with runtime.sessions() as session:
        contacts = list(session.scalars(select(Contact).where(Contact.line_id == line_id)))
        events: dict[str, list[ContactEvent]] = defaultdict(list)
        for event in session.scalars(select(ContactEvent).where(ContactEvent.line_id == line_id)
                                     .order_by(ContactEvent.at, ContactEvent.id)):
            events[event.contact_id].append(event)
        peers = {peer.id: peer for peer in session.scalars(select(Peer).where(Peer.active.is_(True)))}
        shares = {peer_id: {e.key for e in peer.experiences} for peer_id, peer in peers.items()}
        loads = {peer_id: PeerLoad(peer.name) for peer_id, peer in peers.items()}
    for contact in contacts:
        kinds = [e.kind for e in events[contact.id]]
        queued = next((e.at for e in events[contact.id] if e.kind == EventKind.QUEUED.value), None)
        bridged = next((e.at for e in events[contact.id] if e.kind == EventKind.BRIDGED.value), None)
        if EventKind.CALLBACK_REQUESTED.value in kinds:
            figures.callbacks_requested += 1
        outcome = contact.outcome
        if outcome == Outcome.CALLBACK_CONNECTED.value:
            figures.callbacks_connected += 1
        elif outcome == Outcome.TRANSFERRED_BACKUP.value:
            figures.transfers_backup += 1
        elif outcome == Outcome.TRANSFERRED_CRISIS.value:
            figures.transfers_crisis += 1
        elif outcome == Outcome.ABANDONED.value:
            figures.abandoned += 1
        elif outcome is None and EventKind.CALLBACK_REQUESTED.value not in kinds:
            figures.unfinished += 1
        if queued is None:
            continue
        channel = contact.channel
        figures.offered[channel] = figures.offered.get(channel, 0) + 1
        answered_live = bridged is not None and outcome != Outcome.CALLBACK_CONNECTED.value
        if answered_live and bridged is not None:
            figures.answered[channel] = figures.answered.get(channel, 0) + 1
            figures.answer_seconds.append(_seconds(queued, bridged, speed))
        key = contact.experience_key
        if key:
            stats = figures.experiences.setdefault(key, ExperienceFigures())
            stats.asked += 1
            if answered_live:
                stats.answered += 1
                if contact.peer_id is not None and key in shares.get(contact.peer_id, set()):
                    stats.matched += 1
        if contact.peer_id in loads and bridged is not None:
            load = loads[contact.peer_id]
            if channel == "voice":
                load.calls += 1
            else:
                load.texts += 1
            # Both sides aware (UTCDateTime): a contact still open is counted up to `end`.
            finished = contact.ended_at or end
            load.busy_seconds += _seconds(bridged, finished, speed)
    figures.peers = sorted(loads.values(), key=lambda load: load.name)
    return figures
