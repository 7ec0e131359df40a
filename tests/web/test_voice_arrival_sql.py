"""A call's first webhook is one SQL transaction: the block check, the contact's insert and the
daily limit (which counts this very call) are committed together; the line comes from the
process's snapshot and the events go to the event log's queue, not to SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from tests.support.twiml_schema import assert_valid_voice_twiml
from tests.support.workers import add_line
from warmline.models import Experience
from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature

LINE = "+15550000100"
CALLER = "+12125550142"


def _call(client: FlaskClient, runtime: Runtime, call_sid: str) -> str:
    form = {"CallSid": call_sid, "From": CALLER, "To": LINE, "CallStatus": "ringing"}
    signature = compute_signature(runtime.settings.twilio_auth_token,
                                  "http://localhost/twilio/voice", form)
    answer = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert_valid_voice_twiml(body)
    return body


@contextmanager
def _counting(runtime: Runtime) -> Iterator[dict[str, list[str]]]:
    """Transactions begun and statements run on the runtime's engine, by any session."""
    seen: dict[str, list[str]] = {"begin": [], "statements": []}

    def began(_conn: Any) -> None:
        seen["begin"].append("begin")

    def ran(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen["statements"].append(statement)

    event.listen(runtime.engine, "begin", began)
    event.listen(runtime.engine, "before_cursor_execute", ran)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "begin", began)
        event.remove(runtime.engine, "before_cursor_execute", ran)


def test_a_call_arriving_is_one_sql_transaction_with_no_event_row(
        runtime: Runtime, client: FlaskClient) -> None:
    add_line(runtime, number=LINE, daily_contact_limit=2)
    with runtime.sessions.begin() as session:
        session.add(Experience(key="grief", label="Grief", digit=1, keyword="GRIEF"))
    _call(client, runtime, "CA" + uuid.uuid4().hex)  # loads the snapshot if nothing has yet
    with _counting(runtime) as seen:
        answer = _call(client, runtime, "CA" + uuid.uuid4().hex)
    assert "Grief" in answer  # the experience menu: the call goes on
    assert len(seen["begin"]) == 1, seen
    assert not any("contact_events" in s for s in seen["statements"])
    inserts = [s for s in seen["statements"] if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "contacts" in inserts[0]
    # whether a retry of this call stored a contact already is the insert's to say (the
    # one-contact-per-call index), not a query first
    assert not any("provider_sid =" in s for s in seen["statements"]), seen["statements"]
    # whether the caller is blocked is the process's snapshot's to say (config_cache)
    assert not any("blocks" in s for s in seen["statements"]), seen["statements"]


def test_a_replayed_arrival_is_one_transaction_and_the_same_contact(
        runtime: Runtime, client: FlaskClient) -> None:
    add_line(runtime, number=LINE)
    sid = "CA" + uuid.uuid4().hex
    first = _call(client, runtime, sid)
    with _counting(runtime) as seen:
        again = _call(client, runtime, sid)
    assert len(seen["begin"]) == 1
    assert first == again
