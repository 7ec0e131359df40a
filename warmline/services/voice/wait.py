"""While the caller waits in their own queue: honest updates, their choices, the deadline, hang-ups."""

from __future__ import annotations

from datetime import datetime

from warmline.config_cache import config_of_sessions
from warmline.domain.matching import VOICE, wanted_experience
from warmline.models import Contact, EventKind, Outcome
from warmline.routing.wait_status import QueueClass, WaitStatus, wait_status
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact, note_event
from warmline.services.voice.backup_route import backup_routes
from warmline.services.voice.callback_intake import (
    CALLBACK_DIGIT,
    ORIGIN_DEADLINE,
    ORIGIN_HOLD,
    asks_for_callback,
    callback_question,
    start_callback_request,
)
from warmline.services.voice.common import (
    CallContext,
    cancel_ringing_peer,
    end_connected_call_locked,
    experience_label,
    goodbye,
    leave_routing,
    load_call,
    load_contact_call,
    transfer,
)
from warmline.services.voice.conference import handle_caller_join
from warmline.services.voice.gather import GatherStep
from warmline.telephony.gateway import ENDED_CALL_STATUSES
from warmline.voice import questions, twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.gathering import ask
from warmline.voice.prompts import text
from warmline.voice.state import NO_OUTCOME_ON_HANGUP, CallState

ANY_DIGIT = "0"
CRISIS_DIGIT = "9"
CHOICE_CALLBACK = "callback"
CHOICE_CRISIS = "crisis"
CHOICE_DEADLINE = "deadline"


def handle_wait(runtime: Runtime, contact_id: str, form: CallForm, now: datetime, *,
                public_url: str) -> str:
    """One round of the hold loop. No SQL: the caller's facts were written to Redis when they
    joined the queue, the line and the labels come from the process's snapshot
    (config_cache); the SQL path is for a caller queued without them."""
    state = CallState(runtime.redis)
    facts, waited_before = state.wait_facts(contact_id)
    config = config_of_sessions(runtime.sessions) if facts is not None else None
    line = config.lines_by_id.get(facts.line_id) if config and facts else None
    if facts is not None and config is not None and line is not None:
        backup_routes.remember(line)
        language, experience_key, any_peer = facts.language, facts.experience_key, facts.any_peer
        found = config.experience(experience_key) if experience_key else None
        label = (text(language, "peer_anyone") if experience_key is None
                 else found.label_for(language) if found else experience_key)
    else:
        with runtime.sessions() as session:
            call = load_call(session, contact_id)
            if call is None:
                return twiml.leave_queue()
            line, language = call.line, call.language
            experience_key, any_peer = call.contact.experience_key, call.contact.any_peer
            label = experience_label(session, experience_key, language)
    waited = (form.queue_time or 0) + waited_before
    if waited >= line.max_wait_seconds:
        # The deadline lives here, in the wait URL Twilio keeps requesting, so it holds
        # even when every worker is down (DESIGN.md).
        state.set_choice(contact_id, CHOICE_DEADLINE)
        return twiml.leave_queue()
    expected = (QueueClass(line.id, VOICE, wanted_experience(experience_key, any_peer), language)
                if facts is not None else None)
    status = wait_status(routing.routing_engine(runtime, now), contact_id, expected)
    spoken: list[str] = []
    if status is not None and status.state in ("offered", "connected"):
        spoken.append(text(language, "wait_connecting"))
    else:
        waits_for_match = bool(experience_key and not any_peer)
        spoken.extend(hold_update(language, status, label if waits_for_match else None))
        spoken.append(text(language, "wait_choices_match" if waits_for_match else "wait_choices"))
    if line.callbacks:
        spoken.append(text(language, "wait_callback"))
    if line.crisis_number:
        spoken.append(text(language, "wait_crisis"))
    return questions.hold(contact_id, language, spoken, urls.absolute(public_url, urls.HOLD_AUDIO))


def hold_update(language: str, status: WaitStatus | None, experience: str | None) -> list[str]:
    """What is true right now: who could take the call and whether they are all on calls, the
    place in line (always, when known), and a wait only when observed waits allow an estimate."""
    spoken = [_who_is_there(language, status, experience)]
    if status is not None and status.position is not None:
        spoken.append(text(language, "wait_position", position=status.position))
    if status is not None and status.expected_wait_seconds is not None:
        minutes = max(1, round(status.expected_wait_seconds / 60))
        spoken.append(text(language, "wait_estimate", count=minutes))
    return spoken


def _who_is_there(language: str, status: WaitStatus | None, experience: str | None) -> str:
    # Without a status (routing state being rebuilt) nothing is claimed about the peers.
    all_talking = status is not None and status.all_talking
    if experience is None:
        return text(language, "wait_all_talking" if all_talking else "wait_free_soon")
    if status is not None and status.staffed == 0:
        return text(language, "wait_match_none", experience=experience)
    return text(language, "wait_match_all_talking" if all_talking else "wait_match_free_soon",
                experience=experience)


def _hold_accepts(call: CallContext, digits: str) -> bool:
    return digits in (ANY_DIGIT, CRISIS_DIGIT) or asks_for_callback(call, digits)


def _hold_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    contact_id, language = call.contact.id, call.language
    digits = form.digits
    if digits == ANY_DIGIT:
        if call.contact.experience_key and not call.contact.any_peer:
            with runtime.sessions() as session:
                contact = session.get(Contact, contact_id)
                if contact is not None:
                    contact.any_peer = True
                    session.commit()
            state.set_wait_any_peer(contact_id)
            note_event(runtime, call.contact, EventKind.MENU_CHOICE, now,
                       detail={"choice": "anyone"})
            routing.choose_any(runtime, contact_id, now)
        return twiml.say_and_hold(language, text(language, "wait_any_ok"))
    if digits == CALLBACK_DIGIT:
        leave_routing(runtime, contact_id, now)
        state.set_choice(contact_id, CHOICE_CALLBACK)
        return twiml.leave_queue()
    state.set_choice(contact_id, CHOICE_CRISIS)
    return twiml.leave_queue()


def _hold_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    return twiml.say_and_hold(call.language, sorry, text(call.language, "hold_place_kept"))


HOLD_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.HOLD, load=load_contact_call, language=lambda call: call.language,
    accepts=_hold_accepts, answer=_hold_answer, move_on=_hold_move_on,
    # Asking again is the next hold round: it repeats the choices with a fresh update.
    ask_again=lambda runtime, call, sorry: twiml.say_and_hold(call.language, sorry),
    gone=twiml.leave_queue,
)


def handle_queue_done(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    """Twilio's <Enqueue action>: the caller left their queue, one way or another."""
    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        result = form.queue_result
        if result == "bridged":
            return goodbye(call.language)
        if result == "redirected":
            # Moved out of the queue into the conference by REST: the move's URL answers that;
            # if Twilio asks here too, the answer is the same room (or goodbye if it is over).
            return handle_caller_join(runtime, contact_id, form, now)
        if result == "hangup":
            abandon(runtime, call, now)
            return goodbye(call.language)
        choice = state.pop_choice(contact_id) if result == "leave" else None
        if choice == CHOICE_CALLBACK:
            return start_callback_request(runtime, call, now, origin=ORIGIN_HOLD,
                                          waited=form.queue_time or 0)
        if choice == CHOICE_CRISIS:
            return transfer(runtime, call, now, crisis=True)
        if choice == CHOICE_DEADLINE:
            return _deadline(runtime, call, now)
        # queue-full, error, system-error...: do not leave the caller hanging.
        return transfer(runtime, call, now, crisis=False)


def _deadline_question(call: CallContext, sorry: str | None = None) -> str:
    language = call.language
    spoken = [sorry] if sorry else []
    spoken += [text(language, "max_wait"), text(language, "wait_callback")]
    spoken.append(text(language, "max_wait_backup") if call.line.backup_number
                  else text(language, "max_wait_no_backup"))
    return ask(questions.DEADLINE, language, spoken, {"contact": call.contact.id})


def _deadline(runtime: Runtime, call: CallContext, now: datetime) -> str:
    leave_routing(runtime, call.contact.id, now)
    if not call.line.callbacks:
        return transfer(runtime, call, now, crisis=False)
    return _deadline_question(call)


DEADLINE_STEP = callback_question(
    questions.DEADLINE, origin=ORIGIN_DEADLINE,
    # silence: what the question promised
    otherwise=lambda runtime, call, now: transfer(runtime, call, now, crisis=False),
    ask_again=lambda runtime, call, sorry: _deadline_question(call, sorry),
    move_on=lambda runtime, call, sorry, now: transfer(runtime, call, now, crisis=False,
                                                      before=[sorry]),
)


def abandon(runtime: Runtime, call: CallContext, now: datetime) -> None:
    """The caller hung up before reaching a peer: withdraw them and stop any ringing phone."""
    state = CallState(runtime.redis)
    contact_id = call.contact.id
    with state.ending_lock(contact_id):
        if state.outcome(contact_id) is not None:
            return
        if end_connected_call_locked(runtime, call.contact, now):
            return  # hung up while bridged: a connected call, not an abandoned one
        end = routing.withdraw_contact(runtime, contact_id, now)
        on_hangup = state.outcome_on_hangup(contact_id)
        if on_hangup != NO_OUTCOME_ON_HANGUP:
            outcome = Outcome(on_hangup) if on_hangup else Outcome.ABANDONED
            if finish_contact(runtime, call.contact, outcome, now) and outcome == Outcome.ABANDONED:
                note_event(runtime, call.contact, EventKind.ABANDONED, now)
    if end.previous_state == "offered":
        cancel_ringing_peer(runtime, contact_id)


def handle_inbound_status(runtime: Runtime, form: CallForm, now: datetime) -> None:
    """The status callback of the caller's own leg: a hang-up anywhere is seen at once."""
    state = CallState(runtime.redis)
    if form.sequence_number is not None and not state.is_newer_event(form.call_sid, form.sequence_number):
        return
    if form.call_status not in ENDED_CALL_STATUSES:
        return
    contact_id = state.contact_of_call(form.call_sid)
    if contact_id is None or state.outcome(contact_id) is not None:
        return
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is not None:
            abandon(runtime, call, now)
