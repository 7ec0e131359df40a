"""Real RQ jobs in tests: the simulator's thread workers (warmline/simulate/jobs.py), over every
queue by default; one pass on demand, or a pump beside the app."""

from __future__ import annotations

from collections.abc import Sequence

from redis import Redis

from warmline.queues import QueueName
from warmline.simulate import jobs

ALL_QUEUES: tuple[QueueName, ...] = tuple(QueueName)


class JobPump(jobs.JobPump):
    """Runs jobs continuously in a background thread, like a worker process beside the app."""

    def __init__(self, redis: Redis, names: Sequence[QueueName] = ALL_QUEUES,
                 interval: float = 0.02) -> None:
        super().__init__(redis, names, interval)


def run_jobs(redis: Redis, names: Sequence[QueueName] = ALL_QUEUES) -> bool:
    """Run every queued (and due scheduled) job once, in this thread; True if any ran. The pump
    is never started: only its one pass is run."""
    return JobPump(redis, names).work_once()
