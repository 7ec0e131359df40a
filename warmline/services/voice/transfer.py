"""Warm transfer (DESIGN step 8): the peer brings someone into the call, with the caller's consent.

From the dashboard the peer brings in the line's crisis number or the admin on shift as a
participant of the contact's conference; the caller can be held while the peer briefs them and
brought back; then the peer hands over and leaves, and the caller stays with the new person.

Who ends the room changes as it goes. The peer's leaving the room never ends it by itself (`*`
steps out to their keypad); their call ending does, unless someone brought in has joined (a
hand-over) or is still ringing (services/voice/conference.peer_hung_up). Handing over turns
`endConferenceOnExit` on for the new person: their leaving ends the room, so the caller is never
left alone in it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from warmline.models import Contact, EventKind, Line, Outcome, Peer, Role
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import note_event
from warmline.services.peers.dashboard import current_contact_id
from warmline.services.schedules import peers_on_shift
from warmline.services.voice.common import end_connected_call
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.voice import urls
from warmline.voice.state import CallState, Transfer
from warmline.wording import N_

log = logging.getLogger(__name__)

# How long the person brought in is rung before the peer is told they did not answer.
TRANSFER_RING_SECONDS = 30


class Target(StrEnum):
    CRISIS = "crisis"
    ADMIN = "admin"


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
    """Ring the crisis line or the admin on shift into the peer's call."""
    call = live_call(runtime, peer_id, now)
    if isinstance(call, Refusal):
        return call
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
    return Transfer(target.value, call_sid, "ringing", caller_held=False)


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
    while they rang), they are the caller's now: their leaving ends the room."""
    state = CallState(runtime.redis)
    transfer = state.transfer(contact_id)
    if transfer is None or transfer.call_sid != call_sid or transfer.stage != "ringing":
        return
    if routing.routing_engine(runtime, now).contact_state(contact_id) == "connected":
        state.update_transfer(contact_id, stage="joined")
        return
    state.update_transfer(contact_id, stage="handed_over")
    try:
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
