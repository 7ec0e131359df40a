"""After the call: when the peer hangs up first, one anonymous question and the resources by text."""

from __future__ import annotations

import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from tests.support.privacy import LogCapture, assert_nowhere, number_forms
from tests.support.services import TEST_AUTH_TOKEN
from warmline.models import SurveyTally
from warmline.voice import urls

CALLER = "+15005550006"
RESOURCES = "Test Warmline resources: example.org/resources. 988 any time."
AFTER_CALL = ROSTER.replace("    daily_contact_limit: 3\n", f"""    daily_contact_limit: 3
    survey: true
    resources:
      en: "{RESOURCES}"
""")
SURVEY_QUESTION = "How heard did you feel today?"
RESOURCES_QUESTION = "To get a text from us with some resources, press 1."


def _bridged(live: LiveWarmline, roster: str, press: dict[str, str]):  # type: ignore[no-untyped-def]
    live.import_roster(roster)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    caller = live.standin.caller(CALLER, press={"For Substance use recovery": "1", **press})
    call = caller.dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    return caller, call, sam.rang()[0], sam_id


def _tallies(live: LiveWarmline) -> list[tuple[int, int]]:
    with live.runtime.sessions() as session:
        return [(t.score, t.answers) for t in session.scalars(select(SurveyTally))]


def _texts_to_caller(live: LiveWarmline) -> list[str]:
    return [e.data["body"] for e in live.standin.events("rest_message_created")
            if e.data["to"] == CALLER]


def _replay(live: LiveWarmline, path: str, contact_id: str, digits: str, call_sid: str) -> None:
    """A retry of the answer, as Twilio might send it: signed, with the same digits."""
    url = urls.absolute(live.url, path, contact=contact_id)
    form = {"CallSid": call_sid, "From": CALLER, "To": LINE, "Digits": digits,
            "CallStatus": "in-progress"}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert answer.status_code == 200 and "<Response" in answer.text


def test_the_peer_hangs_up_first_the_caller_answers_and_gets_the_resources_once(
    live: LiveWarmline, logs: LogCapture,
) -> None:
    caller, call, ring, sam_id = _bridged(live, AFTER_CALL, {SURVEY_QUESTION: "4",
                                                             RESOURCES_QUESTION: "1"})
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call.", timeout=60)
    call.wait_until_heard("Thank you for telling us.", timeout=60)
    call.wait_until_heard("We'll text them to you now", timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    text = caller.wait_for_text("example.org/resources", timeout=60)
    assert text.from_ == LINE and text.body == RESOURCES
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
    assert _tallies(live) == [(4, 1)]

    # Twilio's retries of either answer neither count it again nor text again.
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    _replay(live, urls.SURVEY_ANSWER, contact.id, "4", call.sid)
    _replay(live, urls.RESOURCES_ANSWER, contact.id, "1", call.sid)
    assert _tallies(live) == [(4, 1)]
    assert _texts_to_caller(live) == [RESOURCES]

    # The number was used for that one text and kept nowhere, not even encrypted: no log line
    # (the answers' webhooks, the text's status callbacks), no job, no row, no Redis key.
    live.wait_for(lambda: live.standin.net.callbacks_in_flight() == 0, timeout=60)
    assert [line for line in logs.lines if urls.SURVEY_ANSWER in line]
    assert [line for line in logs.lines if urls.RESOURCES_ANSWER in line]
    assert_nowhere(live.runtime, logs, number_forms(CALLER), decrypt=True)


def test_silence_counts_nothing_and_sends_nothing(live: LiveWarmline) -> None:
    _caller, call, ring, _sam_id = _bridged(live, AFTER_CALL, {})
    ring.hang_up()
    call.wait_until_heard(SURVEY_QUESTION, timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    assert call.heard[-1] == "Thank you for calling. Take care."
    assert _tallies(live) == []
    assert _texts_to_caller(live) == []


def test_a_caller_who_hangs_up_first_is_asked_nothing(live: LiveWarmline) -> None:
    _caller, call, ring, _sam_id = _bridged(live, AFTER_CALL, {})
    call.hang_up()
    ring.wait_until_heard("The call has ended", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    assert not any(SURVEY_QUESTION in words for words in call.heard)
    assert not [e for e in live.standin.events("webhook")
                if urls.SURVEY_ANSWER in e.data["url"]]


def test_a_line_without_survey_or_resources_says_goodbye(live: LiveWarmline) -> None:
    _caller, call, ring, _sam_id = _bridged(live, ROSTER, {})
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call.", timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    assert call.heard[-1] == "Thank you for calling. Take care."
    assert not any(SURVEY_QUESTION in words for words in call.heard)
