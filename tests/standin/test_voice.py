"""Voice verbs one by one, Twilio's fallback behaviour, and schema checking of answers."""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.support.twiml_app import CALLER, LINE, SPEED, Answer, Handler, TwimlApp
from warmline.standin import PhoneCall, Standin


def dial(standin: Standin, twiml: TwimlApp, doc: Answer | Handler, **number: str) -> PhoneCall:
    standin.add_number(LINE, voice_url=twiml.on("/voice", doc), **number)
    return standin.caller(CALLER).dial(LINE)


def test_say_play_pause_in_order_with_timing(standin: Standin, twiml: TwimlApp) -> None:
    call = dial(standin, twiml, "<Response><Say>One</Say><Play>/hold.mp3</Play>"
                                "<Pause length='10'/><Say loop='2'>Two</Say></Response>")
    started = time.monotonic()
    call.wait_until_heard("Two")
    elapsed = time.monotonic() - started
    assert call.wait_until_ended() == "completed"
    assert call.heard == ["One", twiml.url + "/hold.mp3", "Two", "Two"]
    assert elapsed >= 10 / SPEED  # the pause took its (compressed) time


def test_gather_digits_go_to_action(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/menu", "<Response><Say>You chose</Say></Response>")
    call = dial(standin, twiml, "<Response><Gather action='/menu' numDigits='2'>"
                                "<Say>Press two keys</Say></Gather><Say>No input</Say></Response>")
    call.wait_until_heard("Press two keys")
    call.press("42")
    call.wait_until_heard("You chose")
    form = twiml.requests("/menu")[0].form
    assert form["Digits"] == "42" and form["CallStatus"] == "in-progress"
    assert "No input" not in call.heard


def test_gather_finish_on_key_and_same_url_default(standin: Standin, twiml: TwimlApp) -> None:
    def voice(form: dict[str, str]) -> str:
        if "Digits" in form:
            return f"<Response><Say>Got {form['Digits']}</Say></Response>"
        return "<Response><Gather finishOnKey='*'><Say>Enter then star</Say></Gather></Response>"

    standin.add_number(LINE, voice_url=twiml.on("/voice", voice))
    call = standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("Enter then star")
    call.press("123*")
    assert call.wait_until_heard("Got") == "Got 123"
    again = twiml.requests("/voice")[1].form
    assert again["FinishedOnKey"] == "*" and again["Digits"] == "123"


def test_gather_falls_through_on_no_input(standin: Standin, twiml: TwimlApp) -> None:
    call = dial(standin, twiml, "<Response><Gather action='/never' timeout='3'><Say>Choose"
                                "</Say></Gather><Say>Nothing chosen</Say></Response>")
    call.wait_until_heard("Nothing chosen", timeout=60)
    assert twiml.requests("/never") == []


def test_digits_outside_a_gather_are_ignored(standin: Standin, twiml: TwimlApp) -> None:
    call = dial(standin, twiml, "<Response><Say>Just listen to this</Say><Gather timeout='1' "
                                "action='/g'/><Say>Done</Say></Response>")
    call.wait_until_heard("Just listen")
    call.press("5")
    call.wait_until_heard("Done", timeout=60)
    assert twiml.requests("/g") == []


def test_redirect_and_hangup(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/two", "<Response><Say>Page two</Say><Hangup/><Say>Never</Say></Response>")
    call = dial(standin, twiml, "<Response><Redirect>/two</Redirect><Say>Never</Say></Response>")
    assert call.wait_until_ended() == "completed"
    assert call.heard == ["Page two"]


@pytest.mark.parametrize(("reason", "status"), [("busy", "busy"), ("rejected", "no-answer")])
def test_reject_never_answers(standin: Standin, twiml: TwimlApp, reason: str,
                              status: str) -> None:
    hook = twiml.on("/status", "")
    call = dial(standin, twiml, f"<Response><Reject reason='{reason}'/></Response>",
                status_callback=hook)
    assert call.wait_until_ended() == status
    assert call.leg.answered_mono is None
    assert twiml.wait_for("/status")[0].form["CallStatus"] == status


def test_caller_hang_up_is_seen_by_the_number_status_callback(standin: Standin,
                                                              twiml: TwimlApp) -> None:
    hook = twiml.on("/status", "")
    call = dial(standin, twiml, "<Response><Gather><Say>Menu</Say></Gather></Response>",
                status_callback=hook)
    call.wait_until_heard("Menu")
    call.hang_up()
    form = twiml.wait_for("/status")[0].form
    assert form["CallStatus"] == "completed" and form["CallSid"] == call.sid


def test_slow_answer_goes_to_the_fallback_url(standin: Standin, twiml: TwimlApp) -> None:
    """An answer slower than the webhook deadline (wall seconds: the app's time is never
    compressed) goes to the fallback URL, as Twilio's 15 s do."""
    impatient = dataclasses.replace(standin.config, webhook_deadline=0.5)
    standin.config = standin.net.config = impatient  # a short deadline keeps this test quick

    def slow(_form: dict[str, str]) -> str:
        time.sleep(1.0)
        return "<Response><Say>Too late</Say></Response>"

    twiml.on("/fallback", "<Response><Say>Backup route</Say></Response>")
    # The slow answer is in place before the call rings (the stand-in asks at once).
    call = dial(standin, twiml, slow, voice_fallback_url=twiml.url + "/fallback")
    call.wait_until_heard("Backup route", timeout=60)
    form = twiml.requests("/fallback")[0].form
    assert form["ErrorCode"] == "11205" and form["ErrorUrl"] == twiml.url + "/voice"
    assert "Too late" not in call.heard
    failed = standin.events("webhook_failed")[0]
    assert failed.data["problem"] == "timeout"
    assert standin.events("fallback_used")


@pytest.mark.parametrize(("answer", "code"), [
    (("oops", 500), "11200"),
    (("this is not xml", 200), "12100"),
    (("<Html/>", 200), "12100"),
    (("<Response/>", 200, "application/json"), "12300"),
])
def test_bad_answers_use_the_fallback(standin: Standin, twiml: TwimlApp,
                                      answer: tuple[str, int], code: str) -> None:
    twiml.on("/fallback", "<Response><Say>Backup route</Say></Response>")
    # The bad answer is in place before the call starts, so the first request already gets it.
    standin.add_number(LINE, voice_url=twiml.on("/voice", answer),
                       voice_fallback_url=twiml.url + "/fallback")
    call = standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("Backup route")
    assert twiml.requests("/fallback")[0].form["ErrorCode"] == code


def test_without_fallback_an_application_error_is_said(standin: Standin,
                                                        twiml: TwimlApp) -> None:
    call = dial(standin, twiml, ("boom", 500))
    call.wait_until_heard("application error")
    assert call.wait_until_ended() == "completed"
    assert standin.record.counters["application_errors"] == 1


def test_schema_failure_is_recorded_and_counted(standin: Standin, twiml: TwimlApp) -> None:
    if standin.net.schema.path is None:
        pytest.skip("unchecked: the TwiML schema is not beside this clone")
    call = dial(standin, twiml, "<Response><Say voice='robot-9000'>Odd</Say><Bogus/></Response>")
    call.wait_until_ended()
    assert standin.schema_failures == 1
    failure = standin.events("schema_failure")[0]
    assert failure.data["url"] == twiml.url + "/voice" and failure.data["reason"]
    assert standin.events("verb_unsupported")[0].data["verb"] == "Bogus"


def test_valid_twiml_is_not_a_schema_failure(standin: Standin, twiml: TwimlApp) -> None:
    call = dial(standin, twiml, "<Response><Say voice='alice'>Fine</Say><Pause/></Response>")
    call.wait_until_ended()
    assert standin.schema_failures == 0
