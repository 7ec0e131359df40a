"""The event log: one service call per event, written by a worker, idempotently, and never lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from tests.support.services import _admin_conninfo, make_test_settings, throwaway_postgres_database
from tests.support.workers import (
    CALLER_NUMBER,
    add_contact,
    add_line,
    release_scheduled,
    run_jobs,
)
from warmline.migrations.runner import upgrade_database
from warmline.models import Contact, ContactEvent, EventKind, Outcome
from warmline.queues import QueueName
from warmline.redis_batch import writes_together
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.services.events import UnsafeEventError, record_contact_event
from workers.event_jobs import write_contact_event, write_contact_events

AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def _events(runtime: Runtime) -> list[ContactEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(ContactEvent).order_by(ContactEvent.at)))


def test_events_are_written_by_the_worker_and_end_the_contact_once(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    add_contact(runtime, "c1", line_id, AT)
    caller = runtime.keys.keyed_hash(CALLER_NUMBER)
    common = {"contact_id": "c1", "line_id": line_id, "channel": "voice", "caller_hash": caller}
    record_contact_event(runtime, kind=EventKind.ARRIVED, at=AT, **common)
    record_contact_event(
        runtime,
        kind=EventKind.MENU_CHOICE,
        at=AT + timedelta(seconds=5),
        experience_key="recovery",
        detail={"digit": 2},
        **common,
    )
    record_contact_event(runtime, kind=EventKind.BRIDGED, at=AT + timedelta(seconds=40), **common)
    record_contact_event(
        runtime, kind=EventKind.ENDED, at=AT + timedelta(minutes=9), outcome=Outcome.CONNECTED, **common
    )
    # A late, contradictory outcome (a duplicate status callback) must not overwrite the first.
    record_contact_event(
        runtime, kind=EventKind.ABANDONED, at=AT + timedelta(minutes=10), outcome=Outcome.ABANDONED, **common
    )
    assert _events(runtime) == []  # nothing written until a worker runs: webhooks never wait

    run_jobs(runtime, [QueueName.EVENTS])

    events = _events(runtime)
    assert [e.kind for e in events] == ["arrived", "menu_choice", "bridged", "ended", "abandoned"]
    assert events[1].detail == {"digit": 2} and events[1].experience_key == "recovery"
    assert all(e.caller_hash == caller for e in events)
    with runtime.sessions() as session:
        contact = session.get_one(Contact, "c1")
    assert contact.outcome == "connected"
    assert contact.ended_at == AT + timedelta(minutes=9)
    assert contact.answered_at == AT + timedelta(seconds=40)


def test_running_the_same_event_job_twice_writes_one_row(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    record_contact_event(
        runtime, contact_id="c2", kind=EventKind.ARRIVED, line_id=line_id, channel="sms", at=AT
    )
    job_id = runtime.queue(QueueName.EVENTS).get_job_ids()[0]
    kwargs = Job.fetch(job_id, connection=runtime.redis).kwargs
    run_jobs(runtime, [QueueName.EVENTS])
    assert write_contact_event(**kwargs) is False  # a retry after a lost acknowledgement
    runtime.queue(QueueName.EVENTS).enqueue("workers.event_jobs.write_contact_event", kwargs=kwargs)
    run_jobs(runtime, [QueueName.EVENTS])
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ContactEvent)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("detail", {"from": CALLER_NUMBER}),
        ("detail", {"digits": "5551230001"}),
        ("detail", {"body": "I took too many pills tonight and I am scared"}),
        ("detail", {"nested": {"a": 1}}),
        ("detail", {"n": 15551230001}),
        ("caller_hash", CALLER_NUMBER),
    ],
)
def test_a_number_or_text_never_reaches_a_job(runtime: Runtime, field: str, value: object) -> None:
    arguments: dict[str, object] = {
        "contact_id": "c3",
        "kind": EventKind.ARRIVED,
        "line_id": 1,
        "channel": "sms",
        "at": AT,
        field: value,
    }
    with pytest.raises(UnsafeEventError):
        record_contact_event(runtime, **arguments)  # type: ignore[arg-type]
    assert runtime.queue(QueueName.EVENTS).count == 0


def _set_connections(database: str, allowed: bool) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,)
            )


def test_a_database_outage_during_logging_loses_no_event(runtime: Runtime, tmp_path: Path) -> None:
    with throwaway_postgres_database("warmline_outage") as url:
        upgrade_database(url)
        database = url.rsplit("/", 1)[1]
        outage = build_runtime(make_test_settings(url, tmp_path))
        set_process_runtime(outage)
        try:
            add_contact(outage, "c4", add_line(outage), AT)
            _set_connections(database, allowed=False)
            keys = [
                record_contact_event(
                    outage,
                    contact_id="c4",
                    kind=kind,
                    line_id=None,
                    channel="voice",
                    at=AT + timedelta(seconds=i),
                    outcome=outcome,
                )
                for i, (kind, outcome) in enumerate(
                    [(EventKind.QUEUED, None), (EventKind.ABANDONED, Outcome.ABANDONED)]
                )
            ]
            run_jobs(outage, [QueueName.EVENTS])
            # Each failed once and waits for its retry; none is lost or failed for good.
            for key in keys:
                job = Job.fetch(f"event-{key}", connection=outage.redis)
                assert job.get_status() == JobStatus.SCHEDULED
            assert outage.queue(QueueName.EVENTS).failed_job_registry.count == 0

            # Still down at the first retry: it backs off again.
            release_scheduled(outage, [QueueName.EVENTS], datetime.now(UTC) + timedelta(hours=1))
            run_jobs(outage, [QueueName.EVENTS])
            assert outage.queue(QueueName.EVENTS).scheduled_job_registry.count == 2

            _set_connections(database, allowed=True)
            release_scheduled(outage, [QueueName.EVENTS], datetime.now(UTC) + timedelta(hours=1))
            run_jobs(outage, [QueueName.EVENTS])

            written = {e.event_key for e in _events(outage)}
            assert written == set(keys)
            with outage.sessions() as session:
                assert session.get_one(Contact, "c4").outcome == "abandoned"
        finally:
            _set_connections(database, allowed=True)
            set_process_runtime(runtime)
            outage.close()


def test_the_event_key_is_fresh_for_every_call(runtime: Runtime) -> None:
    keys = {
        record_contact_event(
            runtime, contact_id=uuid.uuid4().hex, kind=EventKind.ARRIVED, line_id=None, channel="voice", at=AT
        )
        for _ in range(3)
    }
    assert len(keys) == 3


def test_events_recorded_together_reach_their_queue_at_the_end_in_one_round_trip(
        runtime: Runtime) -> None:
    """A webhook's events (twilio_guard opens the block) are enqueued once it has its answer,
    all in one MULTI/EXEC and in one job, and still enqueued when the answer failed after
    recording them."""
    line_id = add_line(runtime)
    add_contact(runtime, "c-together", line_id, AT)
    common = {"contact_id": "c-together", "line_id": line_id, "channel": "voice"}
    queue = runtime.queue(QueueName.EVENTS)
    sent: list[int] = []
    pipeline = runtime.jobs_redis.pipeline

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        pipe = pipeline(*args, **kwargs)  # type: ignore[arg-type]
        execute = pipe.execute

        def counted(*a: object, **k: object) -> object:
            sent.append(len(pipe.command_stack))
            return execute(*a, **k)  # type: ignore[arg-type]

        pipe.execute = counted  # type: ignore[method-assign]
        return pipe

    runtime.jobs_redis.pipeline = counting_pipeline  # type: ignore[method-assign]
    try:
        with writes_together():
            record_contact_event(runtime, kind=EventKind.ARRIVED, at=AT, **common)
            record_contact_event(runtime, kind=EventKind.QUEUED, at=AT + timedelta(seconds=1),
                                 **common)
            assert queue.count == 0 and sent == []  # not yet
        # one job for both, in the order they happened
        assert queue.count == 1 and len(sent) == 1
        both = queue.jobs[0]
        assert both.func_name == "workers.event_jobs.write_contact_events"
        assert [e["kind"] for e in both.kwargs["events"]] == ["arrived", "queued"]
        with pytest.raises(RuntimeError), writes_together():
            record_contact_event(runtime, kind=EventKind.ABANDONED, at=AT + timedelta(seconds=2),
                                 **common)
            raise RuntimeError("the answer failed after the event")
        assert queue.count == 2 and len(sent) == 2
        assert queue.jobs[1].func_name == "workers.event_jobs.write_contact_event"  # alone
    finally:
        del runtime.jobs_redis.pipeline
    run_jobs(runtime, [QueueName.EVENTS])
    assert [e.kind for e in _events(runtime)] == ["arrived", "queued", "abandoned"]


def test_a_retried_job_of_a_webhooks_events_writes_only_what_is_missing(
        runtime: Runtime) -> None:
    """The events of one job are each an idempotent insert: a retry after the first of them was
    written (the worker died mid-job) writes the rest, once."""
    line_id = add_line(runtime)
    add_contact(runtime, "c-retry", line_id, AT)
    common = {"contact_id": "c-retry", "line_id": line_id, "channel": "voice"}
    with writes_together():
        record_contact_event(runtime, kind=EventKind.MENU_CHOICE, at=AT, detail={"choice": "x"},
                             **common)
        record_contact_event(runtime, kind=EventKind.QUEUED, at=AT + timedelta(seconds=1),
                             **common)
    events = runtime.queue(QueueName.EVENTS).jobs[0].kwargs["events"]
    assert write_contact_events(events[:1]) == 1  # as if the worker died after the first
    run_jobs(runtime, [QueueName.EVENTS])
    assert [e.kind for e in _events(runtime)] == ["menu_choice", "queued"]
    assert write_contact_events(events) == 0  # once more: nothing new


def test_an_event_that_fails_in_a_webhooks_job_does_not_hold_back_the_others(
        runtime: Runtime) -> None:
    line_id = add_line(runtime)
    add_contact(runtime, "c-partial", line_id, AT)
    common = {"contact_id": "c-partial", "line_id": line_id, "channel": "voice"}
    with writes_together():
        record_contact_event(runtime, kind=EventKind.MENU_CHOICE, at=AT, **common)
        record_contact_event(runtime, kind=EventKind.QUEUED, at=AT + timedelta(seconds=1),
                             **common)
    events = runtime.queue(QueueName.EVENTS).jobs[0].kwargs["events"]
    broken = [{**events[0], "caller_hash": CALLER_NUMBER}, events[1]]  # refused by the writer
    with pytest.raises(UnsafeEventError):
        write_contact_events(broken)
    assert [e.kind for e in _events(runtime)] == ["queued"]  # written all the same
