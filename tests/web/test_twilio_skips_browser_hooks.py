"""Twilio's webhooks skip what only browsers' requests need: the rate limiter (they carry no
limits) and the cookie session (Twilio sends no cookie). Every other request still goes through
both, so the limits on sign-in, chat and support alerts hold, and so do sign-ins."""

from __future__ import annotations

from typing import Any

import pytest
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature
from warmline.web.limits import limiter

FORM = {"CallSid": "CA" + "1" * 32, "From": "+15005550006", "To": "+12125550100"}


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The endpoints whose limits the limiter worked out, in order."""
    seen: list[str] = []
    manager = limiter.limit_manager
    original = manager.resolve_limits

    def resolve(app: Any, endpoint: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(endpoint or "")
        return original(app, endpoint, *args, **kwargs)

    monkeypatch.setattr(manager, "resolve_limits", resolve)
    return seen


def test_a_webhook_is_not_looked_at_by_the_limiter(
    client: FlaskClient, runtime: Runtime, resolved: list[str],
) -> None:
    token = runtime.settings.twilio_auth_token
    for path in ("/twilio/voice", "/twilio/voice/wait?contact=nope", "/twilio/sms"):
        signature = compute_signature(token, "http://localhost" + path, FORM)
        answer = client.post(path, data=FORM, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200
    assert resolved == []
    # A page beside them still is: the filter is Twilio's paths only.
    assert client.get("/healthz").status_code == 200
    assert client.get("/sign-in").status_code == 200
    assert resolved and all(not endpoint.startswith("twilio") for endpoint in resolved)


def test_a_webhook_opens_no_cookie_session(
    client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    original = SecureCookieSessionInterface.open_session

    def open_session(self: SecureCookieSessionInterface, app: Any, request: Any) -> Any:
        opened.append(request.path)
        return original(self, app, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", open_session)
    client.set_cookie("warmline_session", "a-cookie-twilio-would-never-send")
    token = runtime.settings.twilio_auth_token
    path = "/twilio/voice"
    answer = client.post(path, data=FORM, headers={
        "X-Twilio-Signature": compute_signature(token, "http://localhost" + path, FORM)})
    assert answer.status_code == 200 and "<Response" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    assert opened == []
    assert client.get("/sign-in").status_code == 200
    assert opened == ["/sign-in"]
