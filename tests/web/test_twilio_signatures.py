"""Every Twilio URL checks X-Twilio-Signature against the public URL, with token rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.services import make_test_settings
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.app import create_app
from warmline.runtime import Runtime, build_runtime
from warmline.telephony.signature import compute_signature

FORM = {"CallSid": "CA" + "0" * 32, "From": "+15005550006", "To": "+12125550100"}


def _post(client: FlaskClient, path: str, *, token: str | None, signed_url: str) -> int:
    headers = {}
    if token is not None:
        headers["X-Twilio-Signature"] = compute_signature(token, signed_url, FORM)
    return client.post(path, data=FORM, headers=headers).status_code


def _app(database_url: str, tmp_path: Path, **overrides: str) -> tuple[Flask, Runtime]:
    settings = make_test_settings(database_url, tmp_path, **overrides)
    runtime = build_runtime(settings)
    return create_app(runtime=runtime), runtime


def test_missing_forged_and_unknown_token_signatures_are_refused(
    database_url: str, tmp_path: Path,
) -> None:
    app, runtime = _app(database_url, tmp_path, TWILIO_AUTH_TOKEN="current-token")
    client = app.test_client()
    url = "http://localhost/twilio/voice"
    assert _post(client, "/twilio/voice", token=None, signed_url=url) == 403
    assert _post(client, "/twilio/voice", token="someone-else", signed_url=url) == 403
    forged = client.post("/twilio/voice", data=FORM, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert forged.status_code == 403
    assert _post(client, "/twilio/voice", token="current-token", signed_url=url) == 200
    runtime.close()


def test_during_rotation_both_the_new_and_the_old_token_are_accepted(
    database_url: str, tmp_path: Path,
) -> None:
    app, runtime = _app(database_url, tmp_path, TWILIO_AUTH_TOKEN="new-token,old-token")
    client = app.test_client()
    url = "http://localhost/twilio/voice"
    assert _post(client, "/twilio/voice", token="new-token", signed_url=url) == 200
    assert _post(client, "/twilio/voice", token="old-token", signed_url=url) == 200
    assert _post(client, "/twilio/voice", token="older-token", signed_url=url) == 403
    runtime.close()


def test_behind_a_proxy_the_public_url_is_what_counts(database_url: str, tmp_path: Path) -> None:
    app, runtime = _app(database_url, tmp_path, WARMLINE_PUBLIC_URL="https://warmline.example.org")
    client = app.test_client()
    token = runtime.settings.twilio_auth_token
    # The request reaches us as http://localhost (the proxy rewrote it); Twilio signed the public URL.
    assert _post(client, "/twilio/voice", token=token,
                 signed_url="https://warmline.example.org/twilio/voice") == 200
    assert _post(client, "/twilio/voice", token=token, signed_url="http://localhost/twilio/voice") == 403
    # Query strings are part of what is signed.
    assert _post(client, "/twilio/voice/menu?contact=abc", token=token,
                 signed_url="https://warmline.example.org/twilio/voice/menu?contact=abc") == 200
    assert _post(client, "/twilio/voice/menu?contact=abc", token=token,
                 signed_url="https://warmline.example.org/twilio/voice/menu?contact=xyz") == 403
    runtime.close()


def test_every_twilio_url_refuses_an_unsigned_request(app: Flask) -> None:
    client = app.test_client()
    paths = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/twilio/") and "POST" in (rule.methods or set())})
    assert "/twilio/voice" in paths and len(paths) >= 15
    for path in paths:
        assert client.post(path, data=FORM).status_code == 403, path


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/menu?contact=nope",
                                  "/twilio/voice/wait?contact=nope", "/twilio/voice/fallback"])
def test_a_signed_request_with_nothing_behind_it_still_gets_valid_twiml(
    client: FlaskClient, runtime: Runtime, path: str,
) -> None:
    url = "http://localhost" + path
    token = runtime.settings.twilio_auth_token
    response = client.post(path, data=FORM,
                           headers={"X-Twilio-Signature": compute_signature(token, url, FORM)})
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert_valid_voice_twiml(response.get_data(as_text=True))
