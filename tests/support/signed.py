"""A Twilio webhook posted to the app in process, signed as Twilio signs it."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature


def post_twiml(client: FlaskClient, runtime: Runtime, path: str, form: dict[str, str]) -> str:
    """The answer's TwiML, which must be 200 and valid (the app's public URL: http://localhost)."""
    signature = compute_signature(runtime.settings.twilio_auth_token, "http://localhost" + path,
                                  form)
    answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert_valid_voice_twiml(body)
    return body
