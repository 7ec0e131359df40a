"""A call arrives: which line, may we take it (blocks, limits, hours), then language and menu."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import Contact, EventKind, Line, Outcome
from warmline.routing.engine import ArrivingContact
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.backup_route import backup_routes
from warmline.services.contacts import (
    finish_contact,
    is_blocked,
    is_over_daily_limit,
    new_contact_id,
    note_event,
    open_contact,
)
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import is_open, next_opening
from warmline.services.voice_common import (
    CallContext,
    active_experiences,
    caller_identity,
    experience_label,
    goodbye,
    load_call,
    transfer,
)
from warmline.voice import twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.prompts import text
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

CRISIS_DIGIT = "9"
ANYONE_DIGIT = "0"
CALLBACK_DIGIT = "1"
MENU_TRIES = 2
# How long a duplicate of a call's first request waits for that request to store the contact.
_RACE_WAIT_SECONDS = 5.0


def _spoken_time(at: datetime, line: Line, now: datetime) -> str:
    local = at.astimezone(ZoneInfo(line.timezone))
    clock = local.strftime("%I:%M %p").lstrip("0")
    today = now.astimezone(ZoneInfo(line.timezone)).date()
    if local.date() == today:
        return f"today at {clock}"
    if (local.date() - today).days == 1:
        return f"tomorrow at {clock}"
    return f"on {local.strftime('%A')} at {clock}"


def handle_incoming_call(runtime: Runtime, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    caller_hash = caller_identity(runtime.keys, form.from_number, form.call_sid)
    with runtime.sessions() as session:
        line = session.scalars(
            select(Line).where(Line.number == form.to_number, Line.active.is_(True))).first()
        contact, replayed = _contact_of_call(runtime, session, form, line=line,
                                             caller_hash=caller_hash, now=now)
        if line is None:
            # A misconfiguration, not a caller's fault: `twilio configure` points a number here.
            log.warning("a call reached a number that is no active line; run `twilio configure`")
            finish_contact(runtime, contact, Outcome.UNKNOWN_LINE, now)
            return twiml.hang_up_with("en", text("en", "unknown_line"))
        backup_routes.remember(line)
        language = line.default_language
        if is_blocked(session, caller_hash, line.id, now):
            finish_contact(runtime, contact, Outcome.BLOCKED, now)
            return twiml.hang_up_with(language, text(language, "blocked"))
        if is_over_daily_limit(session, line, caller_hash, now):
            finish_contact(runtime, contact, Outcome.OVER_LIMIT, now)
            return twiml.hang_up_with(language, text(language, "over_limit"))
        if replayed and state.outcome(contact.id) is not None:
            return goodbye(contact.language or language)  # this call has ended already
        if not is_open(line, now):
            return _closed(runtime, CallContext(contact, line), now)
        if len(line.languages) > 1:
            return twiml.language_menu(line.languages, contact.id)
        return _menu(session, CallContext(contact, line), preface=None)


def _contact_of_call(
    runtime: Runtime, session: Session, form: CallForm, *, line: Line | None, caller_hash: str,
    now: datetime,
) -> tuple[Contact, bool]:
    """The call's one contact: opened by the first request of a CallSid; Twilio's retries and
    replays of the same request find it again (webhooks are idempotent). True when found."""
    if not form.call_sid:
        return _open_call_contact(runtime, session, form, line=line, caller_hash=caller_hash,
                                  now=now, contact_id=None), False
    state = CallState(runtime.redis)
    claimed = new_contact_id()
    earlier = state.claim_call(form.call_sid, claimed)
    if earlier is None:
        # Redis may have come back empty since the first request: SQL remembers the call too.
        earlier = session.scalars(select(Contact.id).where(
            Contact.provider_sid == form.call_sid, Contact.channel == "voice")).first()
        if earlier is None:
            return _open_call_contact(runtime, session, form, line=line, caller_hash=caller_hash,
                                      now=now, contact_id=claimed), False
        state.link_call(form.call_sid, earlier)
    return _wait_for_contact(session, earlier), True


def _open_call_contact(
    runtime: Runtime, session: Session, form: CallForm, *, line: Line | None, caller_hash: str,
    now: datetime, contact_id: str | None,
) -> Contact:
    contact = open_contact(runtime, session, line=line, channel="voice", caller_hash=caller_hash,
                           provider_sid=form.call_sid or None, now=now,
                           language=line.default_language if line else "en",
                           contact_id=contact_id)
    session.commit()
    return contact


def _wait_for_contact(session: Session, contact_id: str) -> Contact:
    """A request racing the first one of its call waits for that one's commit (milliseconds)."""
    deadline = time.monotonic() + _RACE_WAIT_SECONDS
    while True:
        contact = session.get(Contact, contact_id)
        if contact is not None:
            return contact
        if time.monotonic() > deadline:
            raise LookupError("the first request of this call never stored its contact")
        session.rollback()  # a fresh snapshot for the next look
        time.sleep(0.05)


def _closed(runtime: Runtime, call: CallContext, now: datetime) -> str:
    language, line = call.language, call.line
    spoken = [text(language, "closed", line=line.name)]
    opening = next_opening(line, now)
    if opening is not None:
        spoken.append(text(language, "closed_next", when=_spoken_time(opening, line, now)))
    spoken.append(text(language, "closed_resources"))
    CallState(runtime.redis).set_outcome_on_hangup(call.contact.id, Outcome.CLOSED_HOURS.value)
    if not line.callbacks:
        finish_contact(runtime, call.contact, Outcome.CLOSED_HOURS, now)
        return twiml.hang_up_with(language, *spoken, text(language, "goodbye"))
    spoken.append(text(language, "closed_callback"))
    return twiml.gather_digits(
        language, urls.relative(urls.CLOSED_CHOICE, contact=call.contact.id), spoken,
        then=urls.relative(urls.CLOSED_CHOICE, contact=call.contact.id, none="1"))


def handle_closed_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    from warmline.services.callback_intake import start_callback_request  # noqa: PLC0415 - cycle

    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        if form.digits == CALLBACK_DIGIT and call.line.callbacks:
            return start_callback_request(runtime, call, form, now)
        finish_contact(runtime, call.contact, Outcome.CLOSED_HOURS, now)
        return goodbye(call.language)


def handle_language_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        languages = call.line.languages
        index = int(form.digits) - 1 if form.digits.isdigit() else -1
        call.contact.language = languages[index] if 0 <= index < len(languages) else languages[0]
        session.commit()
        return _menu(session, call, preface=None)


def _menu(session: Session, call: CallContext, preface: str | None) -> str:
    items = [twiml.MenuItem(e.digit, e.label_for(call.language)) for e in active_experiences(session)]
    greeting = call.line.greeting.get(call.language) or text(
        call.language, "default_greeting", line=call.line.name)
    return twiml.experience_menu(call.language, call.contact.id, greeting, items, preface=preface)


def handle_menu_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None or state.outcome(contact_id) is not None:
            return goodbye(call.language if call else "en")
        contact, language = call.contact, call.language
        digits = form.digits
        if digits == CRISIS_DIGIT:
            note_event(runtime, contact, EventKind.MENU_CHOICE, now, detail={"choice": "crisis"})
            return transfer(runtime, call, now, crisis=True)
        experiences = {str(e.digit): e.key for e in active_experiences(session)}
        if digits and digits != ANYONE_DIGIT and digits not in experiences:
            if state.count_menu_try(contact_id) < MENU_TRIES:
                return _menu(session, call, preface=text(language, "invalid_choice"))
            digits = ANYONE_DIGIT
        experience = experiences.get(digits)
        contact.experience_key = experience
        contact.any_peer = experience is None
        session.commit()
        note_event(runtime, contact, EventKind.MENU_CHOICE, now,
                   detail={"choice": experience or "anyone"})
        label = experience_label(session, experience, language)
    refresh_line_routing(runtime, call.line.id, now)
    arrival = routing.contact_arrived(runtime, ArrivingContact(
        contact_id=contact.id, line_id=call.line.id, channel="voice", experience=experience,
        language=language, priority=contact.priority, arrived_at=contact.arrived_at.timestamp(),
        accepts_any_peer=experience is None,
    ), now.timestamp())
    note_event(runtime, contact, EventKind.QUEUED, now)
    spoken = [] if experience is None else _verdict_words(arrival.verdict.outlook.value, language,
                                                          label)
    if experience is None and not digits:
        spoken.insert(0, text(language, "no_input_anyone"))
    return twiml.enqueue(contact.id, language, spoken)


def _verdict_words(outlook: str, language: str, label: str) -> list[str]:
    if outlook == "no_match":
        return [text(language, "wait_match_none", experience=label)]
    if outlook == "all_busy":
        return [text(language, "wait_match_busy", experience=label)]
    return []
