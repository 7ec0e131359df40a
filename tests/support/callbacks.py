"""Callbacks end to end: a caller who asks to be called back, and the sweep that places it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.support.live import LINE, LiveWarmline
from warmline.models import CallbackRequest, Contact
from warmline.services.callbacks import placing as callbacks

CALLER = "+12125550142"
ASK_FOR_CALLBACK = {
    "For Substance use recovery": "1",
    "To be called back instead, press 1": "1",
    "To use it, press 1": "1",
    "as soon as a peer is free, press 1": "1",
}
CALLBACK_QUESTION = "Press 1 for the call back you asked for"


def ask_for_callback(live: LiveWarmline, *, message_ok: bool = False) -> int:
    """A caller waits for recovery with nobody available and asks to be called back."""
    press = {**ASK_FOR_CALLBACK, "Press 1 for yes": "1" if message_ok else "2"}
    call = live.standin.caller(CALLER, press=press).dial(LINE)
    call.wait_until_heard("A peer will call you back", timeout=60)
    call.wait_until_ended(timeout=60)
    with live.runtime.sessions() as session:
        return session.scalars(select(CallbackRequest.id)).one()


def request_of(live: LiveWarmline, callback_id: int) -> CallbackRequest:
    with live.runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        assert request is not None
        return request


def contact_outcome(live: LiveWarmline, callback_id: int) -> str | None:
    with live.runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        contact = session.get(Contact, request.contact_id) if request else None
        return contact.outcome if contact else None


def sweep(live: LiveWarmline) -> callbacks.SweepReport:
    return callbacks.place_due_callbacks(live.runtime, datetime.now(UTC))
