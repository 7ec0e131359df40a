"""The signer reproduces Twilio's documented vector, and requests validate in the app."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.support.twiml_app import CALLER, LINE, TwimlApp
from warmline.standin import Standin, sign

VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
                 "From": "+12349013030", "To": "+18005551212"}


def test_signer_reproduces_the_readme_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign("12345", url, VECTOR_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert sign("12346", url, VECTOR_PARAMS) != "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_every_request_validates_post_and_get(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/voice", "<Response><Redirect method='GET'>/next?step=2</Redirect></Response>")
    twiml.on("/next", "<Response><Say>Second</Say></Response>")
    standin.add_number(LINE, voice_url=twiml.url + "/voice?line=main")
    call = standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("Second")
    post, get = twiml.requests("/voice")[0], twiml.requests("/next")[0]
    validator = RequestValidator(standin.config.auth_token)
    assert post.method == "POST" and post.url.endswith("/voice?line=main")
    assert validator.validate(post.url, post.form, post.signature)
    assert get.method == "GET" and "step=2" in get.url and "CallSid=" in get.url
    assert validator.validate(get.url, {}, get.signature)
    assert not RequestValidator("other").validate(post.url, post.form, post.signature)
