"""The Procfile's worker as a real process: `python -m workers.main low --burst`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.support.paths import REPO_ROOT
from tests.support.processes import tied_to_this_run
from tests.support.workers import add_line, worker_environment
from warmline.models import ContactEvent, EventKind
from warmline.queues import QueueName
from warmline.runtime import Runtime
from warmline.services.events import record_contact_event
from warmline.services.upkeep.recurring import list_scheduled_recurring


def test_the_low_worker_process_writes_events_and_schedules_the_recurring_jobs(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    line_id = add_line(runtime)
    at = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    key = record_contact_event(
        runtime, contact_id="c-proc", kind=EventKind.ARRIVED, line_id=line_id, channel="voice", at=at
    )
    finished = subprocess.run(
        [sys.executable, "-m", "workers.main", "low", "--burst"],
        cwd=REPO_ROOT,
        env=worker_environment(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    with runtime.sessions() as session:
        assert session.scalars(select(ContactEvent.event_key)).all() == [key]
    assert runtime.queue(QueueName.EVENTS).count == 0
    # Its start reconciled the recurring jobs: each is scheduled once.
    assert all(len(ids) <= 1 for ids in list_scheduled_recurring(runtime).values())
    assert list_scheduled_recurring(runtime)["aggregates"]


def test_a_second_start_does_not_double_the_recurring_jobs(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    environ = worker_environment(database_url, tmp_path)
    for kind in ("urgent", "low"):
        finished = subprocess.run(
            [sys.executable, "-m", "workers.main", kind, "--burst"],
            cwd=REPO_ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr[-2000:]
    assert all(len(ids) <= 1 for ids in list_scheduled_recurring(runtime).values())
    assert list_scheduled_recurring(runtime)["shift-check"]


def test_a_killed_workers_scheduler_is_taken_over_by_the_one_started_in_its_place(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL leaves RQ's scheduler lock held by a dead worker; once it expires, the new worker
    must take the scheduler over within seconds, not at RQ's 10-minute maintenance."""
    import signal
    import time

    from rq.job import Job, JobStatus
    from rq.scheduler import RQScheduler

    environ = worker_environment(database_url, tmp_path)
    lock = RQScheduler.get_locking_key(QueueName.EVENTS.value)
    argv = [sys.executable, "-m", "workers.main", "low"]

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / "worker.log").open("ab") as log:
            return subprocess.Popen(tied_to_this_run(argv), cwd=REPO_ROOT, env=environ,
                                    start_new_session=True,
                                    stdout=log, stderr=subprocess.STDOUT)

    def wait_for(condition: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    first = start()
    second = None
    try:
        assert wait_for(lambda: runtime.redis.get(lock) is not None, 60), "no scheduler started"
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler process
        first.wait(10)
        second = start()
        # The new worker is up (it runs a job) while the dead one's lock is still held...
        job = runtime.queue(QueueName.EVENTS).enqueue("builtins.len", [1, 2])
        assert wait_for(lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60), \
            (tmp_path / "worker.log").read_text()[-3000:]
        assert runtime.redis.get(lock) is not None
        # ...then the lock's TTL runs out (here at once), and a job comes due.
        runtime.redis.delete(lock)
        due = runtime.queue(QueueName.EVENTS).enqueue_at(datetime.now(UTC), "builtins.len", [1])
        assert wait_for(lambda: Job.fetch(due.id, connection=runtime.redis).get_status()
                        == JobStatus.FINISHED, 120), "the new worker never took the scheduler over"
    finally:
        for child in (first, second):
            if child is not None and child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(10)
