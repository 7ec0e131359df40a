"""Recurring jobs: a reconcile that keeps exactly one next run of each scheduled.

How a recurring job stays single
    * Each run is an RQ scheduled job (``Queue.enqueue_at``) of ``workers.schedule_jobs.run_recurring``
      whose id is deterministic: ``recurring-<name>-<slot epoch seconds>``, the slot being the
      next multiple of the job's interval (plus its offset) after now. Two processes that want
      the same slot build the same id, and RQ's ``unique=True`` refuses the second.
    * ``reconcile_recurring_jobs`` runs under a Redis lock (SET NX PX, via redis-py's ``Lock``).
      For each job it looks at the instance it scheduled last (its id is kept in Redis): while
      that one is still scheduled or queued, nothing is done; otherwise the next slot is
      scheduled. So two reconciles, a restart, or two workers starting at once leave one
      instance, never two.
    * It runs at every worker start and at the start of every run of any recurring job (before
      the job's own work, so a run that fails or is killed still leaves its successor), so a
      chain broken by a lost Redis or a crash is repaired within one interval of the busiest job.

Adding a job is one row in ``warmline.jobs.RECURRING_JOBS`` naming its job import path; the job
function takes no arguments (it builds its context and calls one service).
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime

from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from warmline import jobs, keys
from warmline.jobs import RECURRING_JOBS, RecurringJob
from warmline.runtime import Runtime

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 5.0
_PENDING = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.DEFERRED})


def find_recurring_job(name: str, table: tuple[RecurringJob, ...] = RECURRING_JOBS) -> RecurringJob:
    for entry in table:
        if entry.name == name:
            return entry
    raise KeyError(f"no recurring job named {name!r}")


def _pending_instance(runtime: Runtime, entry: RecurringJob) -> str | None:
    raw = runtime.redis.get(keys.recurring_next(entry.name))
    if raw is None:
        return None
    job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        job = Job.fetch(job_id, connection=runtime.jobs_redis)
    except NoSuchJobError:
        return None
    return job_id if job.get_status(refresh=False) in _PENDING else None


def _schedule_next(runtime: Runtime, entry: RecurringJob, after: datetime) -> str:
    queue = runtime.queue(entry.queue)
    slot = entry.next_slot(after)
    # A few tries: a slot's id may already be taken by a run that finished (its result kept)
    # or is running now; the slot after it is then the next one.
    for _ in range(4):
        job_id = entry.job_id(slot)
        try:
            queue.enqueue_at(
                slot,
                jobs.RUN_RECURRING_PATH,
                kwargs={"name": entry.name, "slot": slot.isoformat()},
                job_id=job_id,
                unique=True,
                job_timeout=entry.timeout_seconds,
                result_ttl=entry.result_ttl_seconds,
                failure_ttl=jobs.RECURRING_FAILURE_TTL_SECONDS,
                retry=jobs.retry_of(entry.retries),
                description=f"recurring {entry.name}",
            )
        except DuplicateJobError:
            existing = Job.fetch(job_id, connection=runtime.jobs_redis)
            if existing.get_status(refresh=False) in _PENDING:
                break
            slot = entry.next_slot(slot)
            continue
        break
    runtime.redis.set(keys.recurring_next(entry.name), job_id)
    return job_id


def reconcile_recurring_jobs(
    runtime: Runtime,
    now: datetime,
    *,
    after: dict[str, datetime] | None = None,
    table: tuple[RecurringJob, ...] = RECURRING_JOBS,
) -> list[str]:
    """Make sure each recurring job has exactly one next run scheduled; return the ids added.

    `after` names, per job, an instant its next slot must follow (a run passes its own slot, so
    a clock running slightly behind the scheduler's never schedules the run that is running).
    Returns [] without doing anything if another process holds the lock for over
    LOCK_WAIT_SECONDS: that process is doing the same work.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lock = runtime.redis.lock(
        keys.recurring_lock(),
        timeout=keys.RECURRING_LOCK_TTL_MS / 1000,
        blocking_timeout=LOCK_WAIT_SECONDS,
    )
    if not lock.acquire():
        log.warning("recurring jobs: lock busy, another process is reconciling")
        return []
    added: list[str] = []
    try:
        for entry in table:
            if _pending_instance(runtime, entry) is not None:
                continue
            floor = max(now, (after or {}).get(entry.name, now))
            added.append(_schedule_next(runtime, entry, floor))
    finally:
        lock.release()
    return added


def list_scheduled_recurring(
    runtime: Runtime, table: tuple[RecurringJob, ...] = RECURRING_JOBS
) -> dict[str, list[str]]:
    """Every scheduled or queued instance of each recurring job, by name (for checks and admins)."""
    found: dict[str, list[str]] = {entry.name: [] for entry in table}
    for queue_name in {entry.queue for entry in table}:
        queue = runtime.queue(queue_name)
        ids = list(queue.scheduled_job_registry.get_job_ids()) + list(queue.get_job_ids())
        for job_id in ids:
            for entry in table:
                if job_id.startswith(f"recurring-{entry.name}-"):
                    found[entry.name].append(job_id)
    return found


def run_recurring_job(runtime: Runtime, name: str, slot: str, now: datetime) -> None:
    """One run of a recurring job: first schedule its successor, then call the job itself."""
    entry = find_recurring_job(name)
    reconcile_recurring_jobs(runtime, now, after={name: datetime.fromisoformat(slot)})
    module_name, _, attribute = entry.job.rpartition(".")
    getattr(importlib.import_module(module_name), attribute)()
