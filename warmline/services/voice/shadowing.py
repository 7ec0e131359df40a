"""Shadowing sessions (DESIGN step 9): a new peer's calls, during a shift an admin paired them
with a mentor for, ring that mentor in listening only.

The mentor joins as a muted coach of the peer, so nobody hears them; the room is told that a
second person is on the line, as for any mentor (`mentor.joined`). From their dashboard they may
unmute and then coach the peer, heard by the peer alone (`mentor.unmute`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from warmline.models import Contact, Peer, ShadowSession
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.voice import mentor
from warmline.services.voice.transfer import Refusal, live_call
from warmline.voice.state import CallState

log = logging.getLogger(__name__)


def shadowing_mentor(runtime: Runtime, peer_id: int, line_id: int, now: datetime) -> int | None:
    """The mentor paired with the peer for the shift occurrence under way on the line, if any."""
    with runtime.sessions() as session:
        found = session.scalars(
            select(ShadowSession.mentor_id).join(Peer, Peer.id == ShadowSession.mentor_id).where(
                ShadowSession.peer_id == peer_id, ShadowSession.line_id == line_id,
                ShadowSession.starts_at <= now, ShadowSession.ends_at > now,
                Peer.active.is_(True)).order_by(ShadowSession.id)).first()
    return found


def peer_joined(runtime: Runtime, contact_id: str, call_sid: str, now: datetime) -> None:
    """A participant joined the contact's room: if it is the peer, and they are shadowed now,
    ring their mentor in muted (once per call: a rejoining peer finds the mentor claimed)."""
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if contact is None or not call_sid or call_sid != contact.offer_call_sid \
            or contact.offer_peer_id is None or contact.line_id is None:
        return
    peer_id = contact.offer_peer_id
    mentor_id = shadowing_mentor(runtime, peer_id, contact.line_id, now)
    if mentor_id is None:
        return
    if routing.routing_engine(runtime, now).presence(mentor_id) not in mentor.FREE_PRESENCES:
        return  # with a caller of their own: this call goes unshadowed
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal) or call.contact.id != contact_id:
        return
    state = CallState(runtime.redis)
    if not state.start_mentor(contact_id, mentor_id, peer_id, shadow=True):
        return  # a mentor is already asked onto this call, or this one was rung before
    if mentor.ring_mentor(runtime, call, peer_id, mentor_id, shadow=True) is not None:
        log.warning("could not ring shadowing mentor %s into contact %s", mentor_id, contact_id)
        state.update_mentor(contact_id, stage="failed")
