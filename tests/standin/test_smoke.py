"""The shortest path through the stand-in: a caller dials a line and hears a greeting."""

from warmline.standin import Standin

from .conftest import CALLER, LINE, TwimlApp


def test_caller_hears_say_and_call_completes(standin: Standin, twiml: TwimlApp) -> None:
    url = twiml.on("/voice", "<Response><Say>Welcome to the warmline</Say></Response>")
    standin.add_number(LINE, voice_url=url)
    call = standin.caller(CALLER).dial(LINE)
    assert "Welcome" in call.wait_until_heard("Welcome")
    assert call.wait_until_ended() == "completed"
    seen = twiml.requests("/voice")[0]
    assert seen.form["From"] == CALLER and seen.form["To"] == LINE
    assert seen.form["CallStatus"] == "ringing" and seen.form["Direction"] == "inbound"
