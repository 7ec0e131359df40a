"""RQ workers in threads of the simulator's process: the Procfile's worker and worker_low, in miniature.

Only what the product runs lives here: `python -m warmline simulate` runs its shift on these
pumps (`simulate/harness.py` LiveSystem), and it and `python -m warmline soak` check the queues
are drained with `queued_jobs`. What only the tests want (one pass over every queue on demand,
the queues and pace they default to) is in `tests/support/jobs.py`, built on `JobPump`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from redis import Redis
from rq import Queue
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty

from warmline.queues import QueueName
from warmline.worker import MaskingSimpleWorker

log = logging.getLogger(__name__)
# Due scheduled jobs (wrap-up ends, retries) are moved onto their queues this often (wall s).
SCHEDULED_EVERY_SECONDS = 0.05


class ThreadWorker(MaskingSimpleWorker):
    """A SimpleWorker that runs outside the main thread: signals belong to the main thread, so
    job timeouts use a timer instead of SIGALRM."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass

    # The pub/sub channel carries `rq` shell commands (kill a horse...), which a thread worker
    # has no use for; joining its listener thread cost 200 ms per burst.
    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def _enqueue_due_scheduled(redis: Redis, names: Sequence[QueueName]) -> None:
    """Move scheduled jobs whose time has come onto their queues, as RQ's scheduler does."""
    scheduler = RQScheduler([n.value for n in names], connection=redis, logging_level=logging.WARNING)
    scheduler.acquire_locks()  # type: ignore[no-untyped-call]
    try:
        scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
    finally:
        scheduler.release_locks()  # type: ignore[no-untyped-call]


def queued_jobs(redis: Redis, names: Sequence[QueueName]) -> int:
    return sum(Queue(n.value, connection=redis).count for n in names)


class JobPump:
    """Works some queues continuously in a background thread, like a worker process."""

    def __init__(self, redis: Redis, names: Sequence[QueueName], interval: float = 0.005) -> None:
        self.redis = redis
        self.names = tuple(names)
        self.interval = interval
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"jobs-{names[0].value}",
                                        daemon=True)

    def work_once(self, *, scheduled: bool = True) -> bool:
        """Run every queued (and, with `scheduled`, due scheduled) job, in the calling thread;
        True if any ran."""
        if scheduled:
            _enqueue_due_scheduled(self.redis, self.names)
        queues = [Queue(n.value, connection=self.redis) for n in self.names]
        if not any(queue.count for queue in queues):
            return False  # a worker's start and end cost more than looking
        return bool(ThreadWorker(queues, connection=self.redis).work(burst=True,
                                                                     logging_level="WARNING"))

    def _loop(self) -> None:
        next_scheduled = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                self.work_once(scheduled=now >= next_scheduled)
                if now >= next_scheduled:
                    next_scheduled = now + SCHEDULED_EVERY_SECONDS
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the shift
                log.warning("job pump: %s", type(exc).__name__)
                self.errors.append(exc)
            self._stop.wait(self.interval)

    def start(self) -> JobPump:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        if self._thread.is_alive():  # a pump left running would take the next run's jobs
            raise RuntimeError(f"job pump {self._thread.name} did not stop within 60 s")
