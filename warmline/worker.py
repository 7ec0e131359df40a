"""The RQ worker classes Warmline runs: a failed job is recorded as clean as a log line.

RQ keeps a failed job's traceback (in the job and its results, for `failure_ttl`) and logs it.
An exception's message may quote what a provider answered, and Twilio's errors name the number
they refused, so the traceback is masked (warmline.logs) before RQ stores or sends it anywhere.
"""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker, Worker
from rq.job import Job
from rq.queue import Queue

from warmline.logs import mask_numbers


class MaskingWorkerMixin:
    """Masks phone numbers in the traceback RQ records for a failed job."""

    def handle_job_failure(self, job: Job, queue: Queue, started_job_registry: Any = None,
                           exc_string: str = "", execution: Any = None) -> None:
        super().handle_job_failure(  # type: ignore[misc]
            job, queue, started_job_registry=started_job_registry,
            exc_string=mask_numbers(exc_string), execution=execution)


class MaskingWorker(MaskingWorkerMixin, Worker):
    """The Procfile's workers: a forked work horse per job."""


class MaskingSimpleWorker(MaskingWorkerMixin, SimpleWorker):
    """Jobs in the worker's own process: the fast queue's worker (workers/main.py), the tests'
    and the simulator's.

    Its safety is the forking worker's, but for a crash: a job's timeout is RQ's same alarm
    (SIGALRM in this main thread, raising in the job), and the worker's registration is kept
    alive for the job's timeout plus a minute while it runs. A job that takes the process down
    takes the worker with it: whoever started the worker starts it again (the `worker`
    process for its fast child, a process manager otherwise), and RQ's registry cleanup fails
    the job it held, as it does a dead work horse's.
    """
