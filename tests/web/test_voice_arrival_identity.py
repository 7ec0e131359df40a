"""A call's first webhook: one contact per CallSid whatever is replayed, and withheld callers are
nobody in particular (no shared limit, no shared block)."""

from __future__ import annotations

import html
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.support.dashboard import form_csrf, make_line, make_peer, sign_in
from tests.support.signed import post_twiml
from tests.support.workers import run_jobs
from warmline.domain.matching import ContactView
from warmline.models import AuditEntry, Block, Contact, ContactEvent, EventKind, Line
from warmline.queues import QueueName
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime

LINE = "+15005550001"
CALLER = "+12125550142"
WITHHELD = ["Anonymous", "Restricted", "+266696687", "", "anonymous", "+7378742833"]


def _call(client: FlaskClient, runtime: Runtime, *, call_sid: str, from_number: str) -> str:
    return post_twiml(client, runtime, "/twilio/voice", {
        "CallSid": call_sid, "From": from_number, "To": LINE, "CallStatus": "ringing"})


def _sid() -> str:
    return "CA" + uuid.uuid4().hex


def _contacts(runtime: Runtime, call_sid: str | None = None) -> list[Contact]:
    with runtime.sessions() as session:
        query = select(Contact)
        if call_sid is not None:
            query = query.where(Contact.provider_sid == call_sid)
        return list(session.scalars(query))


def _block(runtime: Runtime, caller_hash: str) -> None:
    """What "end and report abuse" records: a block of the contact's pseudonym for 30 days."""
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        session.add(Block(caller_hash=caller_hash, line_id=None, reason="abuse", created_at=now,
                          expires_at=now + timedelta(days=30)))


def _set_daily_limit(runtime: Runtime, limit: int) -> None:
    with runtime.sessions.begin() as session:
        for line in session.scalars(select(Line)):
            line.daily_contact_limit = limit


def test_a_replayed_first_webhook_opens_no_second_contact(client: FlaskClient,
                                                          runtime: Runtime) -> None:
    make_line(runtime, LINE)
    sid = _sid()
    first = _call(client, runtime, call_sid=sid, from_number=CALLER)
    again = _call(client, runtime, call_sid=sid, from_number=CALLER)
    assert "not a crisis line" in first and "not a crisis line" in again
    contacts = _contacts(runtime, sid)
    assert len(contacts) == 1
    # The replayed menu is the same contact's menu.
    assert f"contact={contacts[0].id}" in again


def test_a_replay_after_redis_lost_the_call_still_finds_the_contact(client: FlaskClient,
                                                                   runtime: Runtime) -> None:
    make_line(runtime, LINE)
    sid = _sid()
    first = _call(client, runtime, call_sid=sid, from_number=CALLER)
    run_jobs(runtime, [QueueName.EVENTS])
    runtime.redis.flushdb()
    again = _call(client, runtime, call_sid=sid, from_number=CALLER)
    run_jobs(runtime, [QueueName.EVENTS])
    contacts = _contacts(runtime, sid)
    assert len(contacts) == 1
    # The insert met the one-contact-per-call index: the same contact's menu, and its arrival
    # logged once (the refused insert logged nothing).
    assert f"contact={contacts[0].id}" in first and f"contact={contacts[0].id}" in again
    with runtime.sessions() as session:
        arrivals = session.scalars(select(ContactEvent.contact_id).where(
            ContactEvent.kind == EventKind.ARRIVED.value))
        assert list(arrivals) == [contacts[0].id]


def test_a_replay_counts_once_against_the_daily_limit(client: FlaskClient,
                                                      runtime: Runtime) -> None:
    make_line(runtime, LINE)
    _set_daily_limit(runtime, 1)
    sid = _sid()
    for _ in range(3):
        assert "not a crisis line" in _call(client, runtime, call_sid=sid, from_number=CALLER)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


@pytest.mark.parametrize("withheld", WITHHELD)
def test_withheld_callers_share_no_daily_limit(client: FlaskClient, runtime: Runtime,
                                               withheld: str) -> None:
    make_line(runtime, LINE)
    _set_daily_limit(runtime, 1)
    for _ in range(3):
        answer = _call(client, runtime, call_sid=_sid(), from_number=withheld)
        assert "not a crisis line" in answer, answer
    hashes = {c.caller_hash for c in _contacts(runtime)}
    assert len(hashes) == 3  # an identity per call


def test_a_withheld_callers_block_ends_only_that_call(client: FlaskClient,
                                                      runtime: Runtime) -> None:
    make_line(runtime, LINE)
    reported = _sid()
    _call(client, runtime, call_sid=reported, from_number="Anonymous")
    _block(runtime, _contacts(runtime, reported)[0].caller_hash)
    # The reported call itself stays blocked (a retry of it is refused)...
    assert "not able to take your call" in _call(client, runtime, call_sid=reported,
                                                 from_number="Anonymous")
    # ...but every other withheld caller is someone else.
    for withheld in WITHHELD:
        answer = _call(client, runtime, call_sid=_sid(), from_number=withheld)
        assert "not a crisis line" in answer, (withheld, answer)


def test_a_block_of_a_real_number_still_holds_for_its_next_calls(client: FlaskClient,
                                                                runtime: Runtime) -> None:
    make_line(runtime, LINE)
    first = _sid()
    _call(client, runtime, call_sid=first, from_number=CALLER)
    _block(runtime, _contacts(runtime, first)[0].caller_hash)
    assert "not able to take your call" in _call(client, runtime, call_sid=_sid(),
                                                 from_number=CALLER)


def test_two_requests_of_one_call_at_once_open_one_contact(app: Flask, runtime: Runtime) -> None:
    make_line(runtime, LINE)
    sid = _sid()
    answers: list[str] = []

    def call() -> None:
        answers.append(_call(app.test_client(), runtime, call_sid=sid, from_number=CALLER))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 4 and all("not a crisis line" in a for a in answers)
    assert len(_contacts(runtime, sid)) == 1


def test_end_and_report_abuse_of_a_withheld_caller_blocks_nobody_else(
    app: Flask, runtime: Runtime,
) -> None:
    line_id = make_line(runtime, LINE)
    make_peer(runtime, "robin@example.org", line_id=line_id)
    twilio, peer = app.test_client(), app.test_client()
    sid = _sid()
    _call(twilio, runtime, call_sid=sid, from_number="Anonymous")
    contact = _contacts(runtime, sid)[0]
    sign_in(peer, "robin@example.org")
    peer.post("/dashboard/presence", data={"csrf_token": form_csrf(peer, "/dashboard"),
                                           "presence": "available"})
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    arrival = engine.arrive(ContactView(contact.id, line_id, "voice", None, "en", 0, now), now)
    engine.accept(arrival.offers[0].offer_id, now)
    page = peer.post("/dashboard/report-abuse", data={"csrf_token": form_csrf(peer, "/dashboard")},
                     follow_redirects=True).get_data(as_text=True)
    assert "withheld their number, so only this call" in html.unescape(page)
    with runtime.sessions() as session:
        assert session.scalars(select(Block)).all() == []
        assert session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "withheld_contact_ended")).all() == ["withheld_contact_ended"]
    assert "not a crisis line" in _call(twilio, runtime, call_sid=_sid(), from_number="Anonymous")
