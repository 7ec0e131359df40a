"""The fast queue's worker, as the Procfile's `worker` runs it: a child of `workers.main urgent`
that runs its jobs in its own process (no fork per job), started again when it dies."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rq import Worker
from rq.job import Job

from tests.support.paths import REPO_ROOT
from tests.support.workers import worker_environment
from warmline import jobs
from warmline.queues import QueueName
from warmline.runtime import Runtime


def _wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return value


def _pid_of_a_fast_job(runtime: Runtime) -> int:
    job = runtime.queue(QueueName.FAST).enqueue("os.getpid", result_ttl=60)
    _wait_for(lambda: job.get_status(refresh=True) == "finished", 60, "a fast job to run")
    pid = Job.fetch(job.id, connection=runtime.redis).return_value()
    assert isinstance(pid, int)
    return pid


def _finished(job: Job) -> bool:
    return job.get_status(refresh=True) == "finished"


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _urgent_worker(database_url: str, tmp_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """The Procfile's `worker`, in a session of its own (its child in it too), logging to
    `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.main", "urgent"], cwd=REPO_ROOT,
            env=worker_environment(database_url, tmp_path), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)


def test_the_ring_and_the_wrap_ups_end_go_to_the_fast_queue() -> None:
    assert {jobs.RING_PEER.queue, jobs.RING_CALLBACK_PEER.queue, jobs.END_WRAP_UP.queue,
            jobs.END_REST_BREAK.queue} == {QueueName.FAST}


def test_the_urgent_worker_runs_fast_jobs_in_a_child_that_does_not_fork_and_comes_back(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "worker.log"
    worker = _urgent_worker(database_url, tmp_path, log_path)
    try:
        first = _pid_of_a_fast_job(runtime)
        # One process for every job, the urgent worker's child: no work horse per job.
        assert _pid_of_a_fast_job(runtime) == first
        assert first != worker.pid and _parent_of(first) == worker.pid
        os.kill(first, signal.SIGKILL)  # as a job that takes its process down would
        # (A job enqueued before its successor listens may be handed to the dead worker's
        # blocked read: RQ fails such a job later, as it does for a dead forking worker.)
        _wait_for(lambda: any(w.pid not in (None, first)
                              for w in Worker.all(queue=runtime.queue(QueueName.FAST))),
                  60, "a fast worker started again")
        second = _pid_of_a_fast_job(runtime)
        assert second != first and _parent_of(second) == worker.pid
        # A warm stop of the urgent worker stops its child too.
        worker.terminate()
        worker.wait(60)
        _wait_for(lambda: not Path(f"/proc/{second}").exists()
                  or "Z" in Path(f"/proc/{second}/stat").read_text().rsplit(")", 1)[1][:3],
                  60, "the fast worker to stop with its parent")
    except AssertionError:
        print(log_path.read_text()[-5000:])
        raise
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        # A child left behind by a failed assertion (same process group as the worker).
        for pid_dir in Path("/proc").iterdir():
            if pid_dir.name.isdigit():
                try:
                    if os.getpgid(int(pid_dir.name)) == worker.pid:
                        os.kill(int(pid_dir.name), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


def _fast_workers_of(worker_pid: int) -> list[int]:
    """Every process running `workers.main fast --parent <worker_pid>`, orphans included."""
    found = []
    for pid_dir in Path("/proc").iterdir():
        try:
            argv = (pid_dir / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"workers.main" in argv and b"fast" in argv and str(worker_pid).encode() in argv:
            found.append(int(pid_dir.name))
    return found


def test_a_forked_job_leaves_the_fast_child_alone(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    """A work horse heartbeats as its job starts; the worker's heartbeat keeps its child alive.
    Run in a horse, that started a second fast worker per forked job (the horse cannot see the
    child's exit status, so it looked dead), orphaned when the horse exited."""
    log_path = tmp_path / "worker.log"
    worker = _urgent_worker(database_url, tmp_path, log_path)
    try:
        child = _pid_of_a_fast_job(runtime)
        for _ in range(3):  # forked jobs: one work horse each
            job = runtime.queue(QueueName.ROUTING).enqueue("os.getpid", result_ttl=60)
            _wait_for(functools.partial(_finished, job), 60, "a routing job to run")
            assert Job.fetch(job.id, connection=runtime.redis).return_value() != worker.pid
        # A horse would have started its child before its job ran: it would be here now.
        assert _fast_workers_of(worker.pid) == [child]
        assert _pid_of_a_fast_job(runtime) == child
        assert "starting it again" not in log_path.read_text()
    except AssertionError:
        print(log_path.read_text()[-5000:])
        raise
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
