"""Daily aggregates on known events: figures, idempotent recomputation, and the report reader."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.support.workers import add_line
from warmline.models import DailyAggregate, EventKind, Outcome
from warmline.runtime import Runtime
from warmline.services.events import store_contact_event
from warmline.services.upkeep.aggregates import aggregate_days, aggregate_pending_days, read_report

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 3, 4)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 4, hour, minute, tzinfo=ZONE)


def log(runtime: Runtime, line_id: int, contact: str, kind: EventKind, at: datetime, **extra: Any) -> None:
    fields: dict[str, Any] = {"channel": "voice"}
    fields.update(extra)
    if isinstance(fields.get("outcome"), Outcome):
        fields["outcome"] = fields["outcome"].value
    store_contact_event(
        runtime,
        event_key=uuid.uuid4().hex,
        contact_id=contact,
        kind=kind.value,
        line_id=line_id,
        at=at.isoformat(),
        **fields,
    )


def _known_day(runtime: Runtime) -> int:
    line_id = add_line(runtime)
    h1, h2 = runtime.keys.keyed_hash("+15551230001"), runtime.keys.keyed_hash("+15551230002")
    # c0: the same caller, 10 days earlier (makes c1 a repeat... and c3 one too).
    log(runtime, line_id, "c0", EventKind.ARRIVED, local(9) - timedelta(days=10), caller_hash=h1)
    log(runtime, line_id, "c0", EventKind.QUEUED, local(9) - timedelta(days=10))
    # 10:00 recovery: answered after 30 s, talks 10 min.
    log(runtime, line_id, "c1", EventKind.ARRIVED, local(10), caller_hash=h1)
    log(
        runtime,
        line_id,
        "c1",
        EventKind.MENU_CHOICE,
        local(10) + timedelta(seconds=5),
        experience_key="recovery",
    )
    log(runtime, line_id, "c1", EventKind.QUEUED, local(10) + timedelta(seconds=6))
    log(runtime, line_id, "c1", EventKind.BRIDGED, local(10) + timedelta(seconds=30), peer_id=7)
    # a mentor joined (twice: rung in again after a missed ring): one contact mentored
    log(runtime, line_id, "c1", EventKind.MENTOR_JOINED, local(10, 2), detail={"shadow": False})
    log(runtime, line_id, "c1", EventKind.MENTOR_JOINED, local(10, 4), detail={"shadow": False})
    log(
        runtime,
        line_id,
        "c1",
        EventKind.ENDED,
        local(10, 10) + timedelta(seconds=30),
        outcome=Outcome.CONNECTED,
    )
    # 10:20 recovery: abandons after a minute.
    log(runtime, line_id, "c2", EventKind.ARRIVED, local(10, 20), caller_hash=h2, experience_key="recovery")
    log(runtime, line_id, "c2", EventKind.QUEUED, local(10, 20))
    log(runtime, line_id, "c2", EventKind.ABANDONED, local(10, 21), outcome=Outcome.ABANDONED)
    # 10:40 recovery, the first caller again: answered after 90 s, talks 5 min.
    log(runtime, line_id, "c3", EventKind.ARRIVED, local(10, 40), caller_hash=h1, experience_key="recovery")
    log(runtime, line_id, "c3", EventKind.QUEUED, local(10, 40))
    log(runtime, line_id, "c3", EventKind.BRIDGED, local(10, 41) + timedelta(seconds=30))
    log(
        runtime,
        line_id,
        "c3",
        EventKind.ENDED,
        local(10, 46) + timedelta(seconds=30),
        outcome=Outcome.CONNECTED,
    )
    # 14:05 a text asking for a callback, which fails.
    log(runtime, line_id, "c4", EventKind.ARRIVED, local(14, 5), channel="sms", caller_hash=h2)
    log(runtime, line_id, "c4", EventKind.QUEUED, local(14, 5), channel="sms")
    log(runtime, line_id, "c4", EventKind.CALLBACK_REQUESTED, local(14, 8), channel="sms")
    log(runtime, line_id, "c4", EventKind.ENDED, local(18), channel="sms", outcome=Outcome.CALLBACK_FAILED)
    # 15:00 closed hours: never offered.
    log(runtime, line_id, "c5", EventKind.ARRIVED, local(15), outcome=Outcome.CLOSED_HOURS)
    # 23:50 transferred to the crisis line just after midnight: counted on the day it arrived.
    log(runtime, line_id, "c6", EventKind.ARRIVED, local(23, 50))
    log(runtime, line_id, "c6", EventKind.QUEUED, local(23, 50))
    log(runtime, line_id, "c6", EventKind.TRANSFERRED, local(23, 59) + timedelta(minutes=2))
    log(
        runtime,
        line_id,
        "c6",
        EventKind.ENDED,
        local(23, 59) + timedelta(minutes=2),
        outcome=Outcome.TRANSFERRED_CRISIS,
    )
    return line_id


def _rows(runtime: Runtime, line_id: int) -> list[tuple[Any, ...]]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(DailyAggregate)
            .where(DailyAggregate.line_id == line_id, DailyAggregate.day == DAY)
            .order_by(DailyAggregate.hour, DailyAggregate.channel, DailyAggregate.experience_key)
        ).all()
    return [
        (
            r.hour,
            r.channel,
            r.experience_key,
            r.offered,
            r.answered,
            r.abandoned,
            r.callbacks,
            r.transfers,
            r.mentored,
            r.repeat_contacts,
            r.answer_seconds,
            r.duration_seconds_total,
        )
        for r in rows
    ]


EXPECTED = [
    (10, "voice", "recovery", 3, 2, 1, 0, 0, 1, 2, [30, 90], 900),
    (14, "sms", "", 1, 0, 0, 1, 0, 0, 1, [], 0),
    (23, "voice", "", 1, 0, 0, 0, 1, 0, 0, [], 0),
]


def test_aggregates_of_a_known_day(runtime: Runtime) -> None:
    line_id = _known_day(runtime)
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    assert aggregate_pending_days(runtime, now) == 12  # from the day of c0 (22 Feb) to today
    assert _rows(runtime, line_id) == EXPECTED


def test_recomputing_gives_the_same_rows(runtime: Runtime) -> None:
    line_id = _known_day(runtime)
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)
    aggregate_days(runtime, line_id, [DAY], now)
    first = _rows(runtime, line_id)
    aggregate_days(runtime, line_id, [DAY], now + timedelta(hours=1))
    aggregate_pending_days(runtime, now + timedelta(hours=2))
    assert _rows(runtime, line_id) == first == EXPECTED
    # Two days after, the day is final: the hourly job leaves it alone.
    later = datetime(2026, 3, 7, 12, tzinfo=UTC)
    aggregate_pending_days(runtime, later)
    assert aggregate_pending_days(runtime, later + timedelta(hours=1)) == 2  # 6th and 7th only


def test_the_report_reads_totals_and_percentiles(runtime: Runtime) -> None:
    line_id = _known_day(runtime)
    aggregate_days(runtime, line_id, [DAY], datetime(2026, 3, 5, 12, tzinfo=UTC))
    report = read_report(runtime, line_id=line_id, start=DAY, end=DAY)
    assert (report.offered, report.answered, report.abandoned) == (5, 2, 1)
    assert (report.callbacks, report.transfers, report.repeat_contacts) == (1, 1, 3)
    assert report.mentored == 1
    assert report.answer_rate == 0.4
    assert report.abandon_rate == 0.2
    assert report.repeat_share == 0.6
    assert (report.answer_seconds_p50, report.answer_seconds_p90) == (30, 90)
    assert report.mean_duration_seconds == 450
    assert report.offered_by_hour == {10: 3, 14: 1, 23: 1}
    assert report.offered_by_channel == {"sms": 1, "voice": 4}
    voice = read_report(runtime, line_id=line_id, start=DAY, end=DAY, channel="voice")
    assert voice.offered == 4
    empty = read_report(runtime, line_id=line_id, start=date(2026, 1, 1), end=date(2026, 1, 2))
    assert empty.offered == 0 and empty.answer_rate is None and empty.answer_seconds_p50 is None


def test_transfers_are_counted_by_where_the_call_went(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    went = [  # (the transferred event's detail, or None for none; the outcome)
        ({"to": "crisis", "warm": True}, Outcome.TRANSFERRED_CRISIS),  # the peer brought them in
        ({"to": "crisis"}, Outcome.TRANSFERRED_CRISIS),  # the caller pressed 9
        ({}, Outcome.TRANSFERRED_CRISIS),  # an event without detail: 9, the only way then
        ({"to": "peer", "warm": True}, Outcome.CONNECTED),
        ({"to": "admin", "warm": True}, Outcome.CONNECTED),
        ({"to": "backup"}, Outcome.TRANSFERRED_BACKUP),
        (None, Outcome.TRANSFERRED_BACKUP),  # a flood sent to the backup line: no event
    ]
    for n, (detail, outcome) in enumerate(went):
        contact = f"t{n}"
        log(runtime, line_id, contact, EventKind.ARRIVED, local(11, n))
        log(runtime, line_id, contact, EventKind.QUEUED, local(11, n))
        if detail is not None:
            log(runtime, line_id, contact, EventKind.TRANSFERRED, local(11, n + 1), detail=detail)
        log(runtime, line_id, contact, EventKind.ENDED, local(11, n + 1), outcome=outcome)
    aggregate_days(runtime, line_id, [DAY], datetime(2026, 3, 5, 12, tzinfo=UTC))
    report = read_report(runtime, line_id=line_id, start=DAY, end=DAY)
    assert report.transfers_by_kind == {"crisis_warm": 1, "crisis_keypad": 2, "peer": 1,
                                        "admin": 1, "backup": 2}
    assert report.transfers == sum(report.transfers_by_kind.values()) == 7
