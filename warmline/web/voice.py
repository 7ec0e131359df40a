"""Twilio's voice webhooks: verify the signature, parse, call one service, answer TwiML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from warmline.clock import utc_now
from warmline.runtime import Runtime
from warmline.services.callbacks import calls as callbacks_voice
from warmline.services.voice import after_call, callback_intake
from warmline.services.voice import arrival as voice_arrival
from warmline.services.voice import conference as voice_conference
from warmline.services.voice import keypad as voice_keypad
from warmline.services.voice import peer as voice_peer
from warmline.services.voice import wait as voice_wait
from warmline.services.voice.backup_route import backup_routes
from warmline.services.voice.common import degraded_answer
from warmline.services.voice.gather import GatherStep, run_gather
from warmline.voice import twiml, urls
from warmline.voice.forms import CallForm
from warmline.web.context import current_runtime
from warmline.web.twilio_guard import webhook_from_twilio

bp = Blueprint("twilio_voice", __name__)

Step = Callable[[Runtime, str, CallForm, datetime], str]


def _backup() -> str:
    """Answers without Redis or SQL: the last-known backup route of the line called."""
    return degraded_answer(backup_routes.route_for(request.form.get("To", "")))


def _form() -> CallForm:
    return CallForm.parse(request.form.to_dict())


def _empty() -> str:
    return twiml.empty()


def _contact_step(path: str, step: Step, query_key: str = "contact") -> None:
    """Register a step of a call that Twilio requests with ?contact=ID (or ?offer=ID)."""

    @webhook_from_twilio(on_failure=_backup)
    def handler() -> str:
        return step(current_runtime(), request.args.get(query_key, ""), _form(), utc_now())

    handler.__name__ = "step_" + path.strip("/").replace("/", "_").replace("-", "_")
    bp.add_url_rule(path, view_func=handler, methods=["POST"])


@bp.post(urls.INCOMING)
@webhook_from_twilio(on_failure=_backup)
def incoming_call() -> str:
    return voice_arrival.handle_incoming_call(current_runtime(), _form(), utc_now())


@bp.post(urls.FALLBACK)
@webhook_from_twilio(on_failure=_backup)
def fallback() -> str:
    # Twilio calls this when the primary URL failed: answer only from memory.
    return _backup()


@bp.post(urls.INBOUND_STATUS)
@webhook_from_twilio(on_failure=_empty)
def inbound_status() -> str:
    voice_wait.handle_inbound_status(current_runtime(), _form(), utc_now())
    return _empty()


@bp.post(urls.PEER_STATUS)
@webhook_from_twilio(on_failure=_empty)
def peer_status() -> str:
    voice_peer.handle_peer_status(current_runtime(), request.args.get("offer", ""), _form(), utc_now())
    return _empty()


def _leave_queue() -> str:
    """The wait step's failure answer: the caller leaves the queue, so Twilio requests the
    Enqueue's action (queue-done), which routes them on (or answers the backup route)."""
    return twiml.leave_queue()


@bp.post(urls.WAIT)
@webhook_from_twilio(on_failure=_leave_queue)
def wait() -> str:
    runtime = current_runtime()
    return voice_wait.handle_wait(runtime, request.args.get("contact", ""), _form(), utc_now(),
                                  public_url=runtime.settings.public_url)


# Every keypad answer goes through one driver, which bounds every question alike.
GATHER_STEPS: tuple[GatherStep[Any], ...] = (
    voice_arrival.LANGUAGE_STEP,
    voice_arrival.MENU_STEP,
    voice_arrival.CLOSED_STEP,
    voice_arrival.RECONNECT_STEP,
    voice_wait.HOLD_STEP,
    voice_wait.DEADLINE_STEP,
    callback_intake.CONFIRM_STEP,
    callback_intake.NUMBER_STEP,
    callback_intake.WINDOW_STEP,
    callback_intake.MESSAGE_STEP,
    voice_peer.PEER_WHISPER_STEP,
    callbacks_voice.PEER_WHISPER_STEP,
    callbacks_voice.CALLER_CONFIRM_STEP,
    after_call.SURVEY_STEP,
    after_call.RESOURCES_STEP,
    voice_keypad.KEYPAD_STEP,
)
# The callback peer's leg answers an empty document on failure (as its other steps do); so does
# the peer's keypad (never the backup route: a peer is not a caller).
_QUIET_FAILURE = frozenset({callbacks_voice.PEER_WHISPER_STEP.prompt.name,
                            voice_keypad.KEYPAD_STEP.prompt.name})


def _gather_step(step: GatherStep[Any]) -> None:
    on_failure = _empty if step.prompt.name in _QUIET_FAILURE else _backup

    @webhook_from_twilio(on_failure=on_failure)
    def handler() -> str:
        return run_gather(step, current_runtime(), request.args.to_dict(), _form(), utc_now())

    handler.__name__ = "gather_" + step.prompt.name
    bp.add_url_rule(step.prompt.path, view_func=handler, methods=["POST"])


for _gather in GATHER_STEPS:
    _gather_step(_gather)
_contact_step(urls.QUEUE_DONE, voice_wait.handle_queue_done)
_contact_step(urls.CONFERENCE_CALLER_JOIN, voice_conference.handle_caller_join)
_contact_step(urls.CONFERENCE_CALLER_DONE, voice_conference.handle_caller_done)


@bp.post(urls.CONFERENCE_STATUS)
@webhook_from_twilio(on_failure=_empty)
def conference_status() -> str:
    voice_conference.handle_conference_status(current_runtime(), request.args.get("contact", ""),
                                              request.form.to_dict(), utc_now())
    return _empty()


@bp.post(urls.TRANSFER_STATUS)
@webhook_from_twilio(on_failure=_empty)
def transfer_status() -> str:
    voice_conference.handle_transfer_status(current_runtime(), request.args.get("contact", ""),
                                            _form(), utc_now())
    return _empty()


@bp.post(urls.CONFERENCE_ANNOUNCE)
@webhook_from_twilio(on_failure=_empty)
def conference_announce() -> str:
    return voice_conference.handle_announcement(current_runtime(), request.args.get("contact", ""),
                                                request.args.get("what", ""))


_OFFER_STEPS: tuple[tuple[str, Step], ...] = (
    (urls.PEER_ANSWER, voice_peer.handle_peer_answer),
    (urls.PEER_DIAL_DONE, voice_keypad.handle_peer_dial_done),
)
for _path, _step in _OFFER_STEPS:
    _contact_step(_path, _step, query_key="offer")


# Callbacks: the peer's leg by ?ring=&callback=, the caller's by ?attempt=.
CallbackPeerStep = Callable[[Runtime, str, str, CallForm, datetime], str]


def _callback_peer_step(path: str, step: CallbackPeerStep) -> None:
    @webhook_from_twilio(on_failure=_empty)
    def handler() -> str:
        return step(current_runtime(), request.args.get("ring", ""),
                    request.args.get("callback", ""), _form(), utc_now())

    handler.__name__ = "step_" + path.strip("/").replace("/", "_").replace("-", "_")
    bp.add_url_rule(path, view_func=handler, methods=["POST"])


@bp.post(urls.CALLBACK_PEER_STATUS)
@webhook_from_twilio(on_failure=_empty)
def callback_peer_status() -> str:
    callbacks_voice.handle_peer_status(current_runtime(), request.args.get("ring", ""),
                                       request.args.get("callback", ""), _form(), utc_now())
    return _empty()


@bp.post(urls.CALLBACK_CALLER_STATUS)
@webhook_from_twilio(on_failure=_empty)
def callback_caller_status() -> str:
    callbacks_voice.handle_caller_status(current_runtime(), request.args.get("attempt", ""),
                                         _form(), utc_now())
    return _empty()


_callback_peer_step(urls.CALLBACK_PEER_ANSWER, callbacks_voice.handle_peer_answer)
for _path, _step in (
    (urls.CALLBACK_PEER_WAIT, callbacks_voice.handle_peer_wait),
    (urls.CALLBACK_PEER_DONE, callbacks_voice.handle_peer_done),
    (urls.CALLBACK_CALLER_ANSWER, callbacks_voice.handle_caller_answer),
    (urls.CALLBACK_CALLER_DONE, callbacks_voice.handle_caller_done),
):
    _contact_step(_path, _step, query_key="attempt")
# End of callbacks.


def hold_audio() -> Response:
    """Hold audio for the wait loop (a soft tone pattern, generated: no third-party asset)."""
    from warmline.voice.hold_audio import hold_wav  # noqa: PLC0415 - made on first use

    return Response(hold_wav(), mimetype="audio/wav",
                    headers={"Cache-Control": "public, max-age=86400"})


bp.add_url_rule(urls.HOLD_AUDIO, view_func=hold_audio, methods=["GET"])
