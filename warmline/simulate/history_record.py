"""Writes a virtual run's contacts into a development database's event log, as if the line had
lived them: so the staffing planner (`plan`) can be tried on a fresh install.

Only the anonymized event log is written (no contact rows, no numbers, no peers), under keys
that name the run, so a second run adds to the first and never collides with it. Refused in
production: these contacts never happened.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from warmline.models import ContactEvent, EventKind, Line, Outcome
from warmline.runtime import Runtime
from warmline.simulate.virtual import VirtualContact

# What each way out of a virtual contact is in the event log: (kind, outcome).
_ENDINGS = {
    "connected": (EventKind.ENDED, Outcome.CONNECTED),
    "abandoned": (EventKind.ABANDONED, Outcome.ABANDONED),
    "transferred_backup": (EventKind.TRANSFERRED, Outcome.TRANSFERRED_BACKUP),
}


def _events(run: str, line_id: int, start: datetime, contact: VirtualContact) -> list[ContactEvent]:
    contact_id = f"sim-{run}-{contact.contact_id}"[:36]

    def event(kind: EventKind, offset: float, outcome: Outcome | None = None) -> ContactEvent:
        return ContactEvent(event_key=f"{contact_id}-{kind.value}", contact_id=contact_id,
                            line_id=line_id, channel=contact.arrival.channel, kind=kind.value,
                            experience_key=contact.arrival.experience,
                            outcome=outcome.value if outcome else None,
                            at=start + timedelta(seconds=offset))

    events = [event(EventKind.ARRIVED, contact.queued_at), event(EventKind.QUEUED, contact.queued_at)]
    if contact.answered_at is not None:
        events.append(event(EventKind.BRIDGED, contact.answered_at))
    if contact.outcome == "callback_requested" and contact.left_at is not None:
        events.append(event(EventKind.CALLBACK_REQUESTED, contact.left_at))
    elif contact.outcome in _ENDINGS and contact.left_at is not None:
        kind, outcome = _ENDINGS[contact.outcome]
        events.append(event(kind, contact.left_at, outcome))
    return events


def record_history(runtime: Runtime, line_number: str, start: datetime,
                   contacts: list[VirtualContact]) -> int:
    """Adds the run's live contacts (call backs are part of their caller's) to the line's event
    log; returns how many contacts were written."""
    if runtime.settings.env == "production":
        raise SystemExit("simulate: --record-history writes contacts that never happened; "
                         "refused with WARMLINE_ENV=production")
    run = uuid.uuid4().hex[:8]
    written = 0
    with runtime.sessions.begin() as session:
        line_id = session.scalars(select(Line.id).where(Line.number == line_number)).one_or_none()
        if line_id is None:
            raise SystemExit(f"simulate: the database has no line {line_number}: import the roster first")
        for contact in contacts:
            if contact.callback:
                continue
            session.add_all(_events(run, line_id, start, contact))
            written += 1
    return written
