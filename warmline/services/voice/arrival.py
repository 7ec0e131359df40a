"""A call arrives: which line, may we take it (blocks, limits, hours), then language and menu."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from warmline.config_cache import config_of_sessions
from warmline.domain.numbers import parse_whole_number
from warmline.models import Contact, EventKind, Experience, Line, Outcome
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import (
    count_contacts_today,
    counts_in_one_statement,
    finish_contact,
    is_blocked,
    new_contact_id,
    note_event,
    open_contact,
    open_contact_counting_today,
)
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import is_open, next_opening
from warmline.services.voice import floods, reconnect
from warmline.services.voice.backup_route import backup_routes
from warmline.services.voice.callback_intake import ORIGIN_CLOSED, callback_question
from warmline.services.voice.common import (
    CallContext,
    active_experiences,
    active_line_by_number,
    caller_identity,
    goodbye,
    load_call,
    load_contact_call,
    transfer,
)
from warmline.services.voice.gather import GatherStep
from warmline.voice import questions, twiml
from warmline.voice.forms import CallForm
from warmline.voice.gathering import ask
from warmline.voice.prompts import opening_words, text
from warmline.voice.state import ArrivalFacts, CallState, DroppedCall, WaitFacts

log = logging.getLogger(__name__)

CRISIS_DIGIT = "9"
ANYONE_DIGIT = "0"
# How long a duplicate of a call's first request waits for that request to store the contact.
_RACE_WAIT_SECONDS = 5.0


def _opening(at: datetime, line: Line, language: str, now: datetime) -> str:
    zone = ZoneInfo(line.timezone)
    return opening_words(language, at.astimezone(zone), now.astimezone(zone))


def handle_incoming_call(runtime: Runtime, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    caller_hash = caller_identity(runtime.keys, form.from_number, form.call_sid)
    with runtime.sessions() as session:
        line = active_line_by_number(session, form.to_number)
        # The arrival is one SQL statement that commits by itself: the contact's insert, and on
        # a line with a daily limit the count of the caller's contacts today before this one
        # (PostgreSQL). Where one statement cannot do both (SQLite), they share a transaction.
        limited = line if line is not None and line.daily_contact_limit > 0 else None
        if limited and not counts_in_one_statement(runtime) and not session.in_transaction():
            session.begin()
        blocked = line is not None and is_blocked(session, caller_hash, line.id, now)
        contact, replayed, link, today = _contact_of_call(
            runtime, session, form, line=line, caller_hash=caller_hash, now=now, limited=limited)
        if today is None and limited is not None and not blocked:
            today = count_contacts_today(session, limited, caller_hash, now)
        over_limit = limited is not None and not blocked and today is not None \
            and today >= limited.daily_contact_limit
        session.commit()
        if line is None:
            # A misconfiguration, not a caller's fault: `twilio configure` points a number here.
            log.warning("a call reached a number that is no active line; run `twilio configure`")
            finish_contact(runtime, contact, Outcome.UNKNOWN_LINE, now)
            return twiml.hang_up_with("en", text("en", "unknown_line"))
        backup_routes.remember(line)
        language = line.default_language
        if blocked:
            finish_contact(runtime, contact, Outcome.BLOCKED, now)
            return twiml.hang_up_with(language, text(language, "blocked"))
        # Twilio's retry of the same call is not another call: it counts once.
        flood = None if replayed else floods.count_call(runtime, line, caller_hash, now)
        if flood is not None:
            return _flooded(runtime, CallContext(contact, line), flood, now)
        if over_limit:
            finish_contact(runtime, contact, Outcome.OVER_LIMIT, now)
            return twiml.hang_up_with(language, text(language, "over_limit"))
        if replayed and state.outcome(contact.id) is not None:
            return goodbye(contact.language or language)  # this call has ended already
        if not is_open(line, now):
            return _closed(runtime, CallContext(contact, line), now)
        dropped = reconnect.dropped_call_to_offer(runtime, link, line, now)
        if dropped is not None:
            # Asked in the language of the call that dropped; that call's choices hold too.
            session.execute(update(Contact).where(Contact.id == contact.id)
                            .values(language=dropped.language))
            session.commit()
            # Told, not marked changed: a replayed (persistent) contact is not updated twice.
            set_committed_value(contact, "language", dropped.language)
            _remember_arrival(runtime, contact)
            return reconnect.reconnect_question(contact.id, dropped.language)
        _remember_arrival(runtime, contact)
        return _way_in(session, CallContext(contact, line))


def _remember_arrival(runtime: Runtime, contact: Contact) -> None:
    """What the answer to the question asked now needs of the contact (its language as asked
    in), beside the call's state: that answer reads no SQL (`_load_menu_call`)."""
    if contact.line_id is None:
        return
    CallState(runtime.redis).set_arrival_facts(contact.id, ArrivalFacts(
        contact.line_id, contact.language or "en", contact.caller_hash, contact.arrived_at,
        contact.priority))


def _contact_of(contact_id: str, facts: ArrivalFacts) -> Contact:
    """The call's contact as it stands before the menu's answer, from its arrival facts: not
    kept by any session (the answer changes it with one UPDATE)."""
    return Contact(
        id=contact_id, line_id=facts.line_id, channel="voice", caller_hash=facts.caller_hash,
        language=facts.language, provider_sid=None, arrived_at=facts.arrived_at,
        is_callback=False, experience_key=None, priority=facts.priority, any_peer=False,
        risk_flagged=False)


def _way_in(session: Session, call: CallContext, preface: str | None = None) -> str:
    """The usual start: the language menu when the line offers several, else the experiences."""
    if len(call.line.languages) > 1:
        return questions.language_menu(call.line.languages, call.contact.id, preface=preface)
    return _menu(session, call, preface=preface)


def _flooded(runtime: Runtime, call: CallContext, flood: floods.FloodKind, now: datetime) -> str:
    """Kind words; a burst on the line goes to the backup line when there is one."""
    language, line = call.language, call.line
    if flood is floods.FloodKind.LINE and line.backup_number:
        finish_contact(runtime, call.contact, Outcome.TRANSFERRED_BACKUP, now)
        return twiml.dial_out(language, text(language, "flood_line_backup"), line.backup_number,
                              caller_id=line.number)
    finish_contact(runtime, call.contact, Outcome.OVER_LIMIT, now)
    words = "flood_caller" if flood is floods.FloodKind.CALLER else "flood_line"
    return twiml.hang_up_with(language, text(language, words))


def _contact_of_call(
    runtime: Runtime, session: Session, form: CallForm, *, line: Line | None, caller_hash: str,
    now: datetime, limited: Line | None,
) -> tuple[Contact, bool, DroppedCall | None, int | None]:
    """The call's one contact: opened by the first request of a CallSid; Twilio's retries and
    replays of the same request find it again (webhooks are idempotent). True when found. The
    caller's dropped-call link (reconnect.py) is read in the claim's round trip. On a `limited`
    line, the caller's contacts today as the insert counted them (None when it did not: a
    replay, or SQLite, where the contact is flushed, not committed: the caller commits)."""
    state = CallState(runtime.redis)
    if not form.call_sid:
        contact, today = _open_call_contact(runtime, session, form, line=line,
                                            caller_hash=caller_hash, now=now, contact_id=None,
                                            limited=limited)
        return contact, False, state.dropped_call(caller_hash), today
    claimed = new_contact_id()
    earlier, link = state.claim_call(form.call_sid, claimed, dropped_of=caller_hash)
    if earlier is None:
        try:
            contact, today = _open_call_contact(runtime, session, form, line=line,
                                                caller_hash=caller_hash, now=now,
                                                contact_id=claimed, limited=limited)
            return contact, False, link, today
        except IntegrityError:
            # Redis came back empty since the call's first request stored its contact: the
            # one-contact-per-call index (migration 0015) says so; nothing else was written yet.
            session.rollback()
            earlier = session.scalars(select(Contact.id).where(
                Contact.provider_sid == form.call_sid, Contact.channel == "voice")).first()
            if earlier is None:
                raise
            state.link_call(form.call_sid, earlier)
    return _wait_for_contact(session, earlier), True, link, None


def _open_call_contact(
    runtime: Runtime, session: Session, form: CallForm, *, line: Line | None, caller_hash: str,
    now: datetime, contact_id: str | None, limited: Line | None,
) -> tuple[Contact, int | None]:
    language = line.default_language if line else "en"
    if limited is not None and counts_in_one_statement(runtime):
        return open_contact_counting_today(
            runtime, line=limited, channel="voice", caller_hash=caller_hash,
            provider_sid=form.call_sid or None, now=now, language=language,
            contact_id=contact_id)
    contact = open_contact(runtime, session, line=line, channel="voice", caller_hash=caller_hash,
                           provider_sid=form.call_sid or None, now=now, language=language,
                           contact_id=contact_id, at_once=True)
    return contact, None


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
        spoken.append(_opening(opening, line, language, now))
    spoken.append(text(language, "closed_resources"))
    CallState(runtime.redis).set_outcome_on_hangup(call.contact.id, Outcome.CLOSED_HOURS.value)
    if not line.callbacks:
        finish_contact(runtime, call.contact, Outcome.CLOSED_HOURS, now)
        return twiml.hang_up_with(language, *spoken, text(language, "goodbye"))
    spoken.append(text(language, "closed_callback"))
    return ask(questions.CLOSED_CALLBACK, language, spoken, {"contact": call.contact.id})


def _closed_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    """No call back asked for: goodbye, with the crisis numbers once more."""
    language = call.language
    finish_contact(runtime, call.contact, Outcome.CLOSED_HOURS, now)
    return twiml.hang_up_with(language, sorry, text(language, "closed_resources"),
                              text(language, "goodbye"))


CLOSED_STEP = callback_question(
    questions.CLOSED_CALLBACK, origin=ORIGIN_CLOSED, move_on=_closed_move_on,
    ask_again=lambda runtime, call, sorry: ask(
        questions.CLOSED_CALLBACK, call.language,
        [sorry, text(call.language, "closed_callback")], {"contact": call.contact.id}),
)


def _reconnect_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    dropped = reconnect.take_dropped_call(runtime, call.contact.caller_hash)
    if form.digits == reconnect.AGAIN_DIGIT and dropped is not None:
        with runtime.sessions() as session:
            experience = next((e for e in active_experiences(session)
                               if e.key == dropped.experience_key), None)
        return _queue(runtime, call, experience, [text(call.language, "reconnect_trying")], now,
                      first_peer=dropped.peer_id)
    with runtime.sessions() as session:
        return _way_in(session, call)


def _reconnect_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    """No answer: the usual way in, which asks everything again."""
    reconnect.take_dropped_call(runtime, call.contact.caller_hash)
    with runtime.sessions() as session:
        return _way_in(session, call, preface=sorry)


RECONNECT_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.RECONNECT, load=load_contact_call, language=lambda call: call.language,
    accepts=lambda call, digits: digits in (reconnect.AGAIN_DIGIT, reconnect.SOMEONE_ELSE_DIGIT),
    answer=_reconnect_answer, move_on=_reconnect_move_on,
    ask_again=lambda runtime, call, sorry: reconnect.reconnect_question(
        call.contact.id, call.language, preface=sorry),
    gone=lambda: goodbye("en"),
)


def _language_accepts(call: CallContext, digits: str) -> bool:
    choice = parse_whole_number(digits, maximum=99)
    return choice is not None and 1 <= choice <= len(call.line.languages)


def _choose_language(runtime: Runtime, call: CallContext, language: str,
                     preface: str | None) -> str:
    with runtime.sessions() as session:
        contact = session.get(Contact, call.contact.id)
        if contact is not None:
            contact.language = language
            session.commit()
        call.contact.language = language
        _remember_arrival(runtime, call.contact)  # the menu's answer is in this language
        return _menu(session, call, preface=preface)


def _language_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    language = call.line.languages[0]  # the language `sorry` was said in
    return _choose_language(runtime, call, language,
                            " ".join([sorry, text(language, "language_default")]))


LANGUAGE_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.LANGUAGE, load=load_contact_call,
    language=lambda call: call.line.languages[0], accepts=_language_accepts,
    answer=lambda runtime, call, form, now: _choose_language(
        runtime, call, call.line.languages[(parse_whole_number(form.digits) or 1) - 1], None),
    ask_again=lambda runtime, call, sorry: questions.language_menu(
        call.line.languages, call.contact.id, preface=sorry),
    move_on=_language_move_on, gone=lambda: goodbye("en"),
)


def _menu(session: Session, call: CallContext, preface: str | None) -> str:
    return _menu_of(call, active_experiences(session), preface)


def _menu_of(call: CallContext, experiences: list[Experience], preface: str | None) -> str:
    items = [twiml.MenuItem(e.digit, e.label_for(call.language)) for e in experiences]
    greeting = call.line.greeting.get(call.language) or text(
        call.language, "default_greeting", line=call.line.name)
    return questions.experience_menu(call.language, call.contact.id, greeting, items,
                                     preface=preface)


@dataclass(frozen=True)
class MenuCall:
    """A call at the experience menu, with the experiences its digits name."""

    call: CallContext
    experiences: list[Experience]

    def experience_of(self, digits: str) -> Experience | None:
        return next((e for e in self.experiences if str(e.digit) == digits), None)


def _load_menu_call(runtime: Runtime, query: Mapping[str, str], now: datetime) -> MenuCall | None:
    """No SQL: the contact from its arrival facts, the line and experiences from the process's
    snapshot (config_cache); SQL for a call without them (arrived before they were written)."""
    contact_id = query.get("contact", "")
    outcome, facts = CallState(runtime.redis).outcome_and_arrival_facts(contact_id)
    if outcome is not None:
        return None  # the call already ended (a hang-up seen first)
    config = config_of_sessions(runtime.sessions) if facts is not None else None
    line = config.lines_by_id.get(facts.line_id) if config and facts else None
    if facts is not None and config is not None and line is not None:
        backup_routes.remember(line)
        return MenuCall(CallContext(_contact_of(contact_id, facts), line),
                        config.active_experiences)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        return MenuCall(call, active_experiences(session)) if call else None


def _menu_accepts(menu: MenuCall, digits: str) -> bool:
    return digits in (CRISIS_DIGIT, ANYONE_DIGIT) or menu.experience_of(digits) is not None


def _menu_answer(runtime: Runtime, menu: MenuCall, form: CallForm, now: datetime) -> str:
    call, digits = menu.call, form.digits
    if digits == CRISIS_DIGIT:
        note_event(runtime, call.contact, EventKind.MENU_CHOICE, now, detail={"choice": "crisis"})
        return transfer(runtime, call, now, crisis=True)
    experience = menu.experience_of(digits)
    # No input at all means anyone, and the caller is told so (README: "0 or no input").
    first = [] if digits else [text(call.language, "no_input_anyone")]
    return _queue(runtime, call, experience, first, now)


def _menu_move_on(runtime: Runtime, menu: MenuCall, sorry: str, now: datetime) -> str:
    return _queue(runtime, menu.call, None,
                  [sorry, text(menu.call.language, "no_input_anyone")], now)


MENU_STEP: GatherStep[MenuCall] = GatherStep(
    prompt=questions.MENU, load=_load_menu_call, language=lambda menu: menu.call.language,
    accepts=_menu_accepts, answer=_menu_answer, move_on=_menu_move_on,
    ask_again=lambda runtime, menu, sorry: _menu_of(menu.call, menu.experiences, sorry),
    gone=lambda: goodbye("en"),
)


def _queue(runtime: Runtime, call: CallContext, experience: Experience | None,
           first: list[str], now: datetime, *, first_peer: int | None = None) -> str:
    """The caller joins their queue asking for `experience` (None: anyone); `first_peer`, the
    peer of a call that dropped, is offered them first when they can take it."""
    language = call.language
    key = experience.key if experience else None
    # One statement, committed by itself: the contact is not read again.
    with runtime.autocommit.connect() as connection:
        connection.execute(update(Contact).where(Contact.id == call.contact.id)
                           .values(experience_key=key, any_peer=key is None))
    call.contact.experience_key, call.contact.any_peer = key, key is None
    contact = call.contact
    CallState(runtime.redis).set_wait_facts(contact.id, WaitFacts(
        call.line.id, language, key, key is None))
    detail: dict[str, int | str | bool] = {"choice": key or "anyone"}
    if first_peer is not None:
        detail["same_peer"] = True  # anonymous: that a caller asked, never whom
        CallState(runtime.redis).set_reconnecting(contact.id, first_peer)
    note_event(runtime, contact, EventKind.MENU_CHOICE, now, detail=detail)
    refresh_line_routing(runtime, call.line.id, now)
    routing.contact_arrived(runtime, routing.arriving(
        contact_id=contact.id, line_id=call.line.id, channel="voice", experience=key,
        language=language, priority=contact.priority, arrived_at=contact.arrived_at,
        accepts_any_peer=key is None,
    ), now, first_peer=first_peer)
    note_event(runtime, contact, EventKind.QUEUED, now)
    # What is true about the wait (nobody on shift shares it, everyone is on a call...) is the
    # first thing the hold loop says, at once.
    return twiml.enqueue(contact.id, language, first)
