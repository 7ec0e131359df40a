"""Voice contacts whose end nobody saw get their outcome after all.

A caller can hang up while the app cannot hear it: Twilio sends the call's final status callback
once, and if the database is down at that moment (or the web process dies mid-request) the
hang-up is lost. A caller who had not reached the queue yet (greeting, menu, sent to the backup
line by the degraded answer) is in no routing state, so the routing sweeper cannot see them
either. This repair looks at SQL: a voice contact still without an outcome a while after it
arrived, whose call Twilio says is over, ends the way a seen hang-up ends (the same code, under
the same lock and one-outcome claim, so a late status callback changes nothing twice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from warmline.models import CallbackRequest, Contact
from warmline.runtime import Runtime
from warmline.services.voice.common import load_call
from warmline.services.voice.wait import abandon

# Far longer than a status callback takes to arrive, even a late one (found by `warmline soak`).
REPAIR_AFTER = timedelta(minutes=1)


def close_unseen_hangups(runtime: Runtime, call_is_live: Callable[[str], bool],
                         now: datetime) -> list[str]:
    """End every stale voice contact whose call is over at Twilio; returns their ids."""
    with runtime.sessions() as session:
        stale = list(session.execute(select(Contact.id, Contact.provider_sid).where(
            Contact.channel == "voice", Contact.outcome.is_(None), Contact.is_callback.is_(False),
            Contact.arrived_at <= now - REPAIR_AFTER,
            # A call back decides its contact's outcome (connected, failed or expired).
            ~exists().where(CallbackRequest.contact_id == Contact.id))))
    closed = []
    for contact_id, call_sid in stale:
        if not call_sid or call_is_live(call_sid):
            continue  # still talking (or Twilio unreachable: asked again next time)
        with runtime.sessions() as session:
            call = load_call(session, contact_id)
        if call is None:
            continue
        abandon(runtime, call, now)
        closed.append(contact_id)
    return closed
