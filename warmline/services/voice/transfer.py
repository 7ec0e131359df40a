"""Warm transfer (DESIGN step 8): the peer brings someone into the call, with the caller's consent.

From the dashboard the peer brings in the line's crisis number or the admin on shift as a
participant of the contact's conference; the caller can be held while the peer briefs them and
brought back; then the peer hands over and leaves, and the caller stays with the new person.

Another peer comes through routing, so shift, capacity, language and experience hold: a linked
contact (voice, the same line, the call's experience and language, first in line) is offered like
any call, with the neutral whisper; the peer who presses 1 joins the room of the call they take
over (`accept_linked`), and from there hold, hand over and stop are as for the others. The linked
contact is withdrawn when nobody took it within PEER_SEARCH_SECONDS, when the peer stops, or when
the call ends meanwhile. It never arrives in the event log (no caller came): the call itself
counts the transfer, and the second peer's time is the linked contact's, from 1 to hang-up.

Who ends the room changes as it goes. The peer's leaving the room never ends it by itself (`*`
steps out to their keypad); their call ending does, unless someone brought in has joined (a
hand-over) or is still ringing (services/voice/conference.peer_hung_up). Handing over turns
`endConferenceOnExit` on for the new person: their leaving ends the room, so the caller is never
left alone in it.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select

from warmline import jobs
from warmline.domain.matching import MAX_PRIORITY, Outlook
from warmline.models import Contact, EventKind, Line, Outcome, Peer, Role
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import new_contact_id, note_event
from warmline.services.peers.dashboard import current_contact_id
from warmline.services.schedules import peers_on_shift
from warmline.services.voice.common import end_connected_call, withdraw_peer_search
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.voice import urls
from warmline.voice.state import CallState, Transfer
from warmline.wording import N_

log = logging.getLogger(__name__)

# How long the person brought in is rung before the peer is told they did not answer.
TRANSFER_RING_SECONDS = 30
# How long routing looks for another peer: room for a few rings of about 20 s each (a first
# peer who lets it ring, then the next), short enough that the caller, who agreed to wait for
# someone new, is not kept for long before their peer tells them nobody came and carries on.
PEER_SEARCH_SECONDS = 90
# Twilio sends a status callback once and never again: a participant-join lost (the app was
# restarting) or late would leave the caller untold that a mentor listens, and the peer unable
# to hand over. While someone brought in has not been seen joining, Twilio is asked this often,
# for as many times as cover their ring and a margin (services/voice/conference.check_brought_in).
JOIN_CHECK_SECONDS = 3
JOIN_CHECKS = (TRANSFER_RING_SECONDS + 15) // JOIN_CHECK_SECONDS


class Target(StrEnum):
    CRISIS = "crisis"
    ADMIN = "admin"
    PEER = "peer"


@dataclass(frozen=True)
class Refusal:
    message: str  # marked for translation; the page translates it


@dataclass(frozen=True)
class LiveCall:
    """The peer's call now, with its room: what bringing anyone into it starts from."""

    contact: Contact
    line: Line
    room: str  # the ConferenceSid


def live_call(runtime: Runtime, peer_id: int, now: datetime) -> LiveCall | Refusal:
    contact_id = current_contact_id(routing.routing_engine(runtime, now), peer_id)
    if contact_id is None:
        return Refusal(N_("You're not on a call right now."))
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        line = session.get(Line, contact.line_id) if contact and contact.line_id else None
    if contact is None or line is None or not contact.offer_call_sid:
        return Refusal(N_("This call cannot be transferred; tell an admin."))
    try:
        room = runtime.twilio.live_conference(contact.id)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    if room is None:  # a call back is bridged without a conference
        return Refusal(N_("This call cannot be transferred; tell an admin."))
    return LiveCall(contact, line, room)


def _call_with_transfer(runtime: Runtime, peer_id: int,
                        now: datetime) -> tuple[LiveCall, Transfer] | Refusal:
    """The peer's call and the transfer under way on it (hold, hand over and stop start here)."""
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal):
        return call
    transfer = CallState(runtime.redis).transfer(call.contact.id)
    if transfer is None:
        return Refusal(N_("Nobody is being brought into this call."))
    return call, transfer


def _restore(runtime: Runtime, room: str, contact: Contact, transfer: Transfer) -> None:
    """As before anyone was brought in: the caller off hold. Raises TelephonyError."""
    if transfer.caller_held:
        runtime.twilio.update_participant(room, contact.provider_sid or "", hold=False)


def _number_of(runtime: Runtime, call: LiveCall, target: Target, now: datetime,
               peer_id: int) -> str | None:
    if target is Target.CRISIS:
        return call.line.crisis_number
    with runtime.sessions() as session:
        on_shift = peers_on_shift(session, call.line, now)
        admin = session.scalars(select(Peer).where(
            Peer.id.in_(on_shift), Peer.id != peer_id, Peer.active.is_(True),
            Peer.role == Role.ADMIN.value).order_by(Peer.id)).first()
        return runtime.keys.decrypt(admin.phone_encrypted) if admin else None


def bring_in(runtime: Runtime, peer_id: int, target: Target, now: datetime) -> Transfer | Refusal:
    """Ring the crisis line or the admin on shift into the peer's call; for another peer, ask
    routing for one."""
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal):
        return call
    if target is Target.PEER:
        return _seek_peer(runtime, call, peer_id, now)
    number = _number_of(runtime, call, target, now, peer_id)
    if number is None:
        return Refusal(N_("This line has no crisis number.") if target is Target.CRISIS
                       else N_("No admin is on shift right now."))
    state = CallState(runtime.redis)
    earlier = state.transfer(call.contact.id)
    if earlier is not None and earlier.stage in ("failed", "left"):
        state.end_transfer(call.contact.id)  # trying again after nobody came is a new try
    if not state.start_transfer(call.contact.id, target.value):
        return Refusal(N_("Someone is already being brought into this call."))
    public = runtime.settings.public_url
    try:
        call_sid = runtime.twilio.add_participant(
            call.room, to=number, from_=call.line.number, label=target.value,
            status_callback=urls.absolute(public, urls.TRANSFER_STATUS, contact=call.contact.id),
            timeout_seconds=TRANSFER_RING_SECONDS, end_conference_on_exit=False)
    except TelephonyError as exc:
        log.warning("could not bring %s into contact %s (%s)", target, call.contact.id, exc.code)
        state.end_transfer(call.contact.id)
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    state.update_transfer(call.contact.id, call_sid=call_sid, stage="ringing")
    watch_join(runtime, call.contact.id, call_sid)
    return Transfer(target.value, call_sid, "ringing", caller_held=False)


def watch_join(runtime: Runtime, contact_id: str, call_sid: str,
               checks_left: int = JOIN_CHECKS) -> None:
    """Look for `call_sid` in the contact's room in a moment, whatever its callbacks do."""
    if checks_left > 0:
        jobs.CHECK_BROUGHT_IN.enqueue_in(
            runtime, timedelta(seconds=JOIN_CHECK_SECONDS / runtime.clock_speed),
            contact_id, call_sid, checks_left - 1)


def _someone_else_could(runtime: Runtime, call: LiveCall, peer_id: int, now: datetime) -> bool:
    """Whether any other peer on shift could ever take the call (experience, language, voice):
    without one, say so at once rather than after PEER_SEARCH_SECONDS. Routing decides who."""
    contact = call.contact
    with runtime.sessions() as session:
        on_shift = peers_on_shift(session, call.line, now) - {peer_id}
        peers = session.scalars(select(Peer).where(
            Peer.id.in_(on_shift), Peer.active.is_(True))).all()
        return any(
            "voice" in peer.channels and contact.language in peer.languages
            and (contact.experience_key is None or contact.any_peer
                 or contact.experience_key in {e.key for e in peer.experiences if e.active})
            for peer in peers)


def _seek_peer(runtime: Runtime, call: LiveCall, peer_id: int, now: datetime) -> Transfer | Refusal:
    """A linked contact in routing, offered to another eligible peer like any call."""
    if not _someone_else_could(runtime, call, peer_id, now):
        return Refusal(N_("No other peer who can take this call is on shift right now."))
    state = CallState(runtime.redis)
    earlier = state.transfer(call.contact.id)
    if earlier is not None and earlier.stage in ("failed", "left"):
        state.end_transfer(call.contact.id)
    if not state.start_transfer(call.contact.id, Target.PEER.value):
        return Refusal(N_("Someone is already being brought into this call."))
    contact = call.contact
    linked = Contact(  # nobody's number: a pseudonym of its own, never the caller's
        id=new_contact_id(), line_id=call.line.id, channel="voice",
        caller_hash=runtime.keys.keyed_hash(f"peer-transfer:{contact.id}"),
        experience_key=contact.experience_key, language=contact.language,
        priority=MAX_PRIORITY, any_peer=contact.any_peer, arrived_at=now)
    with runtime.sessions() as session:
        session.add(linked)
        session.commit()
    state.link_transfer(contact.id, linked.id)
    state.update_transfer(contact.id, stage="seeking")
    arrival = routing.contact_arrived(runtime, routing.arriving(
        contact_id=linked.id, line_id=call.line.id, channel="voice",
        experience=contact.experience_key, language=contact.language, priority=MAX_PRIORITY,
        arrived_at=now, accepts_any_peer=contact.any_peer or contact.experience_key is None,
    ), now)
    if arrival.verdict.outlook is Outlook.NO_MATCH:
        withdraw_peer_search(runtime, linked.id, now)
        state.end_transfer(contact.id)
        return Refusal(N_("No other peer who can take this call is on shift right now."))
    jobs.GIVE_UP_PEER_SEARCH.enqueue_at(
        runtime, now + timedelta(seconds=PEER_SEARCH_SECONDS / runtime.clock_speed),
        contact.id, linked.id, job_id=f"peer-search-{linked.id}")
    return Transfer(Target.PEER.value, "", "seeking", caller_held=False, linked=linked.id)


def give_up_peer_search(runtime: Runtime, contact_id: str, linked_id: str, now: datetime) -> bool:
    """Nobody took the linked contact in time (or the call is over): it is withdrawn and the
    peer's dashboard says nobody came (they can try again). True when it was given up here."""
    state = CallState(runtime.redis)
    found = state.transfer(contact_id)
    if found is None or found.linked != linked_id or found.stage != "seeking":
        return False
    if routing.routing_engine(runtime, now).contact_state(linked_id) == "connected":
        return False  # a peer pressed 1 just now: their accept (accept_linked) decides
    withdraw_peer_search(runtime, linked_id, now)
    state.update_transfer(contact_id, stage="failed", held=0)
    if found.caller_held:
        with runtime.sessions() as session:
            contact = session.get(Contact, contact_id)
        room = None
        with suppress(TelephonyError):
            room = runtime.twilio.live_conference(contact_id)
        if contact is not None and room is not None:
            with suppress(TelephonyError):
                runtime.twilio.update_participant(room, contact.provider_sid or "", hold=False)
    return True


def accept_linked(runtime: Runtime, linked: Contact, peer_call_sid: str,
                  now: datetime) -> str | None:
    """The second peer pressed 1 on a linked offer (routing gave it to them): the id of the call
    whose room they join, or None when that call no longer wants them (it ended, or the first
    peer stopped or gave up meanwhile). The first peer may now leave without ending the room."""
    state = CallState(runtime.redis)
    contact_id = state.transfer_origin(linked.id)
    found = state.transfer(contact_id) if contact_id else None
    if (contact_id is None or found is None or found.linked != linked.id
            or found.stage != "seeking"
            or routing.routing_engine(runtime, now).contact_state(contact_id) != "connected"):
        return None
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    try:
        room = runtime.twilio.live_conference(contact_id)
        if room is None:
            return None
        runtime.twilio.update_participant(room, contact.offer_call_sid or "",
                                          end_conference_on_exit=False)
    except TelephonyError as exc:
        log.warning("could not open contact %s's room to a second peer (%s)", contact_id, exc.code)
        return None
    state.update_transfer(contact_id, call_sid=peer_call_sid, stage="ringing")
    watch_join(runtime, contact_id, peer_call_sid)
    return contact_id


def linked_leg_ended(runtime: Runtime, linked_id: str, call_sid: str, status: str,
                     now: datetime) -> None:
    """The second peer's leg ended: as any brought-in leg's end, on the call they joined."""
    contact_id = CallState(runtime.redis).transfer_origin(linked_id)
    if contact_id is not None:
        transferred_leg_status(runtime, contact_id, call_sid, status, now)


def peer_handed_to(runtime: Runtime, contact_id: str) -> int | None:
    """The peer a call was handed over to through routing (None for any other call)."""
    found = CallState(runtime.redis).transfer(contact_id)
    if found is None or found.target != Target.PEER or found.stage != "handed_over":
        return None
    with runtime.sessions() as session:
        linked = session.get(Contact, found.linked) if found.linked else None
        return linked.peer_id if linked else None


def hold_caller(runtime: Runtime, peer_id: int, held: bool, now: datetime) -> Transfer | Refusal:
    """Hold the caller (they hear hold music, nobody hears them) while the peer briefs the
    person brought in, or bring them back."""
    found = _call_with_transfer(runtime, peer_id, now)
    if isinstance(found, Refusal):
        return found
    call, transfer = found
    try:
        runtime.twilio.update_participant(
            call.room, call.contact.provider_sid or "", hold=held,
            hold_url=urls.absolute(runtime.settings.public_url, urls.HOLD_AUDIO) if held else None)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    CallState(runtime.redis).update_transfer(call.contact.id, held=int(held))
    return Transfer(transfer.target, transfer.call_sid, transfer.stage, caller_held=held)


def hand_over(runtime: Runtime, peer_id: int, now: datetime) -> Transfer | Refusal:
    """The peer leaves; the caller stays with the person brought in."""
    found = _call_with_transfer(runtime, peer_id, now)
    if isinstance(found, Refusal) or found[1].stage != "joined":
        return Refusal(N_("Wait until they have joined the call."))
    call, transfer = found
    try:
        if transfer.caller_held:
            runtime.twilio.update_participant(call.room, call.contact.provider_sid or "",
                                              hold=False)
        runtime.twilio.update_participant(call.room, transfer.call_sid,
                                          end_conference_on_exit=True)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    CallState(runtime.redis).update_transfer(call.contact.id, stage="handed_over", held=0)
    _end_as_handed_over(runtime, call.contact, transfer, now)
    try:
        runtime.twilio.remove_participant(call.room, call.contact.offer_call_sid or "")
    except TelephonyError as exc:  # the peer can still hang up: the room stays with the caller
        log.warning("could not take the peer out of contact %s (%s)", call.contact.id, exc.code)
    return Transfer(transfer.target, transfer.call_sid, "handed_over", caller_held=False)


def cancel(runtime: Runtime, peer_id: int, now: datetime) -> Transfer | Refusal:
    """The peer changes their mind (or the caller does): the person brought in leaves."""
    found = _call_with_transfer(runtime, peer_id, now)
    if isinstance(found, Refusal):
        return found
    call, transfer = found
    if transfer.linked and transfer.stage == "seeking":
        withdraw_peer_search(runtime, transfer.linked, now)  # nobody has taken it yet
    try:
        if transfer.call_sid:
            runtime.twilio.end_call(transfer.call_sid)
        _restore(runtime, call.room, call.contact, transfer)
    except TelephonyError:
        return Refusal(N_("Twilio could not be reached. Try again in a moment."))
    CallState(runtime.redis).end_transfer(call.contact.id)
    return Transfer(transfer.target, transfer.call_sid, "cancelled", caller_held=False)


def _end_as_handed_over(runtime: Runtime, contact: Contact, transfer: Transfer,
                        now: datetime) -> None:
    """The contact ends for the peer (who goes to wrap-up); the caller's call goes on without us."""
    # Another peer or the admin: the call stays `connected` (the line answered it).
    outcome = Outcome.TRANSFERRED_CRISIS if transfer.target == Target.CRISIS else Outcome.CONNECTED
    if end_connected_call(runtime, contact, now, outcome=outcome):
        note_event(runtime, contact, EventKind.TRANSFERRED, now,
                   detail={"to": transfer.target, "warm": True})


def transferred_leg_status(runtime: Runtime, contact_id: str, call_sid: str, status: str,
                           now: datetime) -> None:
    """The brought-in leg's call status. A leg that ends while the peer is still on the call
    takes the caller off a hold the peer asked for; one that ends after the peer has gone must not
    leave the caller alone in a room that goes on."""
    state = CallState(runtime.redis)
    transfer = state.transfer(contact_id)
    if transfer is None or transfer.call_sid != call_sid or status not in ENDED_CALL_STATUSES:
        return
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if contact is None or not contact.offer_call_sid:
        return
    try:
        room = runtime.twilio.live_conference(contact_id)
        if room is not None and routing.routing_engine(runtime, now).contact_state(
                contact_id) != "connected":
            _caller_alone(runtime, contact)
        elif room is not None:
            # The caller back first, then the stage the dashboard shows.
            _restore(runtime, room, contact, transfer)
    except TelephonyError as exc:
        log.warning("could not take the caller of contact %s off hold (%s)", contact_id, exc.code)
    if transfer.stage != "handed_over":
        state.update_transfer(contact_id, stage="failed" if transfer.stage == "ringing" else "left",
                              held=0)


def joined(runtime: Runtime, contact_id: str, call_sid: str, now: datetime) -> None:
    """The room says the person brought in is in it. When the peer has left already (hung up
    while they rang), they are the caller's now: their leaving ends the room; when the caller
    has left too, their call is ended (the room they came to is a new, empty one)."""
    state = CallState(runtime.redis)
    connected = routing.routing_engine(runtime, now).contact_state(contact_id) == "connected"
    if not state.advance_transfer(contact_id, call_sid, "ringing",
                                  "joined" if connected else "handed_over") or connected:
        return
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    try:
        if contact is not None and contact.provider_sid and runtime.twilio.call_status(
                contact.provider_sid) in {*ENDED_CALL_STATUSES, None}:
            # The caller left too, as they came in: nobody waits alone in a room.
            runtime.twilio.end_call(call_sid)
            return
        room = runtime.twilio.live_conference(contact_id)
        if room is not None:
            runtime.twilio.update_participant(room, call_sid, end_conference_on_exit=True)
    except TelephonyError as exc:
        log.warning("could not hand contact %s over (%s)", contact_id, exc.code)


def _caller_alone(runtime: Runtime, contact: Contact) -> None:
    """Nobody came and the peer has gone: the caller's call leaves the room for the word after
    a call (never silence in an empty room)."""
    if not contact.provider_sid:
        return
    try:
        runtime.twilio.redirect_call(contact.provider_sid, urls.absolute(
            runtime.settings.public_url, urls.CONFERENCE_CALLER_DONE, contact=contact.id))
    except TelephonyError as exc:
        log.warning("could not take the caller of contact %s out of an empty room (%s)",
                    contact.id, exc.code)


def peer_left_after_bringing_in(runtime: Runtime, contact: Contact, now: datetime) -> bool:
    """The peer left the room (hung up) with someone brought in: that is a hand-over when the
    person has joined (their leaving now ends the room). True when handled here."""
    state = CallState(runtime.redis)
    transfer = state.transfer(contact.id)
    if transfer is None or transfer.stage not in ("joined", "handed_over"):
        return False
    if transfer.stage == "joined":
        state.update_transfer(contact.id, stage="handed_over")
        try:
            room = runtime.twilio.live_conference(contact.id)
            if room is not None:
                runtime.twilio.update_participant(room, transfer.call_sid,
                                                  end_conference_on_exit=True)
        except TelephonyError as exc:
            log.warning("could not hand contact %s over (%s)", contact.id, exc.code)
    _end_as_handed_over(runtime, contact, transfer, now)
    return True


def transfer_of(runtime: Runtime, peer_id: int, now: datetime) -> Transfer | None:
    """The transfer under way on the peer's call (the dashboard shows it)."""
    contact_id = current_contact_id(routing.routing_engine(runtime, now), peer_id)
    return CallState(runtime.redis).transfer(contact_id) if contact_id else None
