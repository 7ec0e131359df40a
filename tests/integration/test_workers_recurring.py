"""Recurring jobs: one scheduled instance each, whatever reconciles, restarts or runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from rq.job import Job

from tests.support.workers import release_scheduled, run_jobs
from warmline import keys
from warmline.jobs import RECURRING_JOBS, RecurringJob
from warmline.queues import QueueName
from warmline.runtime import Runtime
from warmline.services.upkeep.recurring import list_scheduled_recurring, reconcile_recurring_jobs

NOW = datetime(2026, 3, 4, 15, 0, 2, tzinfo=UTC)


def _expected() -> set[str]:
    return {e.name for e in RECURRING_JOBS}


def _assert_one_each(runtime: Runtime) -> dict[str, str]:
    scheduled = list_scheduled_recurring(runtime)
    for name, ids in scheduled.items():
        assert len(ids) == (1 if name in _expected() else 0), (name, ids)
    return {name: ids[0] for name, ids in scheduled.items() if ids}


def test_slots_are_aligned_and_strictly_after() -> None:
    hourly = RecurringJob(
        name="h",
        job="x.y",
        every=timedelta(hours=1),
        offset=timedelta(minutes=5),
        queue=QueueName.MAINTENANCE,
        timeout_seconds=1,
    )
    assert hourly.next_slot(NOW) == datetime(2026, 3, 4, 15, 5, tzinfo=UTC)
    assert hourly.next_slot(datetime(2026, 3, 4, 15, 5, tzinfo=UTC)) == datetime(
        2026, 3, 4, 16, 5, tzinfo=UTC
    )
    assert hourly.job_id(hourly.next_slot(NOW)) == "recurring-h-1772636700"


def test_two_reconciles_and_a_restart_schedule_each_job_once(runtime: Runtime) -> None:
    first = reconcile_recurring_jobs(runtime, NOW)
    assert len(first) == len(_expected())
    assert reconcile_recurring_jobs(runtime, NOW) == []
    # A restart a few minutes later, with the first instances still waiting: nothing added.
    assert reconcile_recurring_jobs(runtime, NOW + timedelta(seconds=1)) == []
    ids = _assert_one_each(runtime)
    assert set(ids.values()) == set(first)


def test_concurrent_reconciles_from_several_workers_schedule_each_job_once(runtime: Runtime) -> None:
    barrier = threading.Barrier(6)
    added: list[list[str]] = []

    def reconcile() -> None:
        barrier.wait()
        added.append(reconcile_recurring_jobs(runtime, NOW))

    threads = [threading.Thread(target=reconcile) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(a) for a in added) == len(_expected())
    _assert_one_each(runtime)


def test_a_run_schedules_its_successor_and_stays_single(runtime: Runtime) -> None:
    reconcile_recurring_jobs(runtime, NOW)
    before = _assert_one_each(runtime)
    # The scheduler releases the due runs; the worker runs them (each reconciles first).
    due = release_scheduled(runtime, list(QueueName), datetime.now(UTC) + timedelta(days=2))
    assert set(due) == set(before.values())
    run_jobs(runtime, [QueueName.ROUTING, QueueName.MESSAGES, QueueName.MAINTENANCE])
    after = _assert_one_each(runtime)
    for name, job_id in after.items():
        assert job_id != before[name]
        assert int(job_id.rsplit("-", 1)[1]) > int(before[name].rsplit("-", 1)[1])
    # A restart now changes nothing either.
    assert reconcile_recurring_jobs(runtime, datetime.now(UTC)) == []
    _assert_one_each(runtime)


def test_a_lost_instance_is_rescheduled_by_the_next_reconcile(runtime: Runtime) -> None:
    reconcile_recurring_jobs(runtime, NOW)
    ids = _assert_one_each(runtime)
    lost = Job.fetch(ids["aggregates"], connection=runtime.redis)
    runtime.queue(QueueName.MAINTENANCE).scheduled_job_registry.remove(lost, delete_job=True)
    assert reconcile_recurring_jobs(runtime, NOW) == [ids["aggregates"]]
    _assert_one_each(runtime)


def test_the_reconcile_waits_out_another_holder_of_the_lock(runtime: Runtime) -> None:
    runtime.redis.set(keys.recurring_lock(), "someone-else", px=200)
    assert len(reconcile_recurring_jobs(runtime, NOW)) == len(_expected())
