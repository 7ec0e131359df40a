"""Real RQ jobs in tests: an in-process worker, in bursts or pumping in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from redis import Redis
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty

from warmline.queues import QueueName

ALL_QUEUES: tuple[QueueName, ...] = tuple(QueueName)


class ThreadWorker(SimpleWorker):
    """SimpleWorker that can run outside the main thread (signals belong to the main thread,
    so job timeouts use a timer instead of SIGALRM)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def enqueue_due_scheduled(redis: Redis, names: Sequence[QueueName] = ALL_QUEUES) -> None:
    """Move scheduled jobs whose time has come onto their queues, as RQ's scheduler does."""
    scheduler = RQScheduler([n.value for n in names], connection=redis)
    scheduler.acquire_locks()
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()


def run_jobs(redis: Redis, names: Sequence[QueueName] = ALL_QUEUES) -> bool:
    """Run every queued (and due scheduled) job once, in this process; True if any ran."""
    enqueue_due_scheduled(redis, names)
    queues = [Queue(n.value, connection=redis) for n in names]
    return bool(ThreadWorker(queues, connection=redis).work(burst=True, logging_level="WARNING"))


class JobPump:
    """Runs jobs continuously in a background thread, like a worker process beside the app."""

    def __init__(self, redis: Redis, names: Sequence[QueueName] = ALL_QUEUES,
                 interval: float = 0.05) -> None:
        self.redis = redis
        self.names = names
        self.interval = interval
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-pump", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_jobs(self.redis, self.names)
            except Exception as exc:  # noqa: BLE001 - reported by the test through .errors
                self.errors.append(exc)
            self._stop.wait(self.interval)

    def start(self) -> JobPump:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
