"""Slow maintenance jobs (queue `maintenance`): aggregates, retention, erasure."""

from __future__ import annotations

from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services.peers import hours as peer_activity
from warmline.services.upkeep import aggregates, retention


def compute_aggregates() -> int:
    return aggregates.aggregate_pending_days(process_runtime(), utc_now())


def roll_up_peer_hours() -> int:
    return peer_activity.roll_up_days(process_runtime(), utc_now())


def apply_retention() -> None:
    runtime = process_runtime()
    retention.apply_retention(runtime, utc_now(), runtime.twilio.records)


def erase_person(caller_hash: str, encrypted_number: str | None = None) -> None:
    """A texter's or caller's DELETE: takes the keyed hash (and the number only encrypted)."""
    runtime = process_runtime()
    retention.erase_person(
        runtime,
        caller_hash,
        now=utc_now(),
        provider=runtime.twilio.records,
        encrypted_number=encrypted_number,
    )
