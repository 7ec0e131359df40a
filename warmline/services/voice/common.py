"""Pieces every step of a call shares: loading the contact, identity, transfers, the backup route."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.config_cache import config_of
from warmline.crypto import DataKeys
from warmline.domain.phone import InvalidPhoneNumberError, is_withheld, to_e164
from warmline.models import Contact, EventKind, Experience, Line, Outcome
from warmline.routing.results import LapseReason
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact, note_event
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.voice.backup_route import BackupRoute, backup_routes
from warmline.telephony.gateway import TelephonyError
from warmline.voice import twiml
from warmline.voice.prompts import text
from warmline.voice.state import CallState

RINGING_STATUSES = frozenset({"queued", "initiated", "ringing"})
# A peer's leg (live call or callback) that ended before the 1: Twilio's status -> the lapse.
PEER_LEG_LAPSES = {
    "no-answer": LapseReason.NO_ANSWER,
    "busy": LapseReason.BUSY,
    "failed": LapseReason.FAILED,
    "canceled": LapseReason.NO_ANSWER,
    "completed": LapseReason.NO_ANSWER,  # answered, but hung up before pressing 1
}
# Keeps per-call pseudonyms of withheld callers apart from hashes of real numbers.
_WITHHELD_PURPOSE = "withheld:"


@dataclass
class CallContext:
    """A contact and its line, loaded for one webhook."""

    contact: Contact
    line: Line

    @property
    def language(self) -> str:
        return self.contact.language or self.line.default_language


def caller_identity(keys: DataKeys, from_number: str, provider_sid: str) -> str:
    """The keyed hash of the caller's number (E.164 when it parses, otherwise as sent).

    A withheld number is nobody in particular: one shared pseudonym would put every withheld
    caller under one daily limit and one abuse block. Each call (or message, `provider_sid`) of a
    withheld caller is its own identity instead, stable across Twilio's retries of that call.
    """
    if is_withheld(from_number):
        return keys.keyed_hash(_WITHHELD_PURPOSE + (provider_sid or uuid.uuid4().hex))
    try:
        normalized = to_e164(from_number)
    except InvalidPhoneNumberError:
        normalized = from_number.strip().lower()
    return keys.keyed_hash(normalized)


def is_withheld_identity(keys: DataKeys, caller_hash: str, provider_sid: str | None) -> bool:
    """True for the per-call pseudonym of a withheld caller (see caller_identity)."""
    return bool(provider_sid) and caller_hash == keys.keyed_hash(
        _WITHHELD_PURPOSE + (provider_sid or ""))


def load_call(session: Session, contact_id: str) -> CallContext | None:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.line_id is None:
        return None
    line = line_by_id(session, contact.line_id)
    if line is None:
        return None
    backup_routes.remember(line)
    return CallContext(contact, line)


def load_contact_call(runtime: Runtime, query: Mapping[str, str], now: datetime) -> CallContext | None:
    """The call a `?contact=ID` webhook is about (None when the contact or line is gone)."""
    with runtime.sessions() as session:
        return load_call(session, query.get("contact", ""))


def line_by_id(session: Session, line_id: int) -> Line | None:
    """The line, from the process's snapshot (config_cache: read it, never change it)."""
    config = config_of(session)
    return config.lines_by_id.get(line_id) if config else session.get(Line, line_id)


def active_line_by_number(session: Session, number: str) -> Line | None:
    config = config_of(session)
    if config is not None:
        return config.active_lines_by_number.get(number)
    return session.scalars(select(Line).where(Line.number == number, Line.active.is_(True))).first()


def active_experiences(session: Session) -> list[Experience]:
    config = config_of(session)
    if config is not None:
        return config.active_experiences
    return list(session.scalars(
        select(Experience).where(Experience.active.is_(True)).order_by(Experience.digit)))


def experience_label(session: Session, key: str | None, language: str) -> str:
    if key is None:
        return text(language, "peer_anyone")
    config = config_of(session)
    experience = (config.experience(key) if config is not None else
                  session.scalars(select(Experience).where(Experience.key == key)).first())
    return experience.label_for(language) if experience else key


def goodbye(language: str) -> str:
    return twiml.hang_up_with(language, text(language, "goodbye"))


def cancel_ringing_peer(runtime: Runtime, contact_id: str) -> None:
    """Stop a peer's phone that is still ringing for this contact; a peer already listening to
    the whisper is left to press 1 and be told the caller has been helped."""
    call_sid = CallState(runtime.redis).ringing_call(contact_id)
    if call_sid is None:
        return
    gateway = runtime.twilio
    try:
        if gateway.call_status(call_sid) in RINGING_STATUSES:
            gateway.end_call(call_sid)
    except TelephonyError:
        pass  # the offer lapses by itself when the ring times out


def leave_routing(runtime: Runtime, contact_id: str, now: datetime) -> None:
    """The caller is leaving the queue (transfer, callback, hang-up): no peer may be offered them."""
    end = routing.withdraw_contact(runtime, contact_id, now)
    if end.previous_state == "offered":
        cancel_ringing_peer(runtime, contact_id)


def transfer(runtime: Runtime, call: CallContext, now: datetime, *, crisis: bool,
             before: Sequence[str] = ()) -> str:
    """A consent-based transfer to the crisis line (press 9) or the backup line; `before` is said
    first (why the call is moving on)."""
    leave_routing(runtime, call.contact.id, now)
    number = call.line.crisis_number if crisis else call.line.backup_number
    language = call.language
    if number is None:
        # Nobody to transfer to: say where help is, and count it as the caller leaving.
        finish_contact(runtime, call.contact, Outcome.ABANDONED, now)
        return twiml.hang_up_with(language, *before, text(language, "no_crisis_number"))
    outcome = Outcome.TRANSFERRED_CRISIS if crisis else Outcome.TRANSFERRED_BACKUP
    if finish_contact(runtime, call.contact, outcome, now):
        note_event(runtime, call.contact, EventKind.TRANSFERRED, now,
                   detail={"to": "crisis" if crisis else "backup"})
    words = " ".join([*before, text(language, "transfer_crisis" if crisis else "transfer_backup")])
    return twiml.dial_out(language, words, number, caller_id=call.line.number)


def end_connected_call(runtime: Runtime, contact: Contact, now: datetime,
                       duration_seconds: int | None = None, *,
                       outcome: Outcome = Outcome.CONNECTED) -> bool:
    """A bridged call ended (whichever leg reported it first): outcome `connected` (or the
    outcome of a warm transfer's hand-over), then wrap-up."""
    with CallState(runtime.redis).ending_lock(contact.id):
        return end_connected_call_locked(runtime, contact, now, duration_seconds,
                                         outcome=outcome)


def end_connected_call_locked(runtime: Runtime, contact: Contact, now: datetime,
                              duration_seconds: int | None = None, *,
                              outcome: Outcome = Outcome.CONNECTED) -> bool:
    """As end_connected_call, for a caller already holding the contact's ending lock."""
    if routing.routing_engine(runtime, now).contact_state(contact.id) != "connected":
        return False
    end = routing.complete_contact(runtime, contact.id, now)
    if end.status != "ended":
        return False
    if duration_seconds is None and contact.answered_at is not None:
        duration_seconds = int((now - contact.answered_at).total_seconds())
    finish_contact(runtime, contact, outcome, now, peer_id=end.peer_id,
                   detail={"duration_seconds": max(duration_seconds or 0, 0)})
    _stop_peer_search(runtime, contact.id, now)
    return True


def _stop_peer_search(runtime: Runtime, contact_id: str, now: datetime) -> None:
    """A call that ends while routing looks for another peer to take it over: nobody is
    offered it any more (a peer already ringing is stopped)."""
    found = CallState(runtime.redis).transfer(contact_id)
    if found is not None and found.linked and found.stage == "seeking":
        withdraw_peer_search(runtime, found.linked, now)


def withdraw_peer_search(runtime: Runtime, linked_id: str, now: datetime) -> None:
    """The linked contact of a warm transfer to another peer is withdrawn before anyone took it
    (it ends `abandoned`, once; it never arrived, so no report counts it)."""
    if routing.routing_engine(runtime, now).contact_state(linked_id) not in ("waiting", "offered"):
        return  # taken meanwhile (its peer's leg ends it) or withdrawn already
    end = routing.withdraw_contact(runtime, linked_id, now)
    if end.previous_state == "offered":
        cancel_ringing_peer(runtime, linked_id)
    if end.status != "ended":
        return
    with runtime.sessions() as session:
        linked = session.get(Contact, linked_id)
    if linked is not None:
        finish_contact(runtime, linked, Outcome.ABANDONED, now)


def degraded_answer(route: BackupRoute | None) -> str:
    """What a caller hears when Redis, the database or the app itself fails: never silence."""
    language = route.language if route else "en"
    if route is not None and route.backup_number:
        return twiml.dial_out(
            language, f"{text(language, 'degraded')} {text(language, 'degraded_backup')}",
            route.backup_number, caller_id=route.line_number)
    return twiml.hang_up_with(language, text(language, "degraded"),
                              text(language, "degraded_no_backup"))


def back_to_queue(runtime: Runtime, call: CallContext, now: datetime, spoken: list[str],
                  waited: int) -> str:
    """The caller returns to their queue in the place they had: routing orders by arrival, and
    the arrival time is the contact's own; their earlier wait still counts towards the deadline."""
    contact = call.contact
    CallState(runtime.redis).add_waited(contact.id, waited)
    refresh_line_routing(runtime, call.line.id, now)
    routing.contact_arrived(runtime, routing.arriving(
        contact_id=contact.id, line_id=call.line.id, channel="voice",
        experience=contact.experience_key, language=call.language, priority=contact.priority,
        arrived_at=contact.arrived_at,
        accepts_any_peer=contact.any_peer or contact.experience_key is None,
    ), now)
    return twiml.enqueue(contact.id, call.language, spoken)
