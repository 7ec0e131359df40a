"""Callback jobs on the urgent queue (ids only): the sweep, one placement, ringing, the caller."""

from __future__ import annotations

from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services.callbacks import placing as callbacks


def place_due_callbacks() -> None:
    """Recurring: expire, repair and start due callbacks."""
    callbacks.place_due_callbacks(process_runtime(), utc_now())


def place_callback(callback_id: int) -> bool:
    return callbacks.place_callback(process_runtime(), callback_id, utc_now())


def ring_peer(offer_id: str, callback_id: int, peer_id: int) -> str | None:
    return callbacks.ring_peer(process_runtime(), offer_id, callback_id, peer_id, utc_now())


def call_caller(attempt_id: str) -> str | None:
    return callbacks.call_caller(process_runtime(), attempt_id, utc_now())
