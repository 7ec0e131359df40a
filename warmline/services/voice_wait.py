"""While the caller waits in their own queue: honest updates, their choices, the deadline, hang-ups."""

from __future__ import annotations

from datetime import datetime

from warmline.models import EventKind, Outcome
from warmline.routing.wait_status import wait_status
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact, note_event
from warmline.services.voice_common import (
    CallContext,
    cancel_ringing_peer,
    end_connected_call_locked,
    experience_label,
    goodbye,
    leave_routing,
    load_call,
    transfer,
)
from warmline.voice import twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.prompts import text
from warmline.voice.state import NO_OUTCOME_ON_HANGUP, CallState

ANY_DIGIT = "0"
CALLBACK_DIGIT = "1"
CRISIS_DIGIT = "9"
CHOICE_CALLBACK = "callback"
CHOICE_CRISIS = "crisis"
CHOICE_DEADLINE = "deadline"
ENDED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def handle_wait(runtime: Runtime, contact_id: str, form: CallForm, now: datetime, *,
                public_url: str) -> str:
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return twiml.leave_queue()
        language = call.language
        if (form.queue_time or 0) >= call.line.max_wait_seconds:
            # The deadline lives here, in the wait URL Twilio keeps requesting, so it holds
            # even when every worker is down (DESIGN.md).
            CallState(runtime.redis).set_choice(contact_id, CHOICE_DEADLINE)
            return twiml.leave_queue()
        label = experience_label(session, call.contact.experience_key, language)
    status = wait_status(routing.routing_engine(runtime), contact_id)
    spoken: list[str] = []
    if status is not None and status.state in ("offered", "connected"):
        spoken.append(text(language, "wait_connecting"))
    else:
        position = status.position if status else None
        estimate = status.expected_wait_seconds if status else None
        if call.contact.experience_key and not call.contact.any_peer:
            spoken.append(text(language, "wait_match_busy", experience=label))
        else:
            spoken.append(text(language, "wait_busy"))
        if position is not None:
            spoken.append(text(language, "wait_position", position=position))
        if estimate is not None:
            spoken.append(text(language, "wait_estimate", minutes=max(1, round(estimate / 60))))
        spoken.append(text(language, "wait_choices_match" if call.contact.experience_key
                           and not call.contact.any_peer else "wait_choices"))
    if call.line.callbacks:
        spoken.append(text(language, "wait_callback"))
    if call.line.crisis_number:
        spoken.append(text(language, "wait_crisis"))
    return twiml.hold(contact_id, language, spoken, urls.absolute(public_url, urls.HOLD_AUDIO))


def handle_wait_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return twiml.leave_queue()
        language, contact = call.language, call.contact
        digits = form.digits
        if digits == ANY_DIGIT:
            if contact.experience_key and not contact.any_peer:
                contact.any_peer = True
                session.commit()
                note_event(runtime, contact, EventKind.MENU_CHOICE, now, detail={"choice": "anyone"})
                routing.choose_any(runtime, contact_id, now.timestamp())
            return twiml.say_then_wait(contact_id, language, text(language, "wait_any_ok"))
        if digits == CALLBACK_DIGIT and call.line.callbacks:
            leave_routing(runtime, contact_id, now)
            state.set_choice(contact_id, CHOICE_CALLBACK)
            return twiml.leave_queue()
        if digits == CRISIS_DIGIT:
            state.set_choice(contact_id, CHOICE_CRISIS)
            return twiml.leave_queue()
        return twiml.say_then_wait(contact_id, language, text(language, "invalid_choice"))


def handle_queue_done(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    """Twilio's <Enqueue action>: the caller left their queue, one way or another."""
    from warmline.services.callback_intake import start_callback_request  # noqa: PLC0415 - cycle

    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        result = form.queue_result
        if result == "bridged":
            return goodbye(call.language)
        if result == "hangup":
            abandon(runtime, call, now)
            return goodbye(call.language)
        choice = state.pop_choice(contact_id) if result == "leave" else None
        if choice == CHOICE_CALLBACK:
            return start_callback_request(runtime, call, form, now)
        if choice == CHOICE_CRISIS:
            return transfer(runtime, call, now, crisis=True)
        if choice == CHOICE_DEADLINE:
            return _deadline(runtime, call, now)
        # queue-full, error, system-error...: do not leave the caller hanging.
        return transfer(runtime, call, now, crisis=False)


def _deadline(runtime: Runtime, call: CallContext, now: datetime) -> str:
    leave_routing(runtime, call.contact.id, now)
    language = call.language
    if not call.line.callbacks:
        return transfer(runtime, call, now, crisis=False)
    spoken = [text(language, "max_wait"), text(language, "wait_callback")]
    spoken.append(text(language, "max_wait_backup") if call.line.backup_number
                  else text(language, "max_wait_no_backup"))
    return twiml.gather_digits(
        language, urls.relative(urls.DEADLINE_CHOICE, contact=call.contact.id), spoken,
        then=urls.relative(urls.DEADLINE_CHOICE, contact=call.contact.id, none="1"))


def handle_deadline_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    from warmline.services.callback_intake import start_callback_request  # noqa: PLC0415 - cycle

    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        if form.digits == CALLBACK_DIGIT and call.line.callbacks:
            return start_callback_request(runtime, call, form, now)
        return transfer(runtime, call, now, crisis=False)


def abandon(runtime: Runtime, call: CallContext, now: datetime) -> None:
    """The caller hung up before reaching a peer: withdraw them and stop any ringing phone."""
    state = CallState(runtime.redis)
    contact_id = call.contact.id
    with state.ending_lock(contact_id):
        if state.outcome(contact_id) is not None:
            return
        if end_connected_call_locked(runtime, call.contact, now):
            return  # hung up while bridged: a connected call, not an abandoned one
        end = routing.withdraw_contact(runtime, contact_id, now.timestamp())
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
