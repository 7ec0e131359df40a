"""A caller asks to be called back: confirm the number, pick a window, allow a message or not.

The number travels between steps only encrypted in Redis (a short-lived draft), and is stored
encrypted in SQL with an expiry; `callbacks.placing` places the call and deletes the number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from warmline.domain.phone import (
    InvalidPhoneNumberError,
    NotCallableNumberError,
    to_callback_number,
)
from warmline.domain.schedule import find_next_opening, find_opening_close
from warmline.models import CallbackRequest, EventKind, Outcome
from warmline.runtime import Runtime
from warmline.services.contacts import finish_contact, note_event
from warmline.services.schedules import line_schedule
from warmline.services.voice.common import (
    CallContext,
    back_to_queue,
    goodbye,
    leave_routing,
    load_contact_call,
    transfer,
)
from warmline.services.voice.gather import GatherStep
from warmline.voice import questions, twiml
from warmline.voice.forms import CallForm
from warmline.voice.gathering import Prompt, ask
from warmline.voice.prompts import text
from warmline.voice.state import NO_OUTCOME_ON_HANGUP, CallState

# "Later today" means at least this far from now; a line closing sooner offers only "soon".
LATER_TODAY_DELAY = timedelta(hours=2)
# A 24/7 line's "as soon as possible" window; a callback not placed by then has expired.
OPEN_ENDED_WINDOW = timedelta(hours=12)
USE_CALLER_ID, ENTER_NUMBER = "1", "2"
WINDOW_SOON, WINDOW_LATER = "1", "2"
MESSAGE_YES, MESSAGE_NO = "1", "2"
# "Press 1 to be called back", wherever a call back is offered (hold, deadline, closed hours).
CALLBACK_DIGIT = "1"
# Where a call back was asked for: where the caller goes if it cannot be set up.
ORIGIN_HOLD = "hold"
ORIGIN_DEADLINE = "deadline"
ORIGIN_CLOSED = "closed"


def asks_for_callback(call: CallContext, digits: str) -> bool:
    """The keys ask for a call back, and the line places them."""
    return digits == CALLBACK_DIGIT and call.line.callbacks


def callback_question(
    prompt: Prompt, *, origin: str,
    ask_again: Callable[[Runtime, CallContext, str], str],
    move_on: Callable[[Runtime, CallContext, str, datetime], str],
    otherwise: Callable[[Runtime, CallContext, datetime], str] | None = None,
) -> GatherStep[CallContext]:
    """A question whose one key is 1, "call me back": it starts a callback request from
    `origin`. An answer without it (silence, where the prompt takes silence as an answer) goes
    `otherwise`; without `otherwise`, every answer starts the request."""

    def answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
        if otherwise is not None and form.digits != CALLBACK_DIGIT:
            return otherwise(runtime, call, now)
        return start_callback_request(runtime, call, now, origin=origin)

    return GatherStep(prompt=prompt, load=load_contact_call, language=_language,
                      accepts=asks_for_callback, answer=answer, ask_again=ask_again,
                      move_on=move_on, gone=_gone)


def start_callback_request(runtime: Runtime, call: CallContext, now: datetime, *, origin: str,
                           waited: int = 0) -> str:
    """`origin` (hold, deadline, closed) decides where the caller goes if the call back cannot
    be set up; `waited` is their time in the queue so far, kept if they go back to it."""
    language = call.language
    if not call.line.callbacks:
        return twiml.hang_up_with(language, text(language, "callback_unavailable"),
                                  text(language, "goodbye"))
    leave_routing(runtime, call.contact.id, now)
    state = CallState(runtime.redis)
    state.drop_callback_draft(call.contact.id)
    state.save_callback_draft(call.contact.id, {"origin": origin, "waited": str(max(waited, 0))})
    return _confirm_question(call)


def _ask(prompt: Prompt, call: CallContext, *spoken: str | None) -> str:
    return ask(prompt, call.language, [words for words in spoken if words],
               {"contact": call.contact.id})


def _confirm_question(call: CallContext, sorry: str | None = None) -> str:
    return _ask(questions.CALLBACK_CONFIRM, call, sorry,
                text(call.language, "callback_confirm_number"))


def _number_question(call: CallContext, sorry: str | None = None) -> str:
    return _ask(questions.CALLBACK_NUMBER, call, sorry,
                text(call.language, "callback_enter_number"))


def _window_question(call: CallContext, sorry: str | None = None) -> str:
    return _ask(questions.CALLBACK_WINDOW, call, sorry, text(call.language, "callback_window"))


def _message_question(call: CallContext, sorry: str | None = None) -> str:
    return _ask(questions.CALLBACK_MESSAGE, call, sorry, text(call.language, "callback_message"))


def _refusal(language: str, problem: InvalidPhoneNumberError) -> str:
    """Why a number was not taken: no number at all, or one the line may not call."""
    if isinstance(problem, NotCallableNumberError):
        return text(language, "callback_number_not_callable")
    return text(language, "callback_bad_number")


def _refusal_of(call: CallContext, number: str) -> str | None:
    """None when the line may call `number` back; otherwise why not, in the caller's words."""
    try:
        to_callback_number(number, call.line.number)
    except InvalidPhoneNumberError as exc:
        return _refusal(call.language, exc)
    return None


def _confirm_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    if form.digits == USE_CALLER_ID:
        refused = _refusal_of(call, form.from_number)
        if refused is not None:
            # A withheld, foreign or premium caller ID: the caller keys a number instead.
            return _number_question(call, refused)
        return _remember_number(runtime, call, to_callback_number(form.from_number,
                                                                  call.line.number))
    return _number_question(call)


def _number_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    return _remember_number(runtime, call, to_callback_number(form.digits, call.line.number))


def _remember_number(runtime: Runtime, call: CallContext, number: str) -> str:
    CallState(runtime.redis).save_callback_draft(call.contact.id,
                                                 {"number": runtime.keys.encrypt(number)})
    return _window_question(call)


def _not_set_up(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    """No number after two misses: the caller goes back where they came from, told so."""
    state = CallState(runtime.redis)
    draft = state.callback_draft(call.contact.id)
    state.drop_callback_draft(call.contact.id)
    language = call.language
    why = [sorry, text(language, "callback_not_set")]
    origin = draft.get("origin")
    if origin == ORIGIN_HOLD:
        waited = int(draft.get("waited") or 0)
        return back_to_queue(runtime, call, now, [*why, text(language, "back_in_line")], waited)
    if origin == ORIGIN_CLOSED:
        finish_contact(runtime, call.contact, Outcome.CLOSED_HOURS, now)
        return twiml.hang_up_with(language, *why, text(language, "closed_resources"),
                                  text(language, "goodbye"))
    # After the deadline (or a draft that expired): the partner line, or where help is.
    return transfer(runtime, call, now, crisis=False, before=why)


def _window(call: CallContext, now: datetime, later: bool) -> tuple[datetime, datetime]:
    """Inside the line's hours: now (or its next opening) until it closes; "later" starts later."""
    schedule = line_schedule(call.line)
    start = find_next_opening(schedule, now) or now
    end = find_opening_close(schedule, start) or start + OPEN_ENDED_WINDOW
    if later and end - max(start, now) > LATER_TODAY_DELAY:
        start = max(start, now + LATER_TODAY_DELAY)
    return start, end


def _save_window(runtime: Runtime, call: CallContext, now: datetime, *, later: bool) -> None:
    start, end = _window(call, now, later=later)
    CallState(runtime.redis).save_callback_draft(
        call.contact.id, {"start": start.isoformat(), "end": end.isoformat(),
                          "later": "1" if later else "0"})


def _window_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    _save_window(runtime, call, now, later=form.digits == WINDOW_LATER)
    return _message_question(call)


def _window_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    """The number is agreed: the soonest window, said aloud, then the message question."""
    _save_window(runtime, call, now, later=False)
    return _message_question(call, " ".join([sorry,
                                             text(call.language, "callback_window_default")]))


def _save_request(runtime: Runtime, call: CallContext, now: datetime, *, message_ok: bool,
                  spoken: list[str]) -> str:
    state = CallState(runtime.redis)
    contact_id = call.contact.id
    draft = state.callback_draft(contact_id)
    if "number" not in draft or "start" not in draft:
        # The draft expired mid-call (a very slow caller): do not lose them, send them on.
        return transfer(runtime, call, now, crisis=False)
    end = datetime.fromisoformat(draft["end"])
    with runtime.sessions() as session:
        session.add(CallbackRequest(
            contact_id=contact_id, line_id=call.line.id, caller_hash=call.contact.caller_hash,
            number_encrypted=draft["number"], experience_key=call.contact.experience_key,
            language=call.language, window_start=datetime.fromisoformat(draft["start"]),
            window_end=end, may_leave_message=message_ok, status="pending",
            next_attempt_at=datetime.fromisoformat(draft["start"]), expires_at=end,
        ))
        session.commit()
    state.drop_callback_draft(contact_id)
    # The contact's outcome comes when the callback is placed (or fails, or expires).
    state.set_outcome_on_hangup(contact_id, NO_OUTCOME_ON_HANGUP)
    note_event(runtime, call.contact, EventKind.CALLBACK_REQUESTED, now,
               detail={"later": draft.get("later") == "1", "message_ok": message_ok})
    language = call.language
    return twiml.hang_up_with(language, *spoken, text(language, "callback_done"))


def _message_move_on(runtime: Runtime, call: CallContext, sorry: str, now: datetime) -> str:
    """No answer about a message: none is left (the discreet choice), and the caller is told."""
    return _save_request(runtime, call, now, message_ok=False,
                         spoken=[sorry, text(call.language, "callback_no_message")])


def _language(call: CallContext) -> str:
    return call.language


def _gone() -> str:
    return goodbye("en")


CONFIRM_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.CALLBACK_CONFIRM, load=load_contact_call, language=_language,
    accepts=lambda call, digits: digits in (USE_CALLER_ID, ENTER_NUMBER),
    answer=_confirm_answer, ask_again=lambda runtime, call, sorry: _confirm_question(call, sorry),
    move_on=_not_set_up, gone=_gone,
)
NUMBER_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.CALLBACK_NUMBER, load=load_contact_call, language=_language,
    accepts=lambda call, digits: _refusal_of(call, digits) is None, refusal=_refusal_of,
    answer=_number_answer, ask_again=lambda runtime, call, sorry: _number_question(call, sorry),
    move_on=_not_set_up, gone=_gone,
)
WINDOW_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.CALLBACK_WINDOW, load=load_contact_call, language=_language,
    accepts=lambda call, digits: digits in (WINDOW_SOON, WINDOW_LATER),
    answer=_window_answer, ask_again=lambda runtime, call, sorry: _window_question(call, sorry),
    move_on=_window_move_on, gone=_gone,
)
MESSAGE_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.CALLBACK_MESSAGE, load=load_contact_call, language=_language,
    accepts=lambda call, digits: digits in (MESSAGE_YES, MESSAGE_NO),
    answer=lambda runtime, call, form, now: _save_request(
        runtime, call, now, message_ok=form.digits == MESSAGE_YES, spoken=[]),
    ask_again=lambda runtime, call, sorry: _message_question(call, sorry),
    move_on=_message_move_on, gone=_gone,
)
