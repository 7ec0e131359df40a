"""A call's first webhook is one SQL statement, committed by itself (autocommit: no BEGIN or
COMMIT round trips): the contact's insert, and on a line with a daily limit the count of the
caller's contacts today, this very call among them (PostgreSQL: the insert in a WITH; SQLite,
which cannot, keeps one transaction around both). The line and blocks come from the process's
snapshot and the events go to the event log's queue, not to SQL. The menu's answer then reads
no SQL (the contact's arrival facts are in Redis) and writes one UPDATE, committed by itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from tests.support.signed import post_twiml
from tests.support.workers import add_line
from warmline import keys
from warmline.clock import utc_now
from warmline.models import Contact, Experience
from warmline.runtime import Runtime
from warmline.services.routing_sync import refresh_line_routing

LINE = "+15550000100"
CALLER = "+12125550142"


def _call(client: FlaskClient, runtime: Runtime, call_sid: str) -> str:
    return post_twiml(client, runtime, "/twilio/voice",
                 {"CallSid": call_sid, "From": CALLER, "To": LINE, "CallStatus": "ringing"})


@contextmanager
def _counting(runtime: Runtime) -> Iterator[dict[str, list[str]]]:
    """Transactions begun and statements run on the runtime's engine, by any session; and of
    the statements, those the driver sent in autocommit (no BEGIN before, no COMMIT after)."""
    seen: dict[str, list[str]] = {"begin": [], "statements": [], "autocommit": []}

    def began(conn: Any) -> None:
        if not conn.connection.driver_connection.autocommit:
            seen["begin"].append("begin")

    def ran(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen["statements"].append(statement)
        if conn.connection.driver_connection.autocommit:
            seen["autocommit"].append(statement)

    event.listen(runtime.engine, "begin", began)
    event.listen(runtime.engine, "before_cursor_execute", ran)
    try:
        yield seen
    finally:
        event.remove(runtime.engine, "begin", began)
        event.remove(runtime.engine, "before_cursor_execute", ran)


def test_a_call_arriving_is_one_sql_statement_with_no_event_row(
        runtime: Runtime, client: FlaskClient) -> None:
    add_line(runtime, number=LINE, daily_contact_limit=2)
    with runtime.sessions.begin() as session:
        session.add(Experience(key="grief", label="Grief", digit=1, keyword="GRIEF"))
    _call(client, runtime, "CA" + uuid.uuid4().hex)  # loads the snapshot if nothing has yet
    with _counting(runtime) as seen:
        answer = _call(client, runtime, "CA" + uuid.uuid4().hex)
    assert "Grief" in answer  # the experience menu: the call goes on
    assert len(seen["statements"]) == 1 and seen["autocommit"] == seen["statements"], seen
    assert not seen["begin"]
    statement = seen["statements"][0]
    # the insert and the daily limit's count (of the contacts table, not of events)
    assert statement.lstrip().startswith("WITH") and "INSERT INTO contacts" in statement
    assert "contact_events" not in statement
    # whether a retry of this call stored a contact already is the insert's to say (the
    # one-contact-per-call index), not a query first
    assert "provider_sid =" not in statement
    # whether the caller is blocked is the process's snapshot's to say (config_cache)
    assert "blocks" not in statement


def test_on_a_line_without_a_daily_limit_the_arrival_is_one_statement_in_autocommit(
        runtime: Runtime, client: FlaskClient) -> None:
    add_line(runtime, number=LINE, daily_contact_limit=0)  # no limit: nothing to count
    _call(client, runtime, "CA" + uuid.uuid4().hex)  # loads the snapshot if nothing has yet
    with _counting(runtime) as seen:
        answer = _call(client, runtime, "CA" + uuid.uuid4().hex)
    assert "/twilio/voice/menu?contact=" in answer
    assert [s.split()[0] for s in seen["statements"]] == ["INSERT"]
    assert seen["autocommit"] == seen["statements"] and not seen["begin"], seen
    contact_id = answer.split("/twilio/voice/menu?contact=")[1].split("&")[0].split('"')[0]
    with runtime.sessions() as session:  # committed: another connection sees it
        assert session.get(Contact, contact_id) is not None


def test_a_replayed_arrival_is_one_transaction_and_the_same_contact(
        runtime: Runtime, client: FlaskClient) -> None:
    add_line(runtime, number=LINE)
    sid = "CA" + uuid.uuid4().hex
    first = _call(client, runtime, sid)
    with _counting(runtime) as seen:
        again = _call(client, runtime, sid)
    assert len(seen["begin"]) == 1
    assert first == again


def _choose(client: FlaskClient, runtime: Runtime, call_sid: str, contact_id: str,
            digits: str) -> str:
    return post_twiml(client, runtime, f"/twilio/voice/menu?contact={contact_id}",
                 {"CallSid": call_sid, "From": CALLER, "To": LINE, "CallStatus": "in-progress",
                  "Digits": digits})


def _call_at_the_menu(runtime: Runtime, client: FlaskClient) -> tuple[str, str]:
    """A call (its sid and contact) at the menu of a line whose routing is synced already (as
    any line is after its first call, for a while)."""
    line_id = add_line(runtime, number=LINE)
    with runtime.sessions.begin() as session:
        session.add(Experience(key="grief", label="Grief", digit=1, keyword="GRIEF"))
    refresh_line_routing(runtime, line_id, utc_now())
    call_sid = "CA" + uuid.uuid4().hex
    menu = _call(client, runtime, call_sid)
    return call_sid, menu.split("/twilio/voice/menu?contact=")[1].split("&")[0].split('"')[0]


def test_the_menus_answer_reads_no_sql_and_writes_one_statement(
        runtime: Runtime, client: FlaskClient) -> None:
    call_sid, contact_id = _call_at_the_menu(runtime, client)
    with _counting(runtime) as seen:
        queued = _choose(client, runtime, call_sid, contact_id, "1")
    assert "<Enqueue" in queued
    assert [s.split()[0] for s in seen["statements"]] == ["UPDATE"]
    assert seen["autocommit"] == seen["statements"] and not seen["begin"], seen
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.experience_key == "grief"


def test_a_call_without_arrival_facts_answers_the_menu_from_sql(
        runtime: Runtime, client: FlaskClient) -> None:
    call_sid, contact_id = _call_at_the_menu(runtime, client)
    runtime.redis.delete(keys.voice_arrival_facts(contact_id))  # as before this release
    with _counting(runtime) as seen:
        queued = _choose(client, runtime, call_sid, contact_id, "1")
    assert "<Enqueue" in queued
    assert [s.split()[0] for s in seen["statements"]] == ["SELECT", "UPDATE"]
