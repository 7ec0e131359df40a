"""A caller asks to be called back: confirm the number, pick a window, allow a message or not.

The number travels between steps only encrypted in Redis (a short-lived draft), and is stored
encrypted in SQL with an expiry; the workers issue places the call and deletes the number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from warmline.domain.phone import (
    InvalidPhoneNumberError,
    NotCallableNumberError,
    to_callback_number,
)
from warmline.domain.schedule import find_next_opening, find_opening_close
from warmline.models import CallbackRequest, EventKind
from warmline.runtime import Runtime
from warmline.services.contacts import note_event
from warmline.services.schedules import line_schedule
from warmline.services.voice_common import CallContext, goodbye, leave_routing, load_call, transfer
from warmline.voice import twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.prompts import text
from warmline.voice.state import NO_OUTCOME_ON_HANGUP, CallState

# "Later today" means at least this far from now; a line closing sooner offers only "soon".
LATER_TODAY_DELAY = timedelta(hours=2)
# A 24/7 line's "as soon as possible" window; a callback not placed by then has expired.
OPEN_ENDED_WINDOW = timedelta(hours=12)
MAX_ENTERED_DIGITS = 15


def start_callback_request(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    language = call.language
    if not call.line.callbacks:
        return twiml.hang_up_with(language, text(language, "callback_unavailable"),
                                  text(language, "goodbye"))
    leave_routing(runtime, call.contact.id, now)
    action = urls.relative(urls.CALLBACK_NUMBER, contact=call.contact.id)
    return twiml.gather_digits(language, action, [text(language, "callback_confirm_number")],
                               then=action)


def handle_number_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None:
        return goodbye("en")
    language = call.language
    if form.digits == "1":
        try:
            number = to_callback_number(form.from_number, call.line.number)
        except InvalidPhoneNumberError as exc:
            return _ask_for_number(contact_id, language, _refusal(language, exc))
        return _remember_number(runtime, call, number)
    return _ask_for_number(contact_id, language, None)


def _refusal(language: str, problem: InvalidPhoneNumberError) -> str:
    """Why a number was not taken: no number at all, or one the line may not call."""
    if isinstance(problem, NotCallableNumberError):
        return text(language, "callback_number_not_callable")
    return text(language, "callback_bad_number")


def _ask_for_number(contact_id: str, language: str, preface: str | None) -> str:
    spoken = [preface] if preface else []
    spoken.append(text(language, "callback_enter_number"))
    return twiml.gather_digits(
        language, urls.relative(urls.CALLBACK_ENTERED, contact=contact_id), spoken,
        num_digits=MAX_ENTERED_DIGITS, finish_on_key="#", timeout=10,
        then=urls.relative(urls.CALLBACK_NUMBER, contact=contact_id))


def handle_number_entered(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None:
        return goodbye("en")
    language = call.language
    try:
        number = to_callback_number(form.digits, call.line.number)
    except InvalidPhoneNumberError as exc:
        return _ask_for_number(contact_id, language, _refusal(language, exc))
    return _remember_number(runtime, call, number)


def _remember_number(runtime: Runtime, call: CallContext, number: str) -> str:
    CallState(runtime.redis).save_callback_draft(call.contact.id,
                                                 {"number": runtime.keys.encrypt(number)})
    language = call.language
    action = urls.relative(urls.CALLBACK_WINDOW, contact=call.contact.id)
    return twiml.gather_digits(language, action, [text(language, "callback_window")], then=action)


def _window(call: CallContext, now: datetime, later: bool) -> tuple[datetime, datetime]:
    """Inside the line's hours: now (or its next opening) until it closes; "later" starts later."""
    schedule = line_schedule(call.line)
    start = find_next_opening(schedule, now) or now
    end = find_opening_close(schedule, start) or start + OPEN_ENDED_WINDOW
    if later and end - max(start, now) > LATER_TODAY_DELAY:
        start = max(start, now + LATER_TODAY_DELAY)
    return start, end


def handle_window_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
    if call is None:
        return goodbye("en")
    start, end = _window(call, now, later=form.digits == "2")
    state.save_callback_draft(contact_id, {"start": start.isoformat(), "end": end.isoformat(),
                                           "later": "1" if form.digits == "2" else "0"})
    language = call.language
    action = urls.relative(urls.CALLBACK_MESSAGE, contact=contact_id)
    return twiml.gather_digits(language, action, [text(language, "callback_message")], then=action)


def handle_message_choice(runtime: Runtime, contact_id: str, form: CallForm, now: datetime) -> str:
    state = CallState(runtime.redis)
    with runtime.sessions() as session:
        call = load_call(session, contact_id)
        if call is None:
            return goodbye("en")
        draft = state.callback_draft(contact_id)
        if "number" not in draft or "start" not in draft:
            # The draft expired mid-call (a very slow caller): do not lose them, send them on.
            return transfer(runtime, call, now, crisis=False)
        end = datetime.fromisoformat(draft["end"])
        request = CallbackRequest(
            contact_id=contact_id, line_id=call.line.id, caller_hash=call.contact.caller_hash,
            number_encrypted=draft["number"], experience_key=call.contact.experience_key,
            language=call.language, window_start=datetime.fromisoformat(draft["start"]),
            window_end=end, may_leave_message=form.digits == "1", status="pending",
            next_attempt_at=datetime.fromisoformat(draft["start"]), expires_at=end,
        )
        session.add(request)
        session.commit()
        state.drop_callback_draft(contact_id)
        # The contact's outcome comes when the callback is placed (or fails, or expires).
        state.set_outcome_on_hangup(contact_id, NO_OUTCOME_ON_HANGUP)
        note_event(runtime, call.contact, EventKind.CALLBACK_REQUESTED, now,
                   detail={"later": draft.get("later") == "1",
                           "message_ok": form.digits == "1"})
        language = call.language
        return twiml.hang_up_with(language, text(language, "callback_done"))
