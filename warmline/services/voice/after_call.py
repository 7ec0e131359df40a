"""After the call, when the peer hung up first: a word instead of silence, one anonymous keypad
question (on lines with `survey`), then the line's resources by text on a yes (lines with
`resources`).

The answer is counted, never stored with the call (`warmline.services.survey_tallies`). The
caller's number is read from the request that asks for the text, used for that one text and
never written anywhere: no job, no row, no key.
"""

from __future__ import annotations

import logging
from datetime import datetime

from warmline.domain.phone import is_withheld
from warmline.runtime import Runtime
from warmline.services.survey_tallies import SCORES, record_answer
from warmline.services.voice.common import CallContext, goodbye, load_contact_call
from warmline.services.voice.gather import GatherStep
from warmline.telephony.gateway import TelephonyError
from warmline.voice import questions, twiml, urls
from warmline.voice.forms import CallForm
from warmline.voice.gathering import ask
from warmline.voice.prompts import text
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

WANTS_RESOURCES_DIGIT = "1"
SMS_STATUS_PATH = "/twilio/sms/status"
SURVEY_STEP_NAME, RESOURCES_STEP_NAME = "survey", "resources"


def resources_for(call: CallContext) -> str | None:
    """The line's resources in the caller's language (or the line's first), if it has any."""
    resources = call.line.resources or {}
    return resources.get(call.language) or resources.get(call.line.default_language) or None


def _offers_resources(call: CallContext, caller_number: str) -> bool:
    return resources_for(call) is not None and not is_withheld(caller_number)


def word_after(call: CallContext, caller_number: str) -> str:
    """What a caller hears when their peer hung up first."""
    language = call.language
    ended = text(language, "peer_ended_call")
    if call.line.survey:
        return _survey_question(call, [ended])
    if _offers_resources(call, caller_number):
        return _resources_question(call, [ended])
    return twiml.hang_up_with(language, ended, text(language, "goodbye"))


def _survey_question(call: CallContext, before: list[str]) -> str:
    spoken = [*before, text(call.language, "survey_question")]
    return ask(questions.SURVEY, call.language, spoken, {"contact": call.contact.id})


def _resources_question(call: CallContext, before: list[str]) -> str:
    spoken = [*before, text(call.language, "resources_offer")]
    return ask(questions.RESOURCES, call.language, spoken, {"contact": call.contact.id})


def _after_survey(call: CallContext, form: CallForm, before: list[str]) -> str:
    if _offers_resources(call, form.from_number):
        return _resources_question(call, before)
    return twiml.hang_up_with(call.language, *before, text(call.language, "goodbye"))


def _survey_answer(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    if CallState(runtime.redis).claim_after_call(call.contact.id, SURVEY_STEP_NAME):
        record_answer(runtime, call.line, int(form.digits), now)
    return _after_survey(call, form, [text(call.language, "survey_thanks")])


SURVEY_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.SURVEY, load=load_contact_call, language=lambda call: call.language,
    accepts=lambda call, digits: digits.isdigit() and int(digits) in SCORES,
    answer=_survey_answer,
    # Not answering is an answer too: nothing is counted, and the call goes on.
    move_on=lambda runtime, call, sorry, now: _after_survey_unanswered(call, sorry),
    ask_again=lambda runtime, call, sorry: _survey_question(call, [sorry]),
    gone=lambda: goodbye("en"),
)


def _after_survey_unanswered(call: CallContext, sorry: str) -> str:
    # The bound's step has no caller number to check for a withheld one: the resources are
    # offered, and a withheld caller who says yes hears that the text could not be sent.
    if resources_for(call) is not None:
        return _resources_question(call, [sorry])
    return twiml.hang_up_with(call.language, sorry, text(call.language, "goodbye"))


def _send_resources(runtime: Runtime, call: CallContext, form: CallForm, now: datetime) -> str:
    language = call.language
    body = resources_for(call)
    if body is None or is_withheld(form.from_number):
        return twiml.hang_up_with(language, text(language, "resources_not_sent"),
                                  text(language, "goodbye"))
    if CallState(runtime.redis).claim_after_call(call.contact.id, RESOURCES_STEP_NAME):
        try:
            runtime.twilio.send_message(
                to=form.from_number, from_=call.line.number, body=body,
                status_callback=urls.absolute(runtime.settings.public_url, SMS_STATUS_PATH))
        except TelephonyError as exc:
            log.warning("could not text the resources of contact %s (%s)", call.contact.id,
                        exc.code)
            return twiml.hang_up_with(language, text(language, "resources_not_sent"),
                                      text(language, "goodbye"))
    return twiml.hang_up_with(language, text(language, "resources_sent"),
                              text(language, "goodbye"))


RESOURCES_STEP: GatherStep[CallContext] = GatherStep(
    prompt=questions.RESOURCES, load=load_contact_call, language=lambda call: call.language,
    accepts=lambda call, digits: digits == WANTS_RESOURCES_DIGIT,
    answer=_send_resources,
    move_on=lambda runtime, call, sorry, now: twiml.hang_up_with(
        call.language, sorry, text(call.language, "goodbye")),
    ask_again=lambda runtime, call, sorry: _resources_question(call, [sorry]),
    gone=lambda: goodbye("en"),
)
