"""A process a test starts ends when the test run is killed, so it cannot take the next run's jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.support.paths import REPO_ROOT

# Stands for a pytest run: starts a long sleeper tied to itself, says its pid, then waits.
RUN = """\
import subprocess, sys, time
from tests.support.processes import tied_to_this_run
child = subprocess.Popen(tied_to_this_run([sys.executable, "-c", "import time; time.sleep(600)"]))
print(child.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has ended, only unreaped
    except FileNotFoundError:
        return False


def test_a_process_started_by_a_killed_run_ends_with_it() -> None:
    run = subprocess.Popen([sys.executable, "-c", RUN], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert run.stdout is not None
    child = int(run.stdout.readline())
    try:
        assert _alive(child)
        run.send_signal(signal.SIGKILL)  # no finally, no atexit: what a CI timeout does
        run.wait(timeout=30)
        deadline = time.monotonic() + 30  # a guard against a hang, not a speed bound
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the tied process outlived the run that started it"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
