"""The peer's side of a call: ring them, the neutral whisper, press 1, the bridge, wrap-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from warmline import jobs
from warmline.catalogs import SOURCE_LANGUAGE
from warmline.models import Contact, EventKind, Line, Peer
from warmline.routing import defaults
from warmline.routing.results import LapseReason, Offer
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import note_event
from warmline.services.peers.language import peer_language
from warmline.services.voice import transfer
from warmline.services.voice.common import PEER_LEG_LAPSES, end_connected_call, experience_label
from warmline.services.voice.conference import move_caller_into_conference, peer_hung_up
from warmline.services.voice.gather import GatherStep
from warmline.telephony.gateway import TelephonyError
from warmline.texts import peer_words
from warmline.voice import questions, twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.gathering import ask
from warmline.voice.prompts import text
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

RING_TIMEOUT_SECONDS = int(defaults.RING_SECONDS)
ACCEPT_DIGIT = "1"


class VoiceOfferDispatcher:
    """Hands a voice offer to the urgent queue: a worker rings the peer's phone by REST."""

    def dispatch(self, runtime: Runtime, offer: Offer, now: datetime) -> None:
        jobs.RING_PEER.enqueue(runtime, offer.offer_id, offer.contact_id, offer.peer_id,
                               offer.line_id, job_id=f"ring-{offer.offer_id}")


def ring_peer(runtime: Runtime, offer_id: str, contact_id: str, peer_id: int, line_id: int,
              *, now: datetime) -> str | None:
    """Ring the peer for one offer, once; returns the peer leg's CallSid (None if not rung)."""
    state = CallState(runtime.redis)
    if not state.claim_ring(offer_id):
        return state.offer_call(offer_id)
    if routing.routing_engine(runtime, now).contact_state(contact_id) != "offered":
        return None  # the caller left, or the offer lapsed, before the job ran
    with runtime.sessions() as session:
        peer, line = session.get(Peer, peer_id), session.get(Line, line_id)
        contact = session.get(Contact, contact_id)
        if peer is None or line is None or contact is None:
            routing.lapse_offer(runtime, offer_id, LapseReason.FAILED, now)
            return None
        phone = runtime.keys.decrypt(peer.phone_encrypted)
        public = runtime.settings.public_url
        state.link_offer(offer_id, contact_id)
        if not _note_ring(runtime, session, contact, offer_id, peer_id, now=now):
            return None  # the offer ended meanwhile
        try:
            call_sid = runtime.twilio.create_call(
                to=phone, from_=line.number,
                url=urls.absolute(public, urls.PEER_ANSWER, offer=offer_id),
                status_callback=urls.absolute(public, urls.PEER_STATUS, offer=offer_id),
                timeout_seconds=RING_TIMEOUT_SECONDS, machine_detection=True,
            )
        except TelephonyError as exc:
            log.warning("could not ring peer %s for offer %s (%s)", peer_id, offer_id, exc.code)
            routing.lapse_offer(runtime, offer_id, LapseReason.FAILED, now)
            return None
        state.set_offer_call(offer_id, call_sid)
        state.set_ringing_call(contact_id, call_sid)
        contact.offer_call_sid = call_sid
        session.commit()
        note_event(runtime, contact, EventKind.OFFERED, now, peer_id=peer_id)
        return call_sid


def _note_ring(runtime: Runtime, session: Session, contact: Contact, offer_id: str,
               peer_id: int, *, now: datetime) -> bool:
    """The ring as a durable fact, ids only, written before the phone rings (the peer leg's
    CallSid follows): a Redis lost while it rings gets the offer back from SQL
    (warmline.services.upkeep.recovery) instead of offering the caller again, so the peer's "1" still
    bridges them. False if the offer is no longer pending."""
    expires = routing.offer_expires_at(runtime, offer_id, now)
    if expires is None:
        return False
    contact.offer_id, contact.offer_peer_id, contact.offer_call_sid = offer_id, peer_id, None
    contact.offer_expires_at = expires
    session.commit()
    return True


def offer_contact(runtime: Runtime, offer_id: str, now: datetime) -> tuple[Contact, Line] | None:
    state = CallState(runtime.redis)
    contact_id = state.contact_of_offer(offer_id)
    if contact_id is None:
        # Unknown, or Redis came back empty while the phone rang: the rebuild brings back the
        # offer of a ring that is still live (warmline.services.upkeep.recovery); then look again.
        routing.routing_engine(runtime, now).ensure_state()
        contact_id = state.contact_of_offer(offer_id)
    if contact_id is None:
        return None
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        line = session.get(Line, contact.line_id) if contact and contact.line_id else None
        return (contact, line) if contact and line else None


def peer_side_language(runtime: Runtime, found: tuple[Contact, Line] | None) -> str:
    """Everything the peer hears is in their own language (the line's when they chose none)."""
    if found is None:
        return SOURCE_LANGUAGE
    contact, line = found
    with runtime.sessions() as session:
        return peer_language(session, contact.offer_peer_id, line.default_language)


def handle_peer_answer(runtime: Runtime, offer_id: str, form: CallForm, now: datetime) -> str:
    found = offer_contact(runtime, offer_id, now)
    language = peer_side_language(runtime, found)
    if form.answered_by_machine:
        # Voicemail: say nothing (a message could reveal the warmline); the offer lapses.
        routing.lapse_offer(runtime, offer_id, LapseReason.NO_ANSWER, now)
        if found:
            note_event(runtime, found[0], EventKind.NO_ANSWER, now, detail={"voicemail": True})
        return twiml.hang_up_with(language)
    return peer_whisper(offer_id, language)


@dataclass(frozen=True)
class OfferCall:
    """A peer's leg at the whisper: the offer, and its caller and line while they exist."""

    offer_id: str
    found: tuple[Contact, Line] | None
    language: str  # the peer's


def _load_offer(runtime: Runtime, query: Mapping[str, str], now: datetime) -> OfferCall:
    offer_id = query.get("offer", "")
    found = offer_contact(runtime, offer_id, now)
    return OfferCall(offer_id, found, peer_side_language(runtime, found))


def _accept(runtime: Runtime, offer: OfferCall, form: CallForm, now: datetime) -> str:
    if offer.found is None:
        return twiml.hang_up_with("en", text("en", "peer_already_helped"))
    contact, line = offer.found
    language = offer.language
    result = routing.accept_offer(runtime, offer.offer_id, now)
    if not result.accepted or result.peer_id is None:
        return twiml.hang_up_with(language, text(language, "peer_already_helped"))
    with runtime.sessions() as session:
        row = session.get(Contact, contact.id)
        if row is not None:
            row.peer_id, row.answered_at = result.peer_id, now
            session.commit()
        label = experience_label(session, contact.experience_key, language)
    if CallState(runtime.redis).transfer_origin(contact.id) is not None:
        return _take_over(runtime, offer, contact, line, form, now=now, peer_id=result.peer_id)
    if not move_caller_into_conference(runtime, contact):
        # The caller's call ended as the peer pressed 1: nobody to bridge. The peer is released
        # kindly and goes to wrap-up; the caller's own status callback finds the contact ended.
        end_connected_call(runtime, contact, now)
        return twiml.hang_up_with(language, text(language, "peer_already_helped"))
    note_event(runtime, contact, EventKind.ACCEPTED, now, peer_id=result.peer_id)
    note_event(runtime, contact, EventKind.BRIDGED, now, peer_id=result.peer_id)
    jobs.REMIND_LONG_CALL.enqueue_at(
        runtime, now.astimezone(UTC) + timedelta(minutes=line.max_call_minutes),
        contact.id, result.peer_id, job_id=f"remind-{contact.id}")
    if CallState(runtime.redis).reconnecting_peer(contact.id) == result.peer_id:
        words = text(language, "peer_reconnecting", line=line.name)
    else:
        words = text(language, "peer_connecting", line=line.name, experience=label)
    return twiml.peer_joins_conference(offer.offer_id, contact.id, language, words,
                                       text(language, "keypad_hint"),
                                       public_url=runtime.settings.public_url)


def _take_over(runtime: Runtime, offer: OfferCall, linked: Contact, line: Line, form: CallForm, *,
               now: datetime, peer_id: int) -> str:
    """A warm transfer's linked offer, accepted: this peer joins the room of the call they take
    over (no caller to move: the caller is there with the first peer)."""
    language = offer.language
    room_contact_id = transfer.accept_linked(runtime, linked, form.call_sid, now)
    if room_contact_id is None:
        # The call ended, or its peer stopped asking, as this peer pressed 1: released kindly.
        end_connected_call(runtime, linked, now)
        return twiml.hang_up_with(language, text(language, "peer_already_helped"))
    note_event(runtime, linked, EventKind.ACCEPTED, now, peer_id=peer_id)
    with runtime.sessions() as session:
        row = session.get(Contact, linked.id)
        if row is not None:
            # This peer's leg is the linked contact's call: after a Redis loss the rebuild asks
            # Twilio about it (busy while it lasts), and the repair ends it once it is over.
            row.provider_sid = form.call_sid
            session.commit()
        label = experience_label(session, linked.experience_key, language)
    words = text(language, "peer_taking_over", line=line.name, experience=label)
    return twiml.peer_takes_over_in_conference(offer.offer_id, room_contact_id, language, words,
                                               public_url=runtime.settings.public_url)


def _decline(runtime: Runtime, offer: OfferCall, sorry: str, now: datetime) -> str:
    """Another key, or nothing: the offer ends and the caller goes on to the next peer."""
    if offer.found is None:
        return twiml.hang_up_with("en", text("en", "peer_already_helped"))
    contact = offer.found[0]
    end = routing.decline_offer(runtime, offer.offer_id, now)
    if end.ended:
        note_event(runtime, contact, EventKind.DECLINED, now, peer_id=end.peer_id)
    return twiml.hang_up_with(offer.language, text(offer.language, "peer_declined"))


def peer_whisper(offer_id: str, language: str, sorry: str | None = None) -> str:
    """Neutral until the peer presses 1: the phone may be answered by voicemail or someone else."""
    spoken = [sorry] if sorry else []
    spoken.append(text(language, "peer_whisper"))
    return ask(questions.PEER_WHISPER, language, spoken, {"offer": offer_id})


PEER_WHISPER_STEP: GatherStep[OfferCall] = GatherStep(
    prompt=questions.PEER_WHISPER, load=_load_offer, language=lambda offer: offer.language,
    accepts=lambda offer, digits: digits == ACCEPT_DIGIT, answer=_accept, move_on=_decline,
    ask_again=lambda runtime, offer, sorry: peer_whisper(offer.offer_id, offer.language, sorry),
    gone=lambda: twiml.hang_up_with("en", text("en", "peer_already_helped")),
)


def handle_peer_status(runtime: Runtime, offer_id: str, form: CallForm, now: datetime) -> None:
    """Status callbacks of the peer's leg: duplicates and stragglers change nothing."""
    state = CallState(runtime.redis)
    if form.sequence_number is not None and not state.is_newer_event(form.call_sid, form.sequence_number):
        return
    found = offer_contact(runtime, offer_id, now)
    reason = PEER_LEG_LAPSES.get(form.call_status)
    if reason is None:
        return
    end = routing.lapse_offer(runtime, offer_id, reason, now)
    if end.ended and found is not None:
        note_event(runtime, found[0], EventKind.NO_ANSWER if reason != LapseReason.DECLINED
                   else EventKind.DECLINED, now, peer_id=end.peer_id,
                   detail={"status": form.call_status})
    if form.call_status == "completed" and found is not None:
        contact = found[0]
        linked = CallState(runtime.redis).transfer_origin(contact.id) is not None
        if not linked and contact.offer_call_sid == form.call_sid and contact.answered_at is not None:
            peer_hung_up(runtime, contact, now)  # their leaving the room by `*` ends nothing
        else:
            end_connected_call(runtime, contact, now)
        transfer.linked_leg_ended(runtime, contact.id, form.call_sid, form.call_status, now)


def remind_long_call(runtime: Runtime, contact_id: str, peer_id: int, now: datetime) -> bool:
    """A gentle text to the peer at the line's max_call_minutes; nobody is cut off."""
    engine = routing.routing_engine(runtime, now)
    if engine.contact_state(contact_id) != "connected":
        return False
    with runtime.sessions() as session:
        contact, peer = session.get(Contact, contact_id), session.get(Peer, peer_id)
        line = session.get(Line, contact.line_id) if contact and contact.line_id else None
        if contact is None or peer is None or line is None:
            return False
        language = peer_language(session, peer_id, line.default_language)
        body = peer_words.notice(language, "long_call", minutes=line.max_call_minutes)
        try:
            runtime.twilio.send_message(
                to=runtime.keys.decrypt(peer.phone_encrypted), from_=line.number, body=body,
                status_callback=urls.absolute(runtime.settings.public_url, "/twilio/sms/status"))
        except TelephonyError:
            return False
    return True
