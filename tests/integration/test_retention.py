"""Retention at a fixed clock, erasure of one person, and records at Twilio (through the stand-in)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.workers import CALLER_NUMBER, OTHER_NUMBER, add_contact, add_line
from warmline import keys
from warmline.models import (
    AggregateDay,
    Block,
    CallbackRequest,
    Contact,
    ContactEvent,
    DailyAggregate,
    EventKind,
    Line,
    OptOut,
    Outcome,
)
from warmline.runtime import Runtime
from warmline.services.events import store_contact_event
from warmline.services.upkeep.aggregates import aggregate_days, read_report, recompute_day
from warmline.services.upkeep.retention import apply_retention, erase_person
from warmline.standin import Standin
from warmline.telephony.gateway import RestTwilioGateway

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
OLD = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)  # 45 days before NOW
RECENT = datetime(2026, 6, 14, 14, 0, tzinfo=UTC)


def _contact_with_events(runtime: Runtime, contact_id: str, line_id: int, at: datetime, number: str) -> None:
    caller = runtime.keys.keyed_hash(number)
    add_contact(runtime, contact_id, line_id, at, caller_hash=caller)
    steps: list[tuple[EventKind, timedelta, dict[str, Any]]] = [
        (EventKind.ARRIVED, timedelta(0), {"caller_hash": caller}),
        (EventKind.QUEUED, timedelta(seconds=5), {}),
        (EventKind.BRIDGED, timedelta(seconds=25), {}),
        (EventKind.ENDED, timedelta(minutes=8), {"outcome": Outcome.CONNECTED.value}),
    ]
    for kind, offset, extra in steps:
        store_contact_event(
            runtime,
            event_key=uuid.uuid4().hex,
            contact_id=contact_id,
            kind=kind.value,
            line_id=line_id,
            channel="voice",
            at=(at + offset).isoformat(),
            **extra,
        )


def _callback(
    runtime: Runtime, line_id: int, status: str, expires_at: datetime, number: str = CALLER_NUMBER
) -> int:
    with runtime.sessions.begin() as session:
        request = CallbackRequest(
            contact_id=uuid.uuid4().hex,
            line_id=line_id,
            caller_hash=runtime.keys.keyed_hash(number),
            number_encrypted=runtime.keys.encrypt(number),
            window_start=expires_at - timedelta(hours=4),
            window_end=expires_at,
            status=status,
            expires_at=expires_at,
        )
        session.add(request)
        session.flush()
        return request.id


def _events_of(runtime: Runtime, contact_id: str) -> list[ContactEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(ContactEvent).where(ContactEvent.contact_id == contact_id)))


def test_retention_at_a_fixed_clock(runtime: Runtime) -> None:
    line_id = add_line(runtime, retention_days=30)
    _contact_with_events(runtime, "old", line_id, OLD, CALLER_NUMBER)
    _contact_with_events(runtime, "recent", line_id, RECENT, OTHER_NUMBER)
    expired = _callback(runtime, line_id, "pending", NOW - timedelta(days=5))
    waiting = _callback(runtime, line_id, "pending", NOW + timedelta(hours=3))
    done = _callback(runtime, line_id, "connected", NOW + timedelta(hours=3))
    calling = _callback(runtime, line_id, "in_progress", NOW - timedelta(minutes=30))
    caller = runtime.keys.keyed_hash(CALLER_NUMBER)
    with runtime.sessions.begin() as session:
        session.add_all(
            [
                Block(caller_hash=caller, created_at=OLD, expires_at=NOW - timedelta(days=1)),
                Block(caller_hash=caller, created_at=OLD, expires_at=NOW + timedelta(days=1)),
                OptOut(caller_hash=caller, line_id=line_id, created_at=OLD),
            ]
        )
    redis = runtime.redis
    redis.set(keys.recurring_next("a-job-no-longer-in-the-table"), "recurring-x-1")
    redis.set(keys.shift_end_handled(1, line_id, 1), "1")  # lost its TTL
    redis.set(keys.shift_reminder_sent(1, 2), "1", ex=600)
    redis.set("someone-elses:key", "1")

    report = apply_retention(runtime, NOW)

    # Old events gone, their day's aggregates kept (computed first: it had never been).
    assert _events_of(runtime, "old") == []
    assert len(_events_of(runtime, "recent")) == 4
    old_day = date(2026, 5, 1)
    totals = read_report(runtime, line_id=line_id, start=old_day, end=old_day)
    assert (totals.offered, totals.answered, totals.answer_seconds_p50) == (1, 1, 25)
    with runtime.sessions() as session:
        marker = session.get_one(AggregateDay, (line_id, old_day))
        assert marker.purged_at == NOW
        contacts = {c.id: c for c in session.scalars(select(Contact))}
        callbacks = {c.id: c for c in session.scalars(select(CallbackRequest))}
        blocks = session.scalars(select(Block)).all()
        assert session.scalars(select(OptOut)).all() != []
    with runtime.sessions.begin() as session:
        line = session.get_one(Line, line_id)
        assert recompute_day(session, line, old_day, NOW) is False  # never again from partial events
    assert read_report(runtime, line_id=line_id, start=old_day, end=old_day).offered == 1
    # The old contact row stays (counts, outcome) but is no longer linked to the caller.
    assert contacts["old"].caller_hash == ""
    assert contacts["recent"].caller_hash == runtime.keys.keyed_hash(OTHER_NUMBER)
    # Expired numbers gone; a callback still waiting or being placed keeps its number.
    assert callbacks[expired].number_encrypted is None and callbacks[expired].status == "expired"
    assert callbacks[done].number_encrypted is None and callbacks[done].status == "connected"
    assert callbacks[waiting].number_encrypted is not None
    assert callbacks[calling].number_encrypted is not None
    assert [b.expires_at for b in blocks] == [NOW + timedelta(days=1)]
    # Redis: only this package's leftovers.
    assert not redis.exists(keys.recurring_next("a-job-no-longer-in-the-table"))
    assert not redis.exists(keys.shift_end_handled(1, line_id, 1))
    assert redis.exists(keys.shift_reminder_sent(1, 2))
    assert redis.exists("someone-elses:key")
    assert report.events_deleted == 4 and report.callback_numbers_erased == 2
    assert report.blocks_deleted == 1 and report.redis_keys_deleted == 2

    again = apply_retention(runtime, NOW)
    assert (again.events_deleted, again.callback_numbers_erased, again.blocks_deleted) == (0, 0, 0)


def test_erasing_a_person_keeps_the_counts_and_nothing_linked(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    caller = runtime.keys.keyed_hash(CALLER_NUMBER)
    _contact_with_events(runtime, "long-ago", line_id, NOW - timedelta(days=5), CALLER_NUMBER)
    _contact_with_events(runtime, "today", line_id, NOW - timedelta(hours=1), CALLER_NUMBER)
    _contact_with_events(runtime, "someone-else", line_id, NOW - timedelta(hours=2), OTHER_NUMBER)
    days = [(NOW - timedelta(days=5)).date(), NOW.date()]
    aggregate_days(runtime, line_id, days, NOW)  # the old day is final, today's is not
    _callback(runtime, line_id, "pending", NOW + timedelta(hours=2))
    with runtime.sessions.begin() as session:
        session.add_all(
            [
                Block(caller_hash=caller, created_at=NOW, expires_at=NOW + timedelta(days=7)),
                OptOut(caller_hash=caller, line_id=line_id, created_at=NOW),
            ]
        )
    with runtime.sessions() as session:
        before = [(r.day, r.hour, r.offered, r.answered) for r in session.scalars(select(DailyAggregate))]

    report = erase_person(runtime, caller, now=NOW)

    assert report.callbacks_deleted == 1 and report.contacts_unlinked == 2
    with runtime.sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []
        assert session.scalars(select(ContactEvent).where(ContactEvent.caller_hash == caller)).all() == []
        assert session.scalars(select(Contact).where(Contact.caller_hash == caller)).all() == []
        assert len(session.scalars(select(Block)).all()) == 1  # kept until it expires
        assert len(session.scalars(select(OptOut)).all()) == 1  # kept: never text them again
        pseudonyms = {c.caller_hash for c in session.scalars(select(Contact))}
    assert len(pseudonyms) == 3  # each contact on its own: not linkable to each other either
    assert _events_of(runtime, "long-ago") == []  # already counted: deleted
    assert len(_events_of(runtime, "today")) == 4  # not final yet: kept unlinked, counted later
    aggregate_days(runtime, line_id, [NOW.date()], NOW + timedelta(minutes=5))
    with runtime.sessions() as session:
        after = [(r.day, r.hour, r.offered, r.answered) for r in session.scalars(select(DailyAggregate))]
    assert sorted(after) == sorted(before)


# --------------------------------------------------------------------------- Twilio


@pytest.fixture
def standin() -> Iterator[Any]:
    stand = Standin(speed=10.0).start()
    yield stand
    stand.stop()


def test_records_at_twilio_past_retention_are_deleted_or_redacted(
    runtime: Runtime, standin: Any, tmp_path: Any
) -> None:
    from tests.support.services import make_test_settings

    line_number, texter, caller = "+15550001000", "+15550003000", "+15550004000"
    standin.add_number(line_number)
    standin.phone(texter)
    standin.phone(caller, mode="busy")
    client = standin.client()
    call = client.calls.create(to=caller, from_=line_number, twiml="<Response><Hangup/></Response>")
    message = client.messages.create(to=texter, from_=line_number, body="You're connected with a peer")
    standin.wait_for(lambda: client.calls(call.sid).fetch().end_time is not None, timeout=60)
    standin.wait_for(lambda: client.messages(message.sid).fetch().status == "delivered", timeout=60)

    settings = make_test_settings(
        runtime.settings.database_url,
        tmp_path,
        TWILIO_ACCOUNT_SID=standin.config.account_sid,
        TWILIO_AUTH_TOKEN=standin.config.auth_token,
        TWILIO_API_URL=standin.url,
    )
    records = RestTwilioGateway(settings).records
    add_line(runtime, number=line_number, retention_days=30)
    real_now = datetime.now(UTC)

    within = apply_retention(runtime, real_now + timedelta(days=29), records)
    assert (within.provider_calls_deleted, within.provider_messages_redacted) == (0, 0)
    assert client.messages(message.sid).fetch().body != ""

    past = apply_retention(runtime, real_now + timedelta(days=31), records)
    assert past.provider_errors == []
    assert (past.provider_calls_deleted, past.provider_messages_redacted) == (1, 1)
    assert client.messages(message.sid).fetch().body == ""
    assert [c.sid for c in client.calls.list()] == []
