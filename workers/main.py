"""The worker processes of the Procfile: `python -m workers.main urgent|low [--burst]`.

`urgent` serves the calls, routing and messages queues, and starts (and starts again) the `fast`
worker as its child: sub-second jobs (ringing a peer, a wrap-up's end) run there in the
worker's own process, never behind a fork or a slow job; `low` serves maintenance, so a long
report never delays a ring, and starts the `events` worker as its child, which writes the event
log in its own process too (a forked work horse per event opened a database connection per
event: a new PostgreSQL backend reads some 500 catalog rows before its first statement). The
urgent and low workers run RQ's scheduler for their own queues and their children's (scheduled
recurring runs and retries with backoff wait in each queue's scheduled registry; a scheduler
only moves the queues it holds the lock of). SIGTERM asks for a warm shutdown: the job in hand
finishes, nothing new starts; a second SIGTERM (or SIGINT) stops at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from typing import Any

from rq import Queue
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

from config import ConfigError, Settings, load_settings
from warmline.clock import utc_now
from warmline.config_cache import config_of
from warmline.logs import configure_logging
from warmline.queues import FAST_QUEUES, SLOW_QUEUES, URGENT_QUEUES, QueueName
from warmline.runtime import build_runtime, make_redis, process_runtime
from warmline.services.upkeep.recurring import reconcile_recurring_jobs
from warmline.wiring import install_dispatchers
from warmline.worker import MaskingSimpleWorker, MaskingWorker
from workers.child import ChildWorker

QUEUE_SETS: dict[str, tuple[QueueName, ...]] = {
    "urgent": URGENT_QUEUES, "low": SLOW_QUEUES, "fast": FAST_QUEUES,
    "events": (QueueName.EVENTS,)}
# The Procfile's workers and the non-forking worker each starts as its child.
CHILD_OF = {"urgent": "fast", "low": "events"}
IN_PROCESS_KINDS = frozenset(CHILD_OF.values())
log = logging.getLogger("workers")
# A Redis that comes back empty loses every scheduled recurring run with it; each worker checks
# this often that each recurring job has its next run, so the chain (the sweeper, callbacks,
# shift checks...) restarts by itself even when no call or peer comes along to meet the loss.
RECONCILE_EVERY_SECONDS = 10.0
# A worker that was killed (OOM, a host's crash: no warm shutdown) leaves RQ's scheduler lock
# behind for a minute (its TTL), so the worker started in its place finds the lock taken and runs
# no scheduler. RQ only tries again at its maintenance, every 10 minutes by default: that long
# without wrap-up ends, call backs, deadlines or the sweeper (found by `warmline soak`). Trying
# every few seconds takes the scheduler over soon after the stale lock expires. Maintenance runs
# between jobs or when the wait for one times out (RQ waits worker_ttl - 15 s), so an idle worker
# needs the short TTL too; it also makes a dead worker's registration expire in 20 s. RQ heartbeats
# (and so reconciles, below) at least every worker_ttl - 15 s while idle.
SCHEDULER_RETRY_SECONDS = 5
WORKER_TTL_SECONDS = 20


# How long a stopping worker waits for its child's job in hand (the children's jobs' timeouts).
CHILD_STOP_SECONDS = 35.0


class WarmlineWorker(MaskingWorker):
    """RQ's worker, which also keeps the recurring jobs scheduled (see RECONCILE_EVERY_SECONDS)."""

    settings: Settings
    child: ChildWorker | None = None
    scheduled_too: tuple[QueueName, ...] = ()
    """Queues whose scheduled jobs this worker's scheduler moves though it does not serve them:
    the child worker forks no scheduler of its own, so a child killed at once leaves no
    scheduler process behind to hold the queue's lock."""
    _reconciled_at = 0.0
    main_pid = os.getpid()
    """The worker's own process (set again when the worker starts, below)."""

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
                         log_format: str = DEFAULT_LOGGING_FORMAT) -> None:
        # RQ's own (rq 3.0, pinned), with the scheduler given `scheduled_too` as well.
        served = {queue.name for queue in self.queues}
        extra = [Queue(name.value, connection=self.connection)
                 for name in self.scheduled_too if name.value not in served]
        scheduler: Any = RQScheduler(
            [*self.queues, *extra], connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format, log_format=log_format, serializer=self.serializer)
        self.scheduler = scheduler
        scheduler.acquire_locks()
        if not scheduler.acquired_locks:
            return
        if burst:
            try:
                scheduler.register_birth()
                scheduler.enqueue_scheduled_jobs()
            finally:
                scheduler.release_locks()
                scheduler.register_death()
        else:
            scheduler.start()

    def request_stop(self, signum: Any, frame: Any) -> None:
        # Before RQ's own handler, which raises when the worker is idle.
        if self.child is not None:
            self.child.request_stop()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        super().heartbeat(*args, **kwargs)
        if os.getpid() != self.main_pid:
            # A work horse heartbeats too, as its job starts (RQ's prepare_job_execution): the
            # child and the reconcile are the worker's own. A horse that "restarted" the child
            # (whose exit status it cannot see) orphaned a new one per forked job, each a
            # whole interpreter (0.75 s of CPU) that stopped at its first heartbeat.
            return
        if self.child is not None:
            self.child.keep_alive()
        if time.monotonic() - self._reconciled_at < RECONCILE_EVERY_SECONDS:
            return
        self._reconciled_at = time.monotonic()
        try:
            reconcile_once(self.settings)
        except Exception as exc:  # noqa: BLE001 - Redis or SQL down: the next heartbeat retries
            log.warning("recurring jobs not reconciled (%s)", type(exc).__name__)


class InProcessWorker(MaskingSimpleWorker):
    """A child worker (fast, events): jobs in this process (see warmline.worker), its parent
    watched."""

    parent_pid: int | None = None

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        super().heartbeat(*args, **kwargs)
        if self.parent_pid is not None and os.getppid() != self.parent_pid:
            # The `worker` that started this one is gone (killed at once): so is this one, warm.
            log.warning("the worker that started this one is gone; stopping")
            self.parent_pid = None
            os.kill(os.getpid(), signal.SIGTERM)


def reconcile_once(settings: Settings) -> list[str]:
    """Reconcile with a runtime that is closed again at once: RQ forks work horses from this
    process, and jobs build their own connections (process_runtime), never reuse these."""
    runtime = build_runtime(settings)
    try:
        added = reconcile_recurring_jobs(runtime, utc_now())
    finally:
        runtime.close()
    if added:
        log.info("recurring jobs reconciled: %d scheduled", len(added))
    return added


def preload_for_forked_jobs() -> None:
    """Do once, before RQ forks a work horse per job, what every job would otherwise redo.

    Measured by bench/voice.py: ringing a peer fell from 179 to 56 ms at p50 once twilio's REST
    modules are imported and SQLAlchemy's mappers configured in the parent (no sockets opened).
    """
    from sqlalchemy.orm import configure_mappers  # noqa: PLC0415

    import warmline.models  # noqa: F401, PLC0415
    from warmline.telephony.gateway import preload  # noqa: PLC0415

    preload()
    configure_mappers()


def warm_in_process_worker() -> None:
    """A child worker's jobs share this process's runtime: connect it and fill the line cache
    now, so the first ring does not pay for it. Only RQ's scheduler is forked from here, and it
    leaves without running finalizers (os._exit), so these connections stay the job's own."""
    preload_for_forked_jobs()
    runtime = process_runtime()
    with runtime.sessions() as session:
        config_of(session)
    runtime.redis.ping()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.main", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(QUEUE_SETS), help="which queues to serve")
    parser.add_argument("--burst", action="store_true", help="work until the queues are empty, then exit")
    parser.add_argument("--max-idle", type=int, default=None, help="exit after this many idle seconds")
    parser.add_argument("--without-child", action="store_true",
                        help="urgent, low: do not start the fast or events worker as a child "
                             "(run that one on its own)")
    parser.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    install_dispatchers()

    if args.kind in IN_PROCESS_KINDS:
        warm_in_process_worker()
    else:
        reconcile_once(settings)
        preload_for_forked_jobs()
    # No socket timeout on the worker's own connection: it blocks on BLPOP between jobs. Through
    # Sentinel, RQ's scheduler rebuilds its connection from this one's pool (the same sentinels).
    # RQ's worker quits when Redis drops it mid-bookkeeping (a failover): its process manager
    # starts it again, as after any exit (README "Redis in production").
    connection = make_redis(settings.jobs_redis_url, socket_timeout=None)
    child_kind = None if args.without_child else CHILD_OF.get(args.kind)
    served = [name for name in QUEUE_SETS[args.kind]
              if child_kind is None or name not in QUEUE_SETS[child_kind]]
    queues = [Queue(name.value, connection=connection) for name in served]
    options: dict[str, Any] = {"connection": connection,
                               "maintenance_interval": SCHEDULER_RETRY_SECONDS,
                               "worker_ttl": WORKER_TTL_SECONDS}
    worker: MaskingWorker | MaskingSimpleWorker
    child: ChildWorker | None = None
    if args.kind in IN_PROCESS_KINDS:
        worker = InProcessWorker(queues, **options)
        worker.parent_pid = args.parent
    else:
        worker = WarmlineWorker(queues, **options)
        worker.main_pid = os.getpid()
        worker.settings = settings
        worker.scheduled_too = QUEUE_SETS[CHILD_OF[args.kind]]
        if child_kind is not None:
            child = worker.child = ChildWorker(child_kind, burst=args.burst,
                                               max_idle=args.max_idle).start()
    try:
        worker.work(
            burst=args.burst,
            with_scheduler=args.kind not in IN_PROCESS_KINDS,
            logging_level=settings.log_level,
            max_idle_time=args.max_idle,
        )
    finally:
        if child is not None:
            child.wait(CHILD_STOP_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
