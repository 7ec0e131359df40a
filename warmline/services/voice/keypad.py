"""The peer's keypad during a call (DESIGN step 8), for a peer without a screen.

The peer's leg joins the contact's room with hangupOnStar: `*` takes them out of it and Twilio
requests their Dial action (`handle_peer_dial_done`). The caller stays in the room, on hold with
hold music, and the peer hears the keypad's question: 9 brings in the crisis line (the dashboard's
warm transfer), 5 asks a mentor to join (the dashboard's "join my call"), 0 or silence goes back.
After the choice the caller comes off hold and the peer joins the room again. The same Dial action
hears every other end of the peer's stay in the room: the caller gone, a hand-over, a hang-up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from warmline.models import Contact, Line
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.voice import conference, mentor, peer, transfer
from warmline.services.voice.common import end_connected_call
from warmline.services.voice.gather import GatherStep
from warmline.telephony.gateway import ENDED_CALL_STATUSES, TelephonyError
from warmline.voice import questions, twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.prompts import text
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

CRISIS_DIGIT, MENTOR_DIGIT, BACK_DIGIT = "9", "5", "0"
CHOICES = frozenset({CRISIS_DIGIT, MENTOR_DIGIT, BACK_DIGIT})


@dataclass(frozen=True)
class PeerOnCall:
    """A peer's leg out of the room at their keypad: the offer, its caller and line."""

    offer_id: str
    contact: Contact
    line: Line
    language: str  # the peer's


def _load(runtime: Runtime, query: Mapping[str, str], now: datetime) -> PeerOnCall | None:
    offer_id = query.get("offer", "")
    found = peer.offer_contact(runtime, offer_id, now)
    if found is None:
        return None
    language = peer.peer_side_language(runtime, found)
    return PeerOnCall(offer_id, found[0], found[1], language)


def _room_of_stepped_out_peer(runtime: Runtime, contact: Contact, now: datetime) -> str | None:
    """The room the peer has just stepped out of with `*`, still live with their caller in it;
    None when their Dial ended otherwise (the room ended, they were handed over or taken out)."""
    if routing.routing_engine(runtime, now).contact_state(contact.id) != "connected":
        return None
    handed = CallState(runtime.redis).transfer(contact.id)
    if handed is not None and handed.stage == "handed_over":
        return None
    try:
        return runtime.twilio.live_conference(contact.id)
    except TelephonyError as exc:
        log.warning("could not look at contact %s's room (%s)", contact.id, exc.code)
        return None


def _hold_caller(runtime: Runtime, room: str, contact: Contact, held: bool) -> None:
    """The caller alone in the room hears hold music while their peer is at the keypad. Someone
    brought in who is talking with them, or a hold the peer asked for on the dashboard, stays."""
    handed = CallState(runtime.redis).transfer(contact.id)
    if handed is not None and (handed.caller_held or (held and handed.stage == "joined")):
        return
    try:
        runtime.twilio.update_participant(
            room, contact.provider_sid or "", hold=held,
            hold_url=urls.absolute(runtime.settings.public_url, urls.HOLD_AUDIO) if held else None)
    except TelephonyError as exc:
        log.warning("could not %s the caller of contact %s (%s)", "hold" if held else "unhold",
                    contact.id, exc.code)


def handle_peer_dial_done(runtime: Runtime, offer_id: str, form: CallForm, now: datetime) -> str:
    """The peer's stay in the room ended: `*` (to the keypad), the caller leaving, a hand-over,
    or the peer hanging up (Twilio still tells; nobody hears the answer)."""
    found = peer.offer_contact(runtime, offer_id, now)
    language = peer.peer_side_language(runtime, found)
    if found is not None and form.call_status in ENDED_CALL_STATUSES:
        if found[0].offer_call_sid == form.call_sid:
            conference.peer_hung_up(runtime, found[0], now)
        return twiml.empty()
    if found is not None:
        room = _room_of_stepped_out_peer(runtime, found[0], now)
        if room is not None:
            _hold_caller(runtime, room, found[0], held=True)
            return questions.peer_keypad(offer_id, language)
        end_connected_call(runtime, found[0], now, form.dial_call_duration)
    return twiml.hang_up_with(language, text(language, "peer_call_ended"))


def _back_to_the_caller(runtime: Runtime, call: PeerOnCall, now: datetime, *words: str) -> str:
    """The caller off hold and the peer into the room again, or a goodbye if the call is over."""
    room = _room_of_stepped_out_peer(runtime, call.contact, now)
    if room is None:
        return twiml.hang_up_with(call.language, text(call.language, "peer_call_ended"))
    _hold_caller(runtime, room, call.contact, held=False)
    return twiml.peer_joins_conference(call.offer_id, call.contact.id, call.language, *words,
                                       public_url=runtime.settings.public_url)


def _choose(runtime: Runtime, call: PeerOnCall, form: CallForm, now: datetime) -> str:
    peer_id = call.contact.peer_id or call.contact.offer_peer_id
    words = "keypad_back"
    under_way = CallState(runtime.redis).transfer(call.contact.id)
    if form.digits == CRISIS_DIGIT and under_way is not None and under_way.stage in (
            "ringing", "joined"):
        words = "keypad_someone_coming"
    elif form.digits == CRISIS_DIGIT and peer_id is not None:
        brought = transfer.bring_in(runtime, peer_id, transfer.Target.CRISIS, now)
        words = ("keypad_crisis_refused" if isinstance(brought, transfer.Refusal)
                 else "keypad_crisis_calling")
    elif form.digits == MENTOR_DIGIT and peer_id is not None:
        asked = mentor.ask_mentor(runtime, peer_id, now)
        words = ("keypad_mentor_refused" if isinstance(asked, transfer.Refusal)
                 else "keypad_mentor_calling")
    return _back_to_the_caller(runtime, call, now, text(call.language, words))


def _move_on(runtime: Runtime, call: PeerOnCall, sorry: str, now: datetime) -> str:
    return _back_to_the_caller(runtime, call, now, sorry, text(call.language, "keypad_back"))


KEYPAD_STEP: GatherStep[PeerOnCall] = GatherStep(
    prompt=questions.PEER_KEYPAD, load=_load, language=lambda call: call.language,
    accepts=lambda call, digits: digits in CHOICES, answer=_choose, move_on=_move_on,
    ask_again=lambda runtime, call, sorry: questions.peer_keypad(call.offer_id, call.language,
                                                                 sorry),
    gone=lambda: twiml.hang_up_with("en", text("en", "peer_call_ended")),
)
