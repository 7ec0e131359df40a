"""Twilio's messaging webhooks: verify the signature, parse, call one service, answer TwiML."""

from __future__ import annotations

from flask import Blueprint, request

from warmline.catalogs import SOURCE_LANGUAGE
from warmline.clock import utc_now
from warmline.services.texts import conversation as texts_conversation
from warmline.services.texts import inbound as texts
from warmline.telephony import messaging_twiml
from warmline.texts import words
from warmline.texts.forms import StatusForm, TextForm
from warmline.voice import urls
from warmline.web.context import current_runtime
from warmline.web.twilio_guard import webhook_from_twilio

bp = Blueprint("twilio_sms", __name__)

STATUS = texts_conversation.STATUS_PATH
# Without Redis or SQL the line (and so its language) is unknown: the source language answers.
DEGRADED_REPLY = words.with_crisis_numbers(SOURCE_LANGUAGE, words.reply(SOURCE_LANGUAGE, "text_degraded"))


def _degraded() -> str:
    """Answers without Redis or SQL: the texter is never left with silence."""
    return messaging_twiml.reply(DEGRADED_REPLY)


@bp.post(urls.SMS_INCOMING)
@webhook_from_twilio(on_failure=_degraded)
def incoming_text() -> str:
    return texts.handle_incoming_text(current_runtime(), TextForm.parse(request.form.to_dict()),
                                      utc_now())


@bp.post(STATUS)
@webhook_from_twilio(on_failure=messaging_twiml.empty)
def message_status() -> str:
    form = StatusForm.parse(request.form.to_dict())
    texts_conversation.handle_status(
        current_runtime(), request.args.get("contact", ""), request.args.get("seq", ""),
        status=form.status, error_code=form.error_code, now=utc_now())
    return messaging_twiml.empty()
