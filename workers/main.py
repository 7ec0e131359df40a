"""The worker processes of the Procfile: `python -m workers.main urgent|low [--burst]`.

`urgent` serves the calls, routing and messages queues; `low` the event log and maintenance, so
a long report never delays a ring. Both run RQ's scheduler for their own queues (scheduled
recurring runs and retries with backoff wait in each queue's scheduled registry; a scheduler
only moves the queues it holds the lock of). SIGTERM asks for a warm shutdown: the job in hand
finishes, nothing new starts; a second SIGTERM (or SIGINT) stops at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from rq import Queue

from config import ConfigError, Settings, load_settings
from warmline.clock import utc_now
from warmline.logs import configure_logging
from warmline.queues import SLOW_QUEUES, URGENT_QUEUES, QueueName
from warmline.runtime import build_runtime, make_redis
from warmline.services.upkeep.recurring import reconcile_recurring_jobs
from warmline.wiring import install_dispatchers
from warmline.worker import MaskingWorker

QUEUE_SETS: dict[str, tuple[QueueName, ...]] = {"urgent": URGENT_QUEUES, "low": SLOW_QUEUES}
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


class WarmlineWorker(MaskingWorker):
    """RQ's worker, which also keeps the recurring jobs scheduled (see RECONCILE_EVERY_SECONDS)."""

    settings: Settings
    _reconciled_at = 0.0

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        super().heartbeat(*args, **kwargs)
        if time.monotonic() - self._reconciled_at < RECONCILE_EVERY_SECONDS:
            return
        self._reconciled_at = time.monotonic()
        try:
            reconcile_once(self.settings)
        except Exception as exc:  # noqa: BLE001 - Redis or SQL down: the next heartbeat retries
            log.warning("recurring jobs not reconciled (%s)", type(exc).__name__)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.main", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(QUEUE_SETS), help="which queues to serve")
    parser.add_argument("--burst", action="store_true", help="work until the queues are empty, then exit")
    parser.add_argument("--max-idle", type=int, default=None, help="exit after this many idle seconds")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    install_dispatchers()

    reconcile_once(settings)

    preload_for_forked_jobs()
    # No socket timeout on the worker's own connection: it blocks on BLPOP between jobs. Through
    # Sentinel, RQ's scheduler rebuilds its connection from this one's pool (the same sentinels).
    # RQ's worker quits when Redis drops it mid-bookkeeping (a failover): its process manager
    # starts it again, as after any exit (README "Redis in production").
    connection = make_redis(settings.jobs_redis_url, socket_timeout=None)
    queues = [Queue(name.value, connection=connection) for name in QUEUE_SETS[args.kind]]
    worker = WarmlineWorker(queues, connection=connection,
                            maintenance_interval=SCHEDULER_RETRY_SECONDS,
                            worker_ttl=WORKER_TTL_SECONDS)
    worker.settings = settings
    worker.work(
        burst=args.burst,
        with_scheduler=True,
        logging_level=settings.log_level,
        max_idle_time=args.max_idle,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
