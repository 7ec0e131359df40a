"""The webhooks of a callback: the peer's leg (whisper, 1, wait) and the caller's (1, bridge).

Each step is one service call from a thin handler in `warmline.web.voice`; the URLs carry ids
only (`ring`, `callback`, `attempt`), never a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from warmline.domain.numbers import parse_id
from warmline.models import CallbackAttempt, CallbackRequest, Line
from warmline.routing.results import LapseReason
from warmline.runtime import Runtime
from warmline.services.callbacks import placing as callbacks
from warmline.services.callbacks.placing import AttemptState
from warmline.services.voice.common import PEER_LEG_LAPSES, experience_label
from warmline.services.voice.gather import GatherStep
from warmline.telephony.gateway import ENDED_CALL_STATUSES
from warmline.voice import callback_twiml, questions, twiml
from warmline.voice.callback_state import CallbackState
from warmline.voice.forms import CallForm
from warmline.voice.gathering import ask
from warmline.voice.prompts import text
from warmline.voice.state import CallState

ACCEPT_DIGIT = "1"


def _callback_id(raw: str) -> int:
    return parse_id(raw) or 0


def _request(runtime: Runtime, callback_id: int) -> tuple[str, str | None, bool]:
    """Language, experience key and may-leave-message of a request (defaults if gone)."""
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        if request is None:
            return "en", None, False
        return request.language, request.experience_key, request.may_leave_message


def _attempt_request(runtime: Runtime, attempt_id: str) -> tuple[str, bool]:
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        request = session.get(CallbackRequest, attempt.callback_id) if attempt else None
        if request is None:
            return "en", False
        line = session.get(Line, request.line_id)
        language = request.language or (line.default_language if line else "en")
        return language, request.may_leave_message


# The peer's leg ---------------------------------------------------------------------------


def _peer_leg_language(runtime: Runtime, leg_id: str, fallback: str) -> str:
    """The peer's own language (kept when their ring started), else the request's."""
    return CallbackState(runtime.redis).peer_language(leg_id) or fallback


def handle_peer_answer(runtime: Runtime, ring_id: str, callback: str, form: CallForm,
                       now: datetime) -> str:
    callback_id = _callback_id(callback)
    language = _peer_leg_language(runtime, ring_id, _request(runtime, callback_id)[0])
    if form.answered_by_machine:
        # The peer's voicemail: say nothing; the ring goes back to routing.
        callbacks.peer_declined_or_missed(runtime, ring_id, callback_id, LapseReason.NO_ANSWER, now)
        return twiml.hang_up_with(language)
    return peer_whisper(ring_id, callback_id, language)


@dataclass(frozen=True)
class CallbackRing:
    """A peer's leg at a callback's whisper."""

    ring_id: str
    callback_id: int
    language: str
    experience: str | None


def _load_ring(runtime: Runtime, query: Mapping[str, str], now: datetime) -> CallbackRing:
    callback_id = _callback_id(query.get("callback", ""))
    language, experience, _ = _request(runtime, callback_id)
    ring_id = query.get("ring", "")
    return CallbackRing(ring_id, callback_id, _peer_leg_language(runtime, ring_id, language),
                        experience)


def _peer_accepts(runtime: Runtime, ring: CallbackRing, form: CallForm, now: datetime) -> str:
    ring_id, callback_id, language = ring.ring_id, ring.callback_id, ring.language
    attempt_id = CallbackState(runtime.redis).ring_attempt(ring_id)
    if attempt_id is None:
        peer_id = callbacks.accept_ring(runtime, ring_id, callback_id, now)
        if peer_id is not None:
            attempt_id = callbacks.record_attempt(runtime, ring_id, callback_id, peer_id=peer_id,
                                                  peer_call_sid=form.call_sid, now=now)
    if attempt_id is None:
        return twiml.hang_up_with(language, text(language, "peer_already_helped"))
    CallbackState(runtime.redis).set_peer_language(attempt_id, language)
    with runtime.sessions() as session:
        label = experience_label(session, ring.experience, language)
    words = text(language, "peer_callback_connecting", experience=label)
    return callback_twiml.peer_waits(attempt_id, language, words)


def _peer_declines(runtime: Runtime, ring: CallbackRing, sorry: str, now: datetime) -> str:
    callbacks.peer_declined_or_missed(runtime, ring.ring_id, ring.callback_id,
                                      LapseReason.DECLINED, now)
    return twiml.hang_up_with(ring.language, text(ring.language, "peer_declined"))


def peer_whisper(ring_id: str, callback_id: int, language: str, sorry: str | None = None) -> str:
    spoken = [sorry] if sorry else []
    spoken.append(text(language, "peer_callback_whisper"))
    return ask(questions.CALLBACK_PEER_WHISPER, language, spoken,
               {"ring": ring_id, "callback": str(callback_id)})


PEER_WHISPER_STEP: GatherStep[CallbackRing] = GatherStep(
    prompt=questions.CALLBACK_PEER_WHISPER, load=_load_ring, language=lambda ring: ring.language,
    accepts=lambda ring, digits: digits == ACCEPT_DIGIT, answer=_peer_accepts,
    move_on=_peer_declines,
    ask_again=lambda runtime, ring, sorry: peer_whisper(ring.ring_id, ring.callback_id,
                                                        ring.language, sorry),
    gone=lambda: twiml.hang_up_with("en"),
)


def handle_peer_status(runtime: Runtime, ring_id: str, callback: str, form: CallForm,
                       now: datetime) -> None:
    if form.sequence_number is not None and not CallState(runtime.redis).is_newer_event(
            form.call_sid, form.sequence_number):
        return
    reason = PEER_LEG_LAPSES.get(form.call_status)
    if reason is None:
        return
    callback_id = _callback_id(callback)
    attempt_id = CallbackState(runtime.redis).ring_attempt(ring_id)
    if attempt_id is None:
        callbacks.peer_declined_or_missed(runtime, ring_id, callback_id, reason, now)
        return
    # The peer's phone hung up after the 1: whatever the caller's leg did decides the end.
    if callbacks.attempt_state(runtime, attempt_id) == AttemptState.BRIDGED:
        callbacks.attempt_connected(runtime, attempt_id, now)
    else:
        callbacks.attempt_missed(runtime, attempt_id, now, why="peer_left")


def handle_peer_wait(runtime: Runtime, attempt_id: str, form: CallForm, now: datetime) -> str:
    """One round of the peer's wait: leave the queue once the caller's attempt is missed."""
    language = _peer_leg_language(runtime, attempt_id, _attempt_request(runtime, attempt_id)[0])
    state = callbacks.attempt_state(runtime, attempt_id)
    if state in (None, AttemptState.MISSED, AttemptState.CONNECTED):
        return twiml.leave_queue()
    callbacks.start_calling_caller(runtime, attempt_id)
    first = (form.queue_time or 0) == 0
    return callback_twiml.peer_wait_round(
        language, None if first else text(language, "peer_callback_waiting"))


def handle_peer_done(runtime: Runtime, attempt_id: str, form: CallForm, now: datetime) -> str:
    """The peer's <Enqueue> ended: bridged and over, left (the caller missed), or hung up."""
    language = _peer_leg_language(runtime, attempt_id, _attempt_request(runtime, attempt_id)[0])
    if form.queue_result == "bridged" or callbacks.attempt_state(
            runtime, attempt_id) in (AttemptState.BRIDGED, AttemptState.CONNECTED):
        callbacks.attempt_connected(runtime, attempt_id, now)
        return twiml.hang_up_with(language, text(language, "peer_callback_ended"))
    if form.queue_result in ("hangup", "system-error", "error"):
        callbacks.attempt_missed(runtime, attempt_id, now, why="peer_left")
        return twiml.hang_up_with(language)
    callbacks.attempt_missed(runtime, attempt_id, now, why="no_answer")
    return twiml.hang_up_with(language, text(language, "peer_callback_missed"))


# The caller's leg -------------------------------------------------------------------------


def handle_caller_answer(runtime: Runtime, attempt_id: str, form: CallForm, now: datetime) -> str:
    language, may_leave_message = _attempt_request(runtime, attempt_id)
    if form.call_sid:
        callbacks.adopt_caller_call(runtime, attempt_id, form.call_sid)
    if form.answered_by_machine:
        # Detection only ends the attempt early; words only if the caller allowed a message.
        callbacks.attempt_missed(runtime, attempt_id, now, why="voicemail")
        if may_leave_message:
            return twiml.hang_up_with(language, text(language, "callback_voicemail"))
        return twiml.hang_up_with(language)
    return caller_question(attempt_id, language)


def caller_question(attempt_id: str, language: str, sorry: str | None = None) -> str:
    """Nothing identifying until the answerer presses 1: it may be someone else's ear."""
    spoken = [sorry] if sorry else []
    spoken.append(text(language, "callback_caller_prompt"))
    return ask(questions.CALLBACK_CALLER_CONFIRM, language, spoken, {"attempt": attempt_id})


@dataclass(frozen=True)
class CallbackAnswerer:
    """Whoever answered the caller's leg of a callback."""

    attempt_id: str
    language: str


def _load_answerer(runtime: Runtime, query: Mapping[str, str], now: datetime) -> CallbackAnswerer:
    attempt_id = query.get("attempt", "")
    return CallbackAnswerer(attempt_id, _attempt_request(runtime, attempt_id)[0])


def _caller_confirms(runtime: Runtime, answerer: CallbackAnswerer, form: CallForm,
                     now: datetime) -> str:
    if not callbacks.caller_confirmed(runtime, answerer.attempt_id, now):
        return twiml.hang_up_with(answerer.language,
                                  text(answerer.language, "callback_caller_sorry"))
    return callback_twiml.bridge_to_peer(answerer.attempt_id)


def _not_confirmed(runtime: Runtime, answerer: CallbackAnswerer, sorry: str,
                   now: datetime) -> str:
    # Whoever answered did not ask for this (or cannot say): nothing identifying, just goodbye.
    callbacks.attempt_missed(runtime, answerer.attempt_id, now, why="not_confirmed")
    return twiml.hang_up_with(answerer.language, text(answerer.language, "goodbye"))


CALLER_CONFIRM_STEP: GatherStep[CallbackAnswerer] = GatherStep(
    prompt=questions.CALLBACK_CALLER_CONFIRM, load=_load_answerer,
    language=lambda answerer: answerer.language,
    accepts=lambda answerer, digits: digits == ACCEPT_DIGIT, answer=_caller_confirms,
    move_on=_not_confirmed,
    ask_again=lambda runtime, answerer, sorry: caller_question(answerer.attempt_id,
                                                               answerer.language, sorry),
    gone=lambda: twiml.hang_up_with("en"),
)


def handle_caller_done(runtime: Runtime, attempt_id: str, form: CallForm, now: datetime) -> str:
    language, _ = _attempt_request(runtime, attempt_id)
    callbacks.attempt_connected(runtime, attempt_id, now, form.dial_call_duration)
    return twiml.hang_up_with(language, text(language, "goodbye"))


def handle_caller_status(runtime: Runtime, attempt_id: str, form: CallForm, now: datetime) -> None:
    if form.call_sid:
        callbacks.adopt_caller_call(runtime, attempt_id, form.call_sid)
    if form.sequence_number is not None and not CallState(runtime.redis).is_newer_event(
            form.call_sid, form.sequence_number):
        return
    if form.call_status not in ENDED_CALL_STATUSES:
        return
    if callbacks.attempt_state(runtime, attempt_id) == AttemptState.BRIDGED:
        callbacks.attempt_connected(runtime, attempt_id, now)
    else:
        callbacks.attempt_missed(runtime, attempt_id, now, why=form.call_status or "ended")
