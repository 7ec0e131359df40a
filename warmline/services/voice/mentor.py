"""A mentor on the call (DESIGN step 9): a peer asks for support without leaving their caller.

The peer presses "Ask a mentor to listen in" on the dashboard. A mentor (roster `mentor: true`,
or an admin) on shift on the call's line and not on a call of their own is texted and rung into
the contact's conference coaching the peer: the peer hears them, the caller does not. When they
join, the whole room is told that a second person is on the line, so the caller is never
listened to unawares. The mentor speaks with the caller only when the peer asks (coaching ends).

The mentor asked also sees it on their own dashboard (`alert_for`): "Join" rings them in again
if the first ring went unanswered, "Can't now" hangs up their ring and asks the next free mentor.
A shadowing mentor (services/voice/shadowing.py) joins muted and may unmute to coach the peer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from warmline.domain.matching import Presence
from warmline.models import Contact, EventKind, Line, Peer, Role
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import note_event
from warmline.services.peers.dashboard import current_contact_id
from warmline.services.peers.language import peer_language
from warmline.services.schedules import peers_on_shift
from warmline.services.voice.transfer import LiveCall, Refusal, live_call, watch_join
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.texts import peer_words
from warmline.voice import urls
from warmline.voice.state import CallState, MentorOnCall
from warmline.wording import N_

log = logging.getLogger(__name__)

MENTOR_RING_SECONDS = 30
# A mentor busy with a caller of their own is not asked.
FREE_PRESENCES = frozenset({Presence.AVAILABLE, Presence.BREAK, Presence.WRAP_UP, Presence.OFF, None})


@dataclass(frozen=True)
class MentorAlert:
    """What a mentor's dashboard shows of a call they are asked onto or shadow: who asks and on
    which line, never anything about the caller."""

    asker_name: str
    line_name: str
    stage: str
    shadow: bool
    muted: bool
    speaking: bool = False  # the peer let them talk with the caller too


def _choose_mentor(runtime: Runtime, call: LiveCall, peer_id: int, now: datetime,
                   skip: frozenset[int] = frozenset()) -> Peer | None:
    engine = routing.routing_engine(runtime, now)
    with runtime.sessions() as session:
        on_shift = peers_on_shift(session, call.line, now)
        found = session.scalars(select(Peer).where(
            Peer.id.in_(on_shift - skip), Peer.id != peer_id, Peer.active.is_(True),
            or_(Peer.mentor.is_(True), Peer.role == Role.ADMIN.value)).order_by(Peer.id)).all()
        return next((p for p in found if engine.presence(p.id) in FREE_PRESENCES), None)


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
    if not state.start_mentor(call.contact.id, mentor.id, peer_id):
        return Refusal(N_("A mentor is already on the way or on this call."))
    refused = ring_mentor(runtime, call, peer_id, mentor.id)
    if refused is not None:
        state.end_mentor(call.contact.id)
        return refused
    found = state.mentor(call.contact.id)
    return found or MentorOnCall(mentor.id, "", "ringing", speaking=False)


def ring_mentor(runtime: Runtime, call: LiveCall, asker_id: int, mentor_id: int, *,
                shadow: bool = False) -> Refusal | None:
    """Text the mentor and ring them into the room, coaching the asker (muted when shadowing);
    the call's mentor hash then says `ringing` with their leg."""
    state = CallState(runtime.redis)
    public = runtime.settings.public_url
    with runtime.sessions() as session:
        mentor = session.get(Peer, mentor_id)
        asking = session.get(Peer, asker_id)
        if mentor is None:
            return Refusal(N_("No mentor is free on shift right now. “Need support” reaches an admin."))
        phone = runtime.keys.decrypt(mentor.phone_encrypted)
        language = peer_language(session, mentor.id, call.line.default_language)
        name = asking.first_name if asking else peer_words.notice(language, "someone")
    words = "mentor_shadowing" if shadow else "mentor_asked"
    try:
        runtime.twilio.send_message(
            to=phone, from_=call.line.number,
            body=peer_words.notice(language, words, name=name, line=call.line.name),
            status_callback=urls.absolute(public, "/twilio/sms/status"))
    except TelephonyError as exc:  # the ring is what matters; the text is a heads-up
        log.warning("could not text mentor %s (%s)", mentor_id, exc.code)
    try:
        call_sid = runtime.twilio.add_participant(
            call.room, to=phone, from_=call.line.number, label="mentor",
            status_callback=urls.absolute(public, urls.TRANSFER_STATUS, contact=call.contact.id),
            timeout_seconds=MENTOR_RING_SECONDS, end_conference_on_exit=False,
            coach_call_sid=call.contact.offer_call_sid, muted=shadow)
    except TelephonyError as exc:
        log.warning("could not ring mentor %s into contact %s (%s)", mentor_id, call.contact.id,
                    exc.code)
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    state.update_mentor(call.contact.id, call_sid=call_sid, stage="ringing")
    watch_join(runtime, call.contact.id, call_sid)
    return None


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
        # A shadowing mentor still muted is unmuted too: asked to talk, they must be heard.
        runtime.twilio.update_participant(call.room, mentor.call_sid, coaching=False,
                                          muted=False if mentor.muted else None)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    state.update_mentor(call.contact.id, speaking=1, muted=0)
    return MentorOnCall(mentor.peer_id, mentor.call_sid, mentor.stage, speaking=True)


def joined(runtime: Runtime, contact_id: str, call_sid: str, now: datetime) -> None:
    """The room says the mentor is in it: everyone, the caller too, hears that they are."""
    state = CallState(runtime.redis)
    if not state.advance_mentor(contact_id, call_sid, "ringing", "joined"):
        return
    mentor = state.mentor(contact_id)
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if contact is not None:  # anonymous: that a mentor joined, and how; never who
        note_event(runtime, contact, EventKind.MENTOR_JOINED, now,
                   detail={"shadow": bool(mentor and mentor.shadow)})
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


def _offered_to(runtime: Runtime, mentor_peer_id: int,
                now: datetime) -> tuple[str, MentorOnCall] | None:
    """The live call this mentor is asked onto or shadows, with its mentor hash, if it stands."""
    state = CallState(runtime.redis)
    contact_id = state.mentoring(mentor_peer_id)
    if contact_id is None:
        return None
    mentor = state.mentor(contact_id)
    if mentor is None or mentor.peer_id != mentor_peer_id or mentor_peer_id in mentor.declined:
        return None
    if routing.routing_engine(runtime, now).contact_state(contact_id) != "connected":
        return None  # the call ended: nothing to join
    return contact_id, mentor


def alert_for(runtime: Runtime, mentor_peer_id: int, now: datetime) -> MentorAlert | None:
    """What the mentor's dashboard shows: a call asking for them (until they join or it ends),
    or the call they shadow (until it ends)."""
    found = _offered_to(runtime, mentor_peer_id, now)
    if found is None:
        return None
    contact_id, mentor = found
    if mentor.shadow and mentor.stage not in ("ringing", "joined"):
        return None
    if not mentor.shadow and mentor.stage not in ("asking", "ringing", "failed"):
        return None
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        asker = session.get(Peer, mentor.asker) if mentor.asker else None
        line = session.get(Line, contact.line_id) if contact and contact.line_id else None
        language = peer_language(session, mentor_peer_id, line.default_language if line else "en")
        name = asker.first_name if asker else peer_words.notice(language, "someone")
    return MentorAlert(name, line.name if line else "", mentor.stage, mentor.shadow, mentor.muted,
                       mentor.speaking)


def join_from_alert(runtime: Runtime, mentor_peer_id: int, now: datetime) -> str | Refusal:
    """"Join": a ring still ringing is answered from that phone; one that went unanswered is
    rung again. Returns what the dashboard says."""
    found = _offered_to(runtime, mentor_peer_id, now)
    if found is None or found[1].shadow:
        return Refusal(N_("That call no longer needs you. Thank you."))
    contact_id, mentor = found
    if mentor.stage in ("asking", "ringing"):
        return N_("Your phone is ringing: answer it to join the call.")
    if mentor.stage != "failed":
        return Refusal(N_("That call no longer needs you. Thank you."))
    call = live_call(runtime, mentor.asker, now)
    if isinstance(call, Refusal) or call.contact.id != contact_id:
        return Refusal(N_("That call no longer needs you. Thank you."))
    state = CallState(runtime.redis)
    state.update_mentor(contact_id, stage="asking", call_sid="")
    refused = ring_mentor(runtime, call, mentor.asker, mentor_peer_id)
    if refused is not None:
        state.update_mentor(contact_id, stage="failed")
        return refused
    return N_("We're ringing you now: answer to join the call.")


def decline(runtime: Runtime, mentor_peer_id: int, now: datetime) -> str | Refusal:
    """"Can't now": the mentor's ring stops and the next free mentor on shift is asked."""
    found = _offered_to(runtime, mentor_peer_id, now)
    if found is None or found[1].shadow or found[1].stage not in ("asking", "ringing", "failed"):
        return Refusal(N_("That call no longer needs you. Thank you."))
    contact_id, mentor = found
    state = CallState(runtime.redis)
    declined = mentor.declined | {mentor_peer_id}
    state.forget_mentoring(mentor_peer_id)
    # The leg is forgotten before it is hung up, so its own ending changes nothing here.
    state.update_mentor(contact_id, call_sid="", stage="asking",
                        declined=",".join(str(p) for p in sorted(declined)))
    if mentor.call_sid:
        try:
            runtime.twilio.end_call(mentor.call_sid)
        except TelephonyError as exc:
            log.warning("could not stop mentor %s's ring (%s)", mentor_peer_id, exc.code)
    call = live_call(runtime, mentor.asker, now)
    if isinstance(call, Refusal) or call.contact.id != contact_id:
        state.update_mentor(contact_id, stage="failed")
        return N_("Thank you. Nobody else is needed on that call now.")
    following = _choose_mentor(runtime, call, mentor.asker, now, skip=frozenset(declined))
    if following is None:
        state.update_mentor(contact_id, stage="failed")
        return N_("Thank you. No other mentor is free; the peer can ask for support another way.")
    state.update_mentor(contact_id, peer=following.id)
    state.point_mentor_at(following.id, contact_id)
    if ring_mentor(runtime, call, mentor.asker, following.id) is not None:
        state.update_mentor(contact_id, stage="failed")
    return N_("Thank you. We're asking another mentor.")


def unmute(runtime: Runtime, mentor_peer_id: int, now: datetime) -> str | Refusal:
    """A shadowing mentor speaks up: heard by the peer they coach, still not by the caller."""
    found = _offered_to(runtime, mentor_peer_id, now)
    if found is None or not found[1].shadow or found[1].stage != "joined":
        return Refusal(N_("You're not listening in on a call right now."))
    contact_id, mentor = found
    try:
        room = runtime.twilio.live_conference(contact_id)
        if room is None:
            return Refusal(N_("You're not listening in on a call right now."))
        runtime.twilio.update_participant(room, mentor.call_sid, muted=False)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    CallState(runtime.redis).update_mentor(contact_id, muted=0)
    return N_("The peer hears you now; the caller does not.")
