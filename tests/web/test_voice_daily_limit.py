"""A caller's daily limit, counted as the call arrives, the same on both databases: PostgreSQL
inserts the contact and counts the day in one statement (the insert in a WITH), SQLite in one
transaction. A reconnect within minutes is the contact before it, not another one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.support.services import make_test_settings, prepared_runtime
from tests.support.signed import post_twiml
from tests.support.workers import CALLER_NUMBER, add_contact, add_line, zone_at_midday
from warmline.app import create_app
from warmline.clock import utc_now
from warmline.migrations.runner import upgrade_database
from warmline.models import Contact, Outcome
from warmline.runtime import Runtime
from warmline.voice.prompts import text

LINE = "+15550000100"


@pytest.fixture(params=["postgresql", "sqlite"])
def limited_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    if request.param == "postgresql":
        runtime: Runtime = request.getfixturevalue("runtime")
        yield runtime
        return
    url = f"sqlite:///{tmp_path / 'warmline.db'}"
    upgrade_database(url)
    with prepared_runtime(make_test_settings(url, tmp_path)) as sqlite_runtime:
        yield sqlite_runtime


def _call(client: FlaskClient, runtime: Runtime, call_sid: str) -> str:
    return post_twiml(client, runtime, "/twilio/voice", {
        "CallSid": call_sid, "From": CALLER_NUMBER, "To": LINE, "CallStatus": "ringing"})


def test_the_call_after_the_limit_hears_so_and_a_reconnect_is_no_new_contact(
        limited_runtime: Runtime) -> None:
    runtime, now = limited_runtime, utc_now()
    client = create_app(runtime=runtime).test_client()
    line_id = add_line(runtime, number=LINE, daily_contact_limit=2, timezone=zone_at_midday(now))
    add_contact(runtime, "earlier", line_id, now - timedelta(hours=3),
                ended_at=now - timedelta(hours=3) + timedelta(minutes=5),
                outcome=Outcome.CONNECTED.value)
    over_limit = text("en", "over_limit")

    first = _call(client, runtime, "CA" + "1" * 32)
    assert over_limit not in first  # the 2nd of 2 today
    # its answer to the menu, one UPDATE committed by itself on either database
    contact_id = first.split("/twilio/voice/menu?contact=")[1].split("&")[0].split('"')[0]
    queued = post_twiml(client, runtime, f"/twilio/voice/menu?contact={contact_id}", {
        "CallSid": "CA" + "1" * 32, "From": CALLER_NUMBER, "To": LINE,
        "CallStatus": "in-progress", "Digits": "0"})
    assert "<Enqueue" in queued
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.any_peer
    assert over_limit not in _call(client, runtime, "CA" + "2" * 32)  # a reconnect: the same one

    with runtime.engine.begin() as connection:  # both ended an hour ago
        connection.execute(
            update(Contact).where(Contact.id != "earlier")
            .values(arrived_at=now - timedelta(hours=1), ended_at=now - timedelta(hours=1)))
    assert over_limit in _call(client, runtime, "CA" + "3" * 32)  # the 3rd contact today
