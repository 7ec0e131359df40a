"""Planning helpers: Erlang C written out as in the textbooks, and a contact's events for history."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from warmline.models import ContactEvent, EventKind


def textbook_service_level(agents: int, calls_per_hour: float, handle_minutes: float,
                           within_seconds: float) -> float:
    """Erlang C written out as in the textbooks (factorials, no recursion): an independent check."""
    load = calls_per_hour * handle_minutes / 60
    if agents <= load:
        return 0.0
    top = load ** agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load ** k / math.factorial(k) for k in range(agents)) + top
    waits = top / bottom
    return 1 - waits * math.exp(-(agents - load) * within_seconds / (handle_minutes * 60))


def textbook_peers(calls_per_hour: float, handle_minutes: float, within: float, share: float) -> int:
    agents = 1
    while textbook_service_level(agents, calls_per_hour, handle_minutes, within) < share:
        agents += 1
    return agents


def history_events(line_id: int, contact: str, arrived: datetime, experience: str | None, *,
            talk_minutes: float | None, wait_seconds: float) -> list[ContactEvent]:
    def event(kind: EventKind, at: datetime, outcome: str | None = None) -> ContactEvent:
        return ContactEvent(event_key=f"{contact}-{kind.value}", contact_id=contact, line_id=line_id,
                            channel="voice", kind=kind.value, experience_key=experience,
                            outcome=outcome, at=at)

    queued = arrived + timedelta(seconds=20)  # after the menu
    events = [event(EventKind.ARRIVED, arrived), event(EventKind.QUEUED, queued)]
    if talk_minutes is None:
        events.append(event(EventKind.ABANDONED, queued + timedelta(seconds=wait_seconds), "abandoned"))
    else:
        bridged = queued + timedelta(seconds=wait_seconds)
        events += [event(EventKind.BRIDGED, bridged),
                   event(EventKind.ENDED, bridged + timedelta(minutes=talk_minutes), "connected")]
    return events
