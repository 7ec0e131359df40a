"""The shortest path through the stand-in: a caller dials a line and hears a greeting."""

from tests.support.twiml_app import CALLER, LINE, TwimlApp
from warmline.standin import Standin


def test_caller_hears_say_and_call_completes(standin: Standin, twiml: TwimlApp) -> None:
    url = twiml.on("/voice", "<Response><Say>Welcome to the warmline</Say></Response>")
    standin.add_number(LINE, voice_url=url)
    call = standin.caller(CALLER).dial(LINE)
    assert "Welcome" in call.wait_until_heard("Welcome")
    assert call.wait_until_ended() == "completed"
    seen = twiml.requests("/voice")[0]
    assert seen.form["From"] == CALLER and seen.form["To"] == LINE
    assert seen.form["CallStatus"] == "ringing" and seen.form["Direction"] == "inbound"


def test_record_holds_webhooks_with_answers_and_timing(standin: Standin,
                                                       twiml: TwimlApp) -> None:
    url = twiml.on("/voice", "<Response><Say>Hi</Say></Response>")
    standin.add_number(LINE, voice_url=url)
    call = standin.caller(CALLER).dial(LINE)
    call.wait_until_ended()
    hook = standin.events("webhook", call.sid)[0]
    assert hook.data["url"] == url and hook.data["status"] == 200
    assert hook.data["body"].startswith("<Response>") and hook.data["ms"] > 0
    assert hook.data["params"]["CallSid"] == call.sid
    heard = standin.events("heard", call.sid)[0]
    assert heard.data == {"number": CALLER, "what": "say", "text": "Hi"}


def test_rest_redirect_takes_a_caller_out_of_the_queue(standin: Standin,
                                                       twiml: TwimlApp) -> None:
    twiml.on("/voice", "<Response><Enqueue waitUrl='/wait' action='/never'>q</Enqueue>"
                       "</Response>")
    twiml.on("/wait", "<Response><Say>Holding</Say><Pause length='5'/></Response>")
    twiml.on("/out", "<Response><Say>Taken out</Say></Response>")
    standin.add_number(LINE, voice_url=twiml.url + "/voice")
    call = standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("Holding")
    standin.client().calls(call.sid).update(url=twiml.url + "/out")
    call.wait_until_heard("Taken out")
    assert standin.events("left_queue")[0].data["result"] == "redirected"
    assert standin.net.queues["q"].members == []
    assert twiml.requests("/never") == []
