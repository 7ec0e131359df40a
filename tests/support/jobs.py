"""Real RQ jobs in tests: the simulator's thread workers, over every queue by default."""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from warmline.queues import QueueName
from warmline.simulate import jobs

ALL_QUEUES: tuple[QueueName, ...] = tuple(QueueName)
ThreadWorker = jobs.ThreadWorker


def enqueue_due_scheduled(redis: Redis, names: Sequence[QueueName] = ALL_QUEUES) -> None:
    jobs.enqueue_due_scheduled(redis, names)


def run_jobs(redis: Redis, names: Sequence[QueueName] = ALL_QUEUES) -> bool:
    """Run every queued (and due scheduled) job once, in this process; True if any ran."""
    return jobs.run_jobs(redis, names)


class JobPump(jobs.JobPump):
    """Runs jobs continuously in a background thread, like a worker process beside the app."""

    def __init__(self, redis: Redis, names: Sequence[QueueName] = ALL_QUEUES,
                 interval: float = 0.02) -> None:
        super().__init__(redis, names, interval)
