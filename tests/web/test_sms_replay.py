"""A text is taken once, ever: Twilio's retry within minutes, and a captured signed `STOP`
replayed after a day (when a 24-hour de-duplication had forgotten it), change nothing."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.dashboard import make_line
from warmline.models import OptOut, SeenMessage
from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature

LINE = "+15005550001"
TEXTER = "+12125550142"


def _text(client: FlaskClient, runtime: Runtime, message_sid: str, body: str) -> str:
    form = {"MessageSid": message_sid, "From": TEXTER, "To": LINE, "Body": body, "NumMedia": "0"}
    signature = compute_signature(runtime.settings.twilio_auth_token,
                                  "http://localhost/twilio/sms", form)
    response = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _opted_out(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(OptOut)) == 1


def _sid() -> str:
    return "SM" + uuid.uuid4().hex


def test_a_stop_replayed_after_redis_forgot_it_is_refused(client: FlaskClient,
                                                          runtime: Runtime) -> None:
    make_line(runtime, LINE)
    stop = _sid()
    _text(client, runtime, stop, "STOP")
    assert _opted_out(runtime)
    _text(client, runtime, _sid(), "START")
    assert not _opted_out(runtime)
    # A day later (or after Redis came back empty) someone replays the captured signed STOP.
    runtime.redis.flushdb()
    assert _text(client, runtime, stop, "STOP") == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert not _opted_out(runtime)


def test_a_retry_is_taken_once_and_only_a_hash_of_its_sid_is_kept(client: FlaskClient,
                                                        runtime: Runtime) -> None:
    make_line(runtime, LINE)
    help_sid = _sid()
    first = _text(client, runtime, help_sid, "HELP")
    assert "<Message>" in first
    assert "<Message>" not in _text(client, runtime, help_sid, "HELP")
    with runtime.sessions() as session:
        seen = session.scalars(select(SeenMessage)).all()
    assert len(seen) == 1 and help_sid not in str(vars(seen[0]))
