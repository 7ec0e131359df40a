"""Jobs of the anonymized event log (queue `events`)."""

from __future__ import annotations

from typing import Any

from warmline.runtime import process_runtime
from warmline.services.activity_log import store_activity
from warmline.services.events import store_contact_event


def write_contact_event(**event: Any) -> bool:
    """Insert one contact event; a repeat of the same event key does nothing."""
    return store_contact_event(process_runtime(), **event)


def write_contact_events(events: list[dict[str, Any]]) -> int:
    """Insert a webhook's events in the order they happened; returns how many were new."""
    runtime = process_runtime()
    return sum(store_contact_event(runtime, **event) for event in events)


def write_peer_activity(**fact: Any) -> bool:
    """Insert one fact of a peer's working time; a repeat of the same key does nothing."""
    return store_activity(process_runtime(), **fact)
