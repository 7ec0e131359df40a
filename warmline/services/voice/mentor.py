"""A mentor on the call (DESIGN step 9): a peer asks for support without leaving their caller.

The peer presses "Ask a mentor to listen in" on the dashboard. A mentor (roster `mentor: true`,
or an admin) on shift on the call's line and not on a call of their own is texted and rung into
the contact's conference coaching the peer: the peer hears them, the caller does not. When they
join, the whole room is told that a second person is on the line, so the caller is never
listened to unawares. The mentor speaks with the caller only when the peer asks (coaching ends).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select

from warmline.domain.matching import Presence
from warmline.models import Peer, Role
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.peers.dashboard import current_contact_id
from warmline.services.peers.language import peer_language
from warmline.services.schedules import peers_on_shift
from warmline.services.voice.transfer import LiveCall, Refusal, live_call
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.texts import peer_words
from warmline.voice import urls
from warmline.voice.state import CallState, MentorOnCall
from warmline.wording import N_

log = logging.getLogger(__name__)

MENTOR_RING_SECONDS = 30
# A mentor busy with a caller of their own is not asked.
_FREE = frozenset({Presence.AVAILABLE, Presence.BREAK, Presence.WRAP_UP, Presence.OFF, None})


def _choose_mentor(runtime: Runtime, call: LiveCall, peer_id: int, now: datetime) -> Peer | None:
    engine = routing.routing_engine(runtime, now)
    with runtime.sessions() as session:
        on_shift = peers_on_shift(session, call.line, now)
        found = session.scalars(select(Peer).where(
            Peer.id.in_(on_shift), Peer.id != peer_id, Peer.active.is_(True),
            or_(Peer.mentor.is_(True), Peer.role == Role.ADMIN.value)).order_by(Peer.id)).all()
        return next((p for p in found if engine.presence(p.id) in _FREE), None)


def ask_mentor(runtime: Runtime, peer_id: int, now: datetime) -> MentorOnCall | Refusal:
    """Text and ring a mentor into the peer's call, coaching the peer."""
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal):
        return call
    mentor = _choose_mentor(runtime, call, peer_id, now)
    if mentor is None:
        return Refusal(N_("No mentor is free on shift right now. “Need support” reaches an admin."))
    state = CallState(runtime.redis)
    earlier = state.mentor(call.contact.id)
    if earlier is not None and earlier.stage in ("failed", "left"):
        state.end_mentor(call.contact.id)  # asking again after no answer is asking anew
    if not state.start_mentor(call.contact.id, mentor.id):
        return Refusal(N_("A mentor is already on the way or on this call."))
    phone = runtime.keys.decrypt(mentor.phone_encrypted)
    public = runtime.settings.public_url
    with runtime.sessions() as session:
        asking = session.get(Peer, peer_id)
        language = peer_language(session, mentor.id, call.line.default_language)
        name = asking.first_name if asking else peer_words.notice(language, "someone")
    try:
        runtime.twilio.send_message(
            to=phone, from_=call.line.number,
            body=peer_words.notice(language, "mentor_asked", name=name, line=call.line.name),
            status_callback=urls.absolute(public, "/twilio/sms/status"))
    except TelephonyError as exc:  # the ring is what matters; the text is a heads-up
        log.warning("could not text mentor %s (%s)", mentor.id, exc.code)
    try:
        call_sid = runtime.twilio.add_participant(
            call.room, to=phone, from_=call.line.number, label="mentor",
            status_callback=urls.absolute(public, urls.TRANSFER_STATUS, contact=call.contact.id),
            timeout_seconds=MENTOR_RING_SECONDS, end_conference_on_exit=False,
            coach_call_sid=call.contact.offer_call_sid)
    except TelephonyError as exc:
        log.warning("could not ring mentor %s into contact %s (%s)", mentor.id, call.contact.id,
                    exc.code)
        state.end_mentor(call.contact.id)
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    state.update_mentor(call.contact.id, call_sid=call_sid, stage="ringing")
    return MentorOnCall(mentor.id, call_sid, "ringing", speaking=False)


def let_mentor_speak(runtime: Runtime, peer_id: int, now: datetime) -> MentorOnCall | Refusal:
    """The peer asks their mentor into the conversation: the caller hears them from now on."""
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal):
        return call
    state = CallState(runtime.redis)
    mentor = state.mentor(call.contact.id)
    if mentor is None or mentor.stage != "joined":
        return Refusal(N_("Your mentor has not joined the call yet."))
    try:
        runtime.twilio.update_participant(call.room, mentor.call_sid, coaching=False)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    state.update_mentor(call.contact.id, speaking=1)
    return MentorOnCall(mentor.peer_id, mentor.call_sid, mentor.stage, speaking=True)


def joined(runtime: Runtime, contact_id: str, call_sid: str) -> None:
    """The room says the mentor is in it: everyone, the caller too, hears that they are."""
    state = CallState(runtime.redis)
    mentor = state.mentor(contact_id)
    if mentor is None or mentor.call_sid != call_sid or mentor.stage != "ringing":
        return
    state.update_mentor(contact_id, stage="joined")
    try:
        room = runtime.twilio.live_conference(contact_id)
        if room is not None:
            runtime.twilio.announce(room, urls.absolute(
                runtime.settings.public_url, urls.CONFERENCE_ANNOUNCE, contact=contact_id,
                what="mentor_joined"))
    except TelephonyError as exc:
        log.warning("could not tell contact %s's room that a mentor joined (%s)", contact_id,
                    exc.code)


def mentor_leg_status(runtime: Runtime, contact_id: str, call_sid: str, status: str) -> None:
    """The mentor's leg ended: before joining (no answer) or after (they left)."""
    state = CallState(runtime.redis)
    mentor = state.mentor(contact_id)
    if mentor is None or mentor.call_sid != call_sid or status not in ENDED_CALL_STATUSES:
        return
    state.update_mentor(contact_id, stage="failed" if mentor.stage == "ringing" else "left")


def mentor_of(runtime: Runtime, peer_id: int, now: datetime) -> MentorOnCall | None:
    """The mentor asked onto the peer's call, if any (the dashboard shows it)."""
    contact_id = current_contact_id(routing.routing_engine(runtime, now), peer_id)
    return CallState(runtime.redis).mentor(contact_id) if contact_id else None
