"""A non-forking worker (fast, events) as a child of a Procfile worker, started again if it dies.

The child runs jobs in its own process (no fork per job), so a job that takes the process down
takes the worker with it. Its parent plays the part RQ's forking worker plays for a work horse:
it sees the child go and starts another. Deployments keep the processes they run: `worker`
carries the fast worker, `worker_low` the events worker.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("workers")
REPO = Path(__file__).resolve().parent.parent
# A child that keeps dying (Redis or the database down at its start) is started again after a
# pause that doubles up to this, so a crash loop never spins the CPU.
MAX_RESTART_PAUSE_SECONDS = 60.0


class ChildWorker:
    """`python -m workers.main KIND --parent PID` in the same process group as this process,
    so a platform's signal to the group reaches both (RQ ignores the second of two stop
    signals that arrive within a second, so the one this process forwards does no harm).

    Everything here runs in the parent's main thread (its start, and `keep_alive` from the
    worker's heartbeat): a child started from another thread while RQ forks a work horse or its
    scheduler would leave `Popen`'s error pipe open in that fork, and `Popen` would wait for it.
    """

    def __init__(self, kind: str, burst: bool = False, max_idle: int | None = None) -> None:
        self.kind = kind
        self.argv = [sys.executable, "-m", "workers.main", kind, "--parent", str(os.getpid())]
        if burst:
            self.argv.append("--burst")
        if max_idle is not None:
            self.argv += ["--max-idle", str(max_idle)]
        self.burst = burst
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = False
        self._pause = 1.0
        self._next_start = 0.0

    def start(self) -> ChildWorker:
        """Before the parent forks anything (its scheduler, a work horse)."""
        self.process = subprocess.Popen(self.argv, cwd=REPO)  # noqa: S603 - our own module
        return self

    def keep_alive(self) -> None:
        """Start the child again if it died (the parent's heartbeat calls this, in the worker's
        own process only: a fork of it sees no exit status of this child, workers/main.py)."""
        if self._stopping or self.process is None:
            return
        code = self.process.poll()
        if code is None or (self.burst and code == 0) or time.monotonic() < self._next_start:
            return
        log.warning("the %s worker exited (%s); starting it again", self.kind, code)
        self.restarts += 1
        self._next_start = time.monotonic() + self._pause
        self._pause = min(self._pause * 2, MAX_RESTART_PAUSE_SECONDS)
        self.start()

    def request_stop(self) -> None:
        """A warm stop: the job in hand finishes, nothing new starts, no restart follows."""
        self._stopping = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Wait for the child to end (a burst run's last job, a warm stop); kill it after
        `timeout` seconds."""
        if not self.burst:
            self.request_stop()
        self._stopping = True
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the %s worker did not stop in time; killing it", self.kind)
            self.process.kill()
            self.process.wait()
