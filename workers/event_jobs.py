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
    """Insert a webhook's events in the order they happened; returns how many were new. One
    that fails does not hold back the rest: each is tried, then the first failure is raised,
    and the job's retry writes only what is still missing (each insert is idempotent)."""
    runtime = process_runtime()
    written, failure = 0, None
    for event in events:
        try:
            written += store_contact_event(runtime, **event)
        except Exception as exc:  # noqa: BLE001 - raised below, after the others were tried
            failure = failure or exc
    if failure is not None:
        raise failure
    return written


def write_peer_activity(**fact: Any) -> bool:
    """Insert one fact of a peer's working time; a repeat of the same key does nothing."""
    return store_activity(process_runtime(), **fact)
