"""The wait step reads no SQL: the caller's facts are in Redis from the moment they joined the
queue, the line and the experience labels come from the process's snapshot (config_cache)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from tests.support.services import TEST_AUTH_TOKEN
from tests.support.workers import CALLER_NUMBER, add_contact, add_line
from warmline.models import Experience
from warmline.runtime import Runtime
from warmline.telephony.signature import compute_signature
from warmline.voice.state import CallState, WaitFacts

CONTACT = "0123456789abcdef0123456789abcdef"
LINE = "+15550000100"


def _wait(client: FlaskClient) -> str:
    path = f"/twilio/voice/wait?contact={CONTACT}"
    form = {"CallSid": "CA" + "1" * 32, "From": CALLER_NUMBER, "To": LINE, "QueueTime": "30",
            "QueuePosition": "1", "CurrentQueueSize": "1"}
    signature = compute_signature(TEST_AUTH_TOKEN, "http://localhost" + path, form)
    answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_wait_step_runs_no_sql_once_the_snapshot_is_loaded(runtime: Runtime,
                                                               client: FlaskClient) -> None:
    line_id = add_line(runtime, number=LINE)
    with runtime.sessions.begin() as session:
        session.add(Experience(key="grief", label="Grief", digit=1, keyword="GRIEF"))
    add_contact(runtime, CONTACT, line_id, datetime.now(UTC), language="en",
                experience_key="grief", any_peer=False)
    CallState(runtime.redis).set_wait_facts(CONTACT, WaitFacts(line_id, "en", "grief", False))
    first = _wait(client)  # loads the snapshot (one transaction) if nothing has yet
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", seen)
    try:
        again = _wait(client)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", seen)
    assert statements == []
    assert "Grief" in again and "<Play" in again and "<Leave" not in again
    assert first == again


def test_without_the_facts_the_wait_step_reads_sql_as_before(runtime: Runtime,
                                                            client: FlaskClient) -> None:
    line_id = add_line(runtime, number=LINE)
    add_contact(runtime, CONTACT, line_id, datetime.now(UTC), language="en")
    answer = _wait(client)
    assert "<Play" in answer and "<Leave" not in answer
