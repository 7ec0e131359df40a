"""No job, queued, scheduled, finished or failed, holds a phone number or a message's text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.support.workers import (
    CALLER_NUMBER,
    OTHER_NUMBER,
    add_contact,
    add_line,
    every_job,
    run_jobs,
)
from warmline.models import EventKind, Outcome
from warmline.queues import QueueName
from warmline.runtime import Runtime
from warmline.services.events import record_contact_event
from warmline.services.upkeep.failed_jobs import exception_type_of, failed_jobs_summary
from warmline.services.upkeep.recurring import reconcile_recurring_jobs

AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
MESSAGE = "I took too many pills tonight"


def _digits(number: str) -> str:
    return number.lstrip("+")


def _scenario(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    for i, number in enumerate((CALLER_NUMBER, OTHER_NUMBER)):
        contact_id = f"contact-{i}"
        add_contact(runtime, contact_id, line_id, AT, caller_hash=runtime.keys.keyed_hash(number))
        common = {
            "contact_id": contact_id,
            "line_id": line_id,
            "channel": "sms",
            "caller_hash": runtime.keys.keyed_hash(number),
        }
        record_contact_event(runtime, kind=EventKind.ARRIVED, at=AT, **common)
        record_contact_event(
            runtime, kind=EventKind.RISK_FLAGGED, at=AT + timedelta(seconds=2), detail={"words": 2}, **common
        )
        record_contact_event(
            runtime,
            kind=EventKind.MESSAGE_IN,
            at=AT + timedelta(seconds=3),
            detail={"segments": 1, "media": False},
            **common,
        )
        record_contact_event(
            runtime, kind=EventKind.ENDED, at=AT + timedelta(minutes=5), outcome=Outcome.CONNECTED, **common
        )
    # An erasure request travels as the keyed hash and, for Twilio, the encrypted number.
    runtime.queue(QueueName.MAINTENANCE).enqueue(
        "workers.maintenance_jobs.erase_person",
        kwargs={
            "caller_hash": runtime.keys.keyed_hash(CALLER_NUMBER),
            "encrypted_number": runtime.keys.encrypt(CALLER_NUMBER),
        },
        job_timeout=60,
        result_ttl=3600,
        failure_ttl=7 * 86400,
    )
    # A job that fails for good; its exception's message quotes its argument.
    runtime.queue(QueueName.EVENTS).enqueue(
        "workers.event_jobs.write_contact_event",
        kwargs={
            "event_key": "k" * 32,
            "contact_id": "contact-9",
            "kind": "not_a_kind",
            "line_id": line_id,
            "channel": "sms",
            "at": AT.isoformat(),
        },
        job_id="event-broken",
        result_ttl=3600,
        failure_ttl=7 * 86400,
    )
    reconcile_recurring_jobs(runtime, AT)
    run_jobs(runtime, [QueueName.EVENTS, QueueName.MAINTENANCE])


def test_after_a_scenario_no_job_holds_a_number_or_text(runtime: Runtime) -> None:
    _scenario(runtime)
    jobs = list(every_job(runtime))
    assert len(jobs) >= 5
    for job in jobs:
        held = json.dumps([job.args, job.kwargs, job.description, job.meta], default=str)
        for number in (CALLER_NUMBER, OTHER_NUMBER):
            assert _digits(number)[-7:] not in held, job.id
        assert MESSAGE not in held and "pills" not in held, job.id


def test_a_job_that_failed_for_good_is_shown_to_admins_without_personal_data(runtime: Runtime) -> None:
    _scenario(runtime)
    failed = failed_jobs_summary(runtime)
    assert [f.job_id for f in failed] == ["event-broken"]
    broken = failed[0]
    assert broken.queue == "events"
    assert broken.function == "workers.event_jobs.write_contact_event"
    assert broken.exception_type == "ValueError"
    assert broken.arguments["contact_id"] == "contact-9"
    assert broken.arguments["kind"] == "not_a_kind"
    assert broken.failed_at is not None
    # The message ("'not_a_kind' is not a valid EventKind") is not shown, only the type.
    assert "valid" not in json.dumps([f.__dict__ for f in failed], default=str)


def test_exception_types_come_from_the_last_line_only() -> None:
    trace = (
        "Traceback (most recent call last):\n  ...\n"
        "psycopg.OperationalError: connection to +15551230001 failed\n"
    )
    assert exception_type_of(trace) == "psycopg.OperationalError"
    assert exception_type_of("") == "unknown"
