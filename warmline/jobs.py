"""Every job the app enqueues, declared once: import path, queue, timeout, TTLs and retries.

A job's import path is public API (a job already in Redis names it), so a path here changes only
with a job function kept at the old path. Services enqueue through these specs, never through
`Queue.enqueue` with a typed path; the recurring jobs' table is in `RECURRING_JOBS` below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rq import Retry

from warmline import epoch
from warmline.queues import QueueName

if TYPE_CHECKING:
    from redis.client import Pipeline
    from rq.job import Job

    from warmline.runtime import Runtime

# A failed job's record (and traceback) is kept this long for an admin to look at or requeue.
FAILURE_TTL_SECONDS = 86_400
# Jobs whose loss would lose a durable fact (the event log, peers' hours) are kept a week.
LONG_FAILURE_TTL_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class JobSpec:
    """One job function and how it is enqueued."""

    path: str
    queue: QueueName
    timeout_seconds: int
    result_ttl_seconds: int
    failure_ttl_seconds: int = FAILURE_TTL_SECONDS
    retries: tuple[int, ...] = ()
    """Backoff of retries, in seconds; none by default (the sweeper or the next run repairs)."""

    def _options(self, job_id: str | None, unique: bool, kwargs: dict[str, Any] | None,
                 description: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "job_timeout": self.timeout_seconds,
            "result_ttl": self.result_ttl_seconds,
            "failure_ttl": self.failure_ttl_seconds,
        }
        if self.retries:
            options["retry"] = Retry(max=len(self.retries), interval=list(self.retries))
        if job_id is not None:
            options["job_id"] = job_id
        if unique:
            options["unique"] = True
        if kwargs is not None:
            options["kwargs"] = kwargs
        if description is not None:
            options["description"] = description
        return options

    def enqueue(self, runtime: Runtime, *args: Any, job_id: str | None = None, unique: bool = False,
                kwargs: dict[str, Any] | None = None, description: str | None = None) -> Job:
        return runtime.queue(self.queue).enqueue(
            self.path, *args, **self._options(job_id, unique, kwargs, description))

    def enqueue_on(self, runtime: Runtime, pipe: Pipeline, *args: Any, job_id: str | None = None,
                   kwargs: dict[str, Any] | None = None, description: str | None = None) -> None:
        """Enqueue on a pipeline the caller executes (warmline.redis_batch): one round trip for
        several writes, where `enqueue` takes two of its own."""
        runtime.queue(self.queue).enqueue_call(
            self.path, args=args, kwargs=kwargs, timeout=self.timeout_seconds,
            result_ttl=self.result_ttl_seconds, failure_ttl=self.failure_ttl_seconds,
            description=description, job_id=job_id, retry=retry_of(self.retries), pipeline=pipe)

    def enqueue_at(self, runtime: Runtime, at: datetime, *args: Any, job_id: str | None = None,
                   unique: bool = False, kwargs: dict[str, Any] | None = None,
                   description: str | None = None) -> Job:
        job: Job = runtime.queue(self.queue).enqueue_at(
            at, self.path, *args, **self._options(job_id, unique, kwargs, description))
        return job

    def enqueue_in(self, runtime: Runtime, delay: timedelta, *args: Any, job_id: str | None = None,
                   unique: bool = False, kwargs: dict[str, Any] | None = None,
                   description: str | None = None) -> Job:
        job: Job = runtime.queue(self.queue).enqueue_in(
            delay, self.path, *args, **self._options(job_id, unique, kwargs, description))
        return job


# Voice: ring a peer for a live call's offer; remind a peer on a long call.
RING_PEER = JobSpec("workers.voice_jobs.ring_peer", QueueName.FAST, 30, 300)
REMIND_LONG_CALL = JobSpec("workers.voice_jobs.remind_long_call", QueueName.CALLS, 30, 300)
# A warm transfer's search for another peer, given up when nobody took it in time.
GIVE_UP_PEER_SEARCH = JobSpec("workers.voice_jobs.give_up_peer_search", QueueName.CALLS, 30, 300)
# Someone brought into a call (warm transfer, a mentor) looked for in the room, in case the
# room's participant-join callback is late or lost.
CHECK_BROUGHT_IN = JobSpec("workers.voice_jobs.check_brought_in", QueueName.CALLS, 30, 300)

# Callbacks: place a taken callback, ring its peer, then call the caller (retried: the peer waits).
PLACE_CALLBACK = JobSpec("workers.callback_jobs.place_callback", QueueName.CALLS, 60, 300)
RING_CALLBACK_PEER = JobSpec("workers.callback_jobs.ring_peer", QueueName.FAST, 30, 300)
CALL_CALLER = JobSpec("workers.callback_jobs.call_caller", QueueName.CALLS, 40, 300,
                      retries=(2, 5, 10))

# Routing: a wrap-up's and a rest break's end. The sweeper ends overdue ones too.
END_WRAP_UP = JobSpec("workers.routing_jobs.end_wrap_up", QueueName.FAST, 30, 600)
END_REST_BREAK = JobSpec("workers.routing_jobs.end_rest_break", QueueName.FAST, 30, 600)

# Texts. 429 and 5xx from Twilio: retried with backoff, about two minutes in all, then left failed.
SEND_TEXTS = JobSpec("workers.text_jobs.send_texts", QueueName.MESSAGES, 30, 0,
                     retries=(2, 5, 15, 30, 60))
CLOSE_IF_IDLE = JobSpec("workers.text_jobs.close_if_idle", QueueName.MESSAGES, 30, 0)
CHECK_TEXT_WAIT = JobSpec("workers.text_jobs.check_wait", QueueName.MESSAGES, 30, 0)
SEND_PEER_TEXT = JobSpec("workers.text_jobs.send_peer_text", QueueName.MESSAGES, 30, 0,
                         retries=(5, 30, 120))

# The event log. About 45 minutes of retries: a database restart or failover is covered; after
# that the job sits in the failed registry (kept a week) for an admin to requeue, so nothing is
# lost silently. Nothing to read back: the row is the result.
WRITE_CONTACT_EVENT = JobSpec("workers.event_jobs.write_contact_event", QueueName.EVENTS, 30, 0,
                              failure_ttl_seconds=LONG_FAILURE_TTL_SECONDS,
                              retries=(2, 5, 15, 30, 60, 120, 300, 600, 900, 900))
# A webhook's events (the menu's answer: the choice, then the caller queued) in one job, written
# in order; each is still its own idempotent insert, so a retry writes only what is missing.
WRITE_CONTACT_EVENTS = JobSpec("workers.event_jobs.write_contact_events", QueueName.EVENTS, 30,
                               0, failure_ttl_seconds=LONG_FAILURE_TTL_SECONDS,
                               retries=WRITE_CONTACT_EVENT.retries)
WRITE_PEER_ACTIVITY = JobSpec("workers.event_jobs.write_peer_activity", QueueName.EVENTS, 30, 0,
                              failure_ttl_seconds=LONG_FAILURE_TTL_SECONDS,
                              retries=(2, 5, 15, 30, 60, 120, 300, 600))

# A DELETE's erasure: the number rides only encrypted, and the record is dropped once it has run.
ERASE_PERSON = JobSpec("workers.maintenance_jobs.erase_person", QueueName.MAINTENANCE, 600, 0)

# One run of a recurring job; its queue, timeout and TTL are the recurring entry's own.
RUN_RECURRING_PATH = "workers.schedule_jobs.run_recurring"
RECURRING_FAILURE_TTL_SECONDS = LONG_FAILURE_TTL_SECONDS


def retry_of(intervals: Sequence[int]) -> Retry | None:
    return Retry(max=len(intervals), interval=list(intervals)) if intervals else None


# Recurring jobs ----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RecurringJob:
    """A job run every `every`, at epoch-aligned slots shifted by `offset` (UTC)."""

    name: str
    job: str
    """Import path of a job function taking no arguments."""
    every: timedelta
    queue: QueueName
    timeout_seconds: int
    offset: timedelta = timedelta(0)
    retries: tuple[int, ...] = ()
    """Backoff of retries, in seconds; frequent jobs have none (the next run is the retry)."""
    result_ttl_seconds: int = 0

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError("a recurring job's interval must be positive")

    def next_slot(self, after: datetime) -> datetime:
        """The first slot strictly after `after`."""
        step = self.every.total_seconds()
        elapsed = (after - _EPOCH - self.offset).total_seconds()
        index = math.floor(elapsed / step) + 1
        return _EPOCH + self.offset + timedelta(seconds=index * step)

    def job_id(self, slot: datetime) -> str:
        return f"recurring-{self.name}-{int(epoch.seconds(slot))}"  # ids already in Redis read so


RECURRING_JOBS: tuple[RecurringJob, ...] = (
    # Repairs what a crash left in routing (lapsed offers, a peer busy with no live call).
    # It also rebuilds live state by itself after a Redis loss.
    RecurringJob(
        name="routing-sweep",
        job="workers.routing_jobs.sweep",
        every=timedelta(seconds=5),
        queue=QueueName.ROUTING,
        timeout_seconds=30,
    ),
    # Voice contacts whose hang-up was lost (an outage when Twilio's one status callback came).
    RecurringJob(
        name="unseen-hangups",
        job="workers.routing_jobs.close_unseen_hangups",
        every=timedelta(seconds=30),
        queue=QueueName.ROUTING,
        timeout_seconds=25,
    ),
    # Callbacks: expire, repair crashed attempts, start the due ones.
    RecurringJob(
        name="callbacks",
        job="workers.callback_jobs.place_due_callbacks",
        every=timedelta(seconds=15),
        queue=QueueName.ROUTING,
        timeout_seconds=60,
    ),
    # Text conversations schedule their own inactivity close and wait bound; this repairs any
    # whose check was lost (a worker died holding it), so no conversation stays open forever.
    RecurringJob(
        name="idle-texts",
        job="workers.text_jobs.close_idle_conversations",
        every=timedelta(minutes=5),
        queue=QueueName.MESSAGES,
        timeout_seconds=120,
    ),
    RecurringJob(
        name="shift-check",
        job="workers.schedule_jobs.check_shifts",
        every=timedelta(minutes=1),
        queue=QueueName.ROUTING,
        timeout_seconds=50,
    ),
    RecurringJob(
        name="shift-reminders",
        job="workers.schedule_jobs.send_shift_reminders",
        every=timedelta(minutes=1),
        queue=QueueName.MESSAGES,
        timeout_seconds=50,
    ),
    RecurringJob(
        name="aggregates",
        job="workers.maintenance_jobs.compute_aggregates",
        every=timedelta(hours=1),
        offset=timedelta(minutes=5),
        queue=QueueName.MAINTENANCE,
        timeout_seconds=1800,
        retries=(60, 300),
        result_ttl_seconds=86_400,
    ),
    RecurringJob(
        name="retention",
        job="workers.maintenance_jobs.apply_retention",
        every=timedelta(days=1),
        offset=timedelta(hours=3, minutes=30),
        queue=QueueName.MAINTENANCE,
        timeout_seconds=3600,
        retries=(300, 1800, 3600),
        result_ttl_seconds=7 * 86_400,
    ),
    # Peers' hours: each finished UTC day rolled up once, raw facts past 90 days pruned.
    RecurringJob(
        name="peer-hours",
        job="workers.maintenance_jobs.roll_up_peer_hours",
        every=timedelta(days=1),
        offset=timedelta(hours=2, minutes=15),
        queue=QueueName.MAINTENANCE,
        timeout_seconds=1800,
        retries=(300, 1800),
        result_ttl_seconds=7 * 86_400,
    ),
    RecurringJob(
        name="coverage-report",
        job="workers.schedule_jobs.send_coverage_report",
        every=timedelta(days=1),
        offset=timedelta(hours=7),
        queue=QueueName.MAINTENANCE,
        timeout_seconds=600,
        retries=(300, 1800),
        result_ttl_seconds=7 * 86_400,
    ),
)
