"""Helpers shared by the workers' integration tests: rows to build, jobs to run, registries to read."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

from rq.job import Job
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from tests.support.services import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_REDIS_URL,
    TEST_SECRET_KEY,
)
from warmline.models import Contact, Line, Peer, Shift
from warmline.queues import QueueName
from warmline.runtime import Runtime
from warmline.worker import MaskingSimpleWorker

CALLER_NUMBER = "+15551230001"
OTHER_NUMBER = "+15551230002"


def add_line(runtime: Runtime, **fields: Any) -> int:
    values: dict[str, Any] = {
        "number": "+15550000100",
        "name": "Peer Warmline Test",
        "timezone": "America/New_York",
    }
    values.update(fields)
    with runtime.sessions.begin() as session:
        line = Line(**values)
        session.add(line)
        session.flush()
        return line.id


def zone_at_midday(now: datetime) -> str:
    """A time zone where it is about noon at `now`: contacts of the hours before are of today
    there, whenever the test runs (a line's day starts at its local midnight)."""
    offset = 12 - now.hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def add_contact(runtime: Runtime, contact_id: str, line_id: int, arrived_at: datetime, **fields: Any) -> None:
    values: dict[str, Any] = {
        "id": contact_id,
        "line_id": line_id,
        "channel": "voice",
        "caller_hash": runtime.keys.keyed_hash(CALLER_NUMBER),
        "arrived_at": arrived_at,
    }
    values.update(fields)
    with runtime.sessions.begin() as session:
        session.add(Contact(**values))


def add_peer(runtime: Runtime, name: str, phone: str) -> int:
    with runtime.sessions.begin() as session:
        peer = Peer(
            email=f"{name.lower()}@example.org",
            name=name,
            phone_encrypted=runtime.keys.encrypt(phone),
            phone_hash=runtime.keys.keyed_hash(phone),
        )
        session.add(peer)
        session.flush()
        return peer.id


def add_shift(
    runtime: Runtime,
    peer_id: int,
    line_id: int,
    start_local: datetime,
    end_local: time,
    *,
    rrule: str | None = None,
    skip_dates: list[str] | None = None,
) -> int:
    with runtime.sessions.begin() as session:
        shift = Shift(
            peer_id=peer_id,
            line_id=line_id,
            start_local=start_local,
            end_local=end_local,
            rrule=rrule,
            skip_dates=skip_dates or [],
        )
        session.add(shift)
        session.flush()
        return shift.id


def run_jobs(runtime: Runtime, queues: Iterable[QueueName]) -> None:
    """Run every queued job of `queues` in this process (a SimpleWorker, burst mode)."""
    worker = MaskingSimpleWorker([runtime.queue(q) for q in queues], connection=runtime.redis)
    worker.work(burst=True)


def release_scheduled(runtime: Runtime, queues: Iterable[QueueName], until: datetime) -> list[str]:
    """Do what RQ's scheduler does at `until`: move jobs due by then into their queues."""
    moved: list[str] = []
    for name in queues:
        queue = runtime.queue(name)
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_jobs_to_schedule(int(until.timestamp())):
            job = Job.fetch(job_id, connection=runtime.redis)
            registry.remove(job)
            queue.enqueue_job(job)
            moved.append(job_id)
    return moved


def every_job(runtime: Runtime) -> Iterator[Job]:
    """Every job RQ holds, in any queue or registry."""
    seen: set[str] = set()
    for name in QueueName:
        queue = runtime.queue(name)
        ids = list(queue.get_job_ids())
        for registry_class in (
            ScheduledJobRegistry,
            FailedJobRegistry,
            FinishedJobRegistry,
            StartedJobRegistry,
            DeferredJobRegistry,
        ):
            ids += registry_class(queue=queue).get_job_ids()
        for job_id in ids:
            if job_id in seen:
                continue
            seen.add(job_id)
            job = Job.fetch(job_id, connection=runtime.redis)
            yield job


def worker_environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WARMLINE_", "TWILIO_"))}
    environ.update(
        {
            "WARMLINE_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "TWILIO_API_URL": "http://127.0.0.1:9",
            "WARMLINE_PUBLIC_URL": "http://localhost",
            "WARMLINE_SECRET_KEY": TEST_SECRET_KEY,
            "WARMLINE_DATA_KEY": TEST_DATA_KEY,
            "WARMLINE_INSTANCE_DIR": str(tmp_path / "instance"),
        }
    )
    return environ
