"""Twilio's webhooks skip the rate limiter (they carry no limits); every other request still
goes through it, so the limits on sign-in, chat and support alerts hold."""

from __future__ import annotations

from typing import Any

import pytest
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
