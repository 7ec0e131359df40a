"""The fast queue's worker as a child of the Procfile's `worker` process, started again if it dies.

The fast worker runs jobs in its own process (no fork per job), so a job that takes the process
down takes the worker with it. Its parent, the urgent worker, plays the part RQ's forking worker
plays for a work horse: it sees the child go and starts another. Deployments keep the processes
they run: `worker` now carries both workers.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger("workers")
REPO = Path(__file__).resolve().parent.parent
# A child that keeps dying (Redis or the database down at its start) is started again after a
# pause that doubles up to this, so a crash loop never spins the CPU.
MAX_RESTART_PAUSE_SECONDS = 30.0


class FastChild:
    """`python -m workers.main fast --parent PID` in the same process group as this process,
    so a platform's signal to the group reaches both (RQ ignores the second of two stop
    signals that arrive within a second, so the one this process forwards does no harm)."""

    def __init__(self, burst: bool = False, max_idle: int | None = None) -> None:
        self.argv = [sys.executable, "-m", "workers.main", "fast", "--parent", str(os.getpid())]
        if burst:
            self.argv.append("--burst")
        if max_idle is not None:
            self.argv += ["--max-idle", str(max_idle)]
        self.burst = burst
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._keep_running, name="fast-worker", daemon=True)

    def start(self) -> FastChild:
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            self.process = subprocess.Popen(self.argv, cwd=REPO)  # noqa: S603 - our own module
            return self.process

    def _keep_running(self) -> None:
        pause = 1.0
        while (child := self._spawn()) is not None:
            code = child.wait()
            if self._stopping.is_set() or (self.burst and code == 0):
                return
            log.warning("the fast worker exited (%s); starting it again", code)
            self.restarts += 1
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)

    def request_stop(self) -> None:
        """A warm stop: the job in hand finishes, nothing new starts, no restart follows."""
        with self._lock:
            self._stopping.set()
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float | None) -> None:
        """Wait for the child to end (a burst run's last job, a warm stop); kill it after
        `timeout` seconds."""
        if not self.burst:
            self.request_stop()
        self._thread.join(timeout)
        with self._lock:
            self._stopping.set()
            child = self.process
        if child is None:
            return
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the fast worker did not stop in time; killing it")
            child.kill()
            child.wait()
