"""The bridge: the contact's conference, the caller moved into it, and the room's callbacks.

Every bridged call lives in a conference named after the contact. The peer joins it on pressing 1;
the caller's call is moved out of their queue into it by REST. The room's status callbacks (and
the legs' own) end the contact, each of them idempotently: whichever arrives first, in whatever
order and however often, the contact ends once (DESIGN invariant 6).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from warmline.models import Contact
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.voice import mentor, reconnect, shadowing, transfer
from warmline.services.voice.after_call import word_after
from warmline.services.voice.common import end_connected_call, goodbye, load_call
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.voice import twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.prompts import text
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

# The room's events after which the call is over for the caller's peer.
ENDING_EVENTS = frozenset({"participant-leave", "conference-end"})


@dataclass(frozen=True)
class RoomEvent:
    """One conference status callback, parsed."""

    event: str
    conference_sid: str
    call_sid: str
    ended_by: str  # conference-end: the CallSid of the participant whose leaving ended it

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> RoomEvent:
        return cls(form.get("StatusCallbackEvent", ""), form.get("ConferenceSid", ""),
                   form.get("CallSid", ""), form.get("CallSidEndingConference", ""))


def move_caller_into_conference(runtime: Runtime, contact: Contact) -> bool:
    """Take the caller's call out of their queue into the contact's room (Calls update with a
    Url); False when Twilio refused (the caller's call is over, or Twilio is unreachable)."""
    if not contact.provider_sid:
        return False
    url = urls.absolute(runtime.settings.public_url, urls.CONFERENCE_CALLER_JOIN,
                        contact=contact.id)
    try:
        runtime.twilio.redirect_call(contact.provider_sid, url)
    except TelephonyError as exc:
        log.warning("could not move the caller of contact %s into its conference (%s)",
                    contact.id, exc.code)
        return False
    return True


def handle_caller_join(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    """The caller's call, moved out of their queue: into the room while their peer is there."""
    if routing.routing_engine(runtime, now).contact_state(contact_id) == "connected":
        return twiml.caller_joins_conference(contact_id, public_url=runtime.settings.public_url)
    # The peer left before the caller got to the room: the call is over, said kindly.
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    return goodbye(call.language if call else "en")


def handle_caller_done(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    """The caller's `<Dial><Conference>` ended. Requested on a live call only when the room
    ended without the caller leaving it, that is when the peer hung up first."""
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None:
        return goodbye("en")
    end_connected_call(runtime, call.contact, now)
    if form.call_status in ENDED_CALL_STATUSES:
        return twiml.empty()  # the caller hung up too: Twilio only tells, nobody hears
    handed = CallState(runtime.redis).transfer(contact_id)
    if handed is not None and handed.stage == "handed_over":
        return goodbye(call.language)  # the person they were handed to ended it
    return word_after(call, form.from_number)


def handle_transfer_status(runtime: Runtime, contact_id: str, form: CallForm,
                           now: datetime) -> None:
    """The call status of someone brought into the conference (warm transfer, a mentor)."""
    transfer.transferred_leg_status(runtime, contact_id, form.call_sid, form.call_status, now)
    mentor.mentor_leg_status(runtime, contact_id, form.call_sid, form.call_status)


def check_brought_in(runtime: Runtime, contact_id: str, call_sid: str, checks_left: int,
                     now: datetime) -> bool:
    """Someone brought in (transfer.watch_join) still not seen joining: if Twilio has them in
    the room, they joined; if their call is over, it ended; else look again. The same steps as
    their callbacks take, so whichever comes first counts and the other changes nothing.
    True when this settled it."""
    state = CallState(runtime.redis)
    brought_in, mentor_on_call = state.transfer(contact_id), state.mentor(contact_id)
    if not any(found is not None and found.call_sid == call_sid and found.stage == "ringing"
               for found in (brought_in, mentor_on_call)):
        return False  # seen already (or stopped): nothing to look for
    try:
        room = runtime.twilio.live_conference(contact_id)
        inside = room is not None and runtime.twilio.in_conference(room, call_sid)
        status = None if inside else runtime.twilio.call_status(call_sid)
    except TelephonyError as exc:
        log.warning("could not look for the person brought into contact %s (%s)", contact_id,
                    exc.code)
        transfer.watch_join(runtime, contact_id, call_sid, checks_left)
        return False
    if inside:
        transfer.joined(runtime, contact_id, call_sid, now)
        mentor.joined(runtime, contact_id, call_sid, now)
        return True
    if status is None or status in ENDED_CALL_STATUSES:
        ended = status or "failed"
        transfer.transferred_leg_status(runtime, contact_id, call_sid, ended, now)
        mentor.mentor_leg_status(runtime, contact_id, call_sid, ended)
        return True
    transfer.watch_join(runtime, contact_id, call_sid, checks_left)
    return False


# What the whole room may be told (AnnounceUrl's `what`).
ANNOUNCEMENTS = frozenset({"mentor_joined"})


def handle_announcement(runtime: Runtime, contact_id: str, what: str) -> str:
    """The words the room hears, in the caller's language."""
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None or what not in ANNOUNCEMENTS:
        return twiml.empty()
    return twiml.announcement(call.language, text(call.language, what))


def handle_conference_status(runtime: Runtime, contact_id: str, form: Mapping[str, str],
                             now: datetime) -> None:
    """The room's callbacks: the caller leaving, or the room ending, ends the connected contact
    (once); anyone else leaving, joins and starts change nothing."""
    event = RoomEvent.parse(form)
    if event.event == "participant-join":
        transfer.joined(runtime, contact_id, event.call_sid, now)
        mentor.joined(runtime, contact_id, event.call_sid, now)
        shadowing.peer_joined(runtime, contact_id, event.call_sid, now)
    if event.event not in ENDING_EVENTS:
        return
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None:
        return
    contact = call.contact
    # The peer leaving the room is `*` (their keypad) as often as a hang-up: only their call
    # ending says they have gone (`peer_hung_up`, from their leg's status and Dial action).
    if event.event == "participant-leave" and event.call_sid != contact.provider_sid:
        return
    end_connected_call(runtime, contact, now)
    if event.event == "conference-end":
        reconnect.remember_if_caller_left(runtime, contact, event.ended_by,
                                          peer_id=transfer.peer_handed_to(runtime, contact.id))


def peer_hung_up(runtime: Runtime, contact: Contact, now: datetime) -> None:
    """The peer's own call ended (from their leg's status or their Dial action, in any order,
    any number of times). With someone brought in who has joined, that is a hand-over; with
    someone still ringing, the caller waits for them in the room; otherwise the room ends, and
    the caller's Dial action says the word after a call (they are never left in an empty room)."""
    handed = transfer.peer_left_after_bringing_in(runtime, contact, now)
    if not handed:
        end_connected_call(runtime, contact, now)
    coming = CallState(runtime.redis).transfer(contact.id)
    stays = handed or (coming is not None and coming.stage == "ringing")
    try:
        room = runtime.twilio.live_conference(contact.id)
        if room is not None and stays:
            # With the person brought in (or for them: they are the caller's when they join,
            # transfer.joined), and off any hold, since nobody is left to take them off it.
            runtime.twilio.update_participant(room, contact.provider_sid or "", hold=False)
        elif room is not None:
            runtime.twilio.end_conference(room)
    except TelephonyError as exc:
        log.warning("could not settle contact %s's room after the peer left (%s)", contact.id,
                    exc.code)
