"""Processes a test starts end with the test run, even when the run itself is killed.

A test's `finally` stops what it started, but a run killed by a timeout, a CI cancel or ^C never
reaches it: a worker left behind keeps taking jobs from the same Redis database in the next run and
turns it red for reasons that have nothing to do with the code. Linux can tie a child to its parent:
`PR_SET_PDEATHSIG` sends the child a signal when the thread that started it exits. It survives
`exec`, so a tiny launcher sets it and then becomes the real command. SIGTERM, not SIGKILL: the
worker, gunicorn and the soak then stop what they started in turn.
"""

from __future__ import annotations

import os
import sys

_LAUNCHER = """\
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the test run that started this process has already ended")
os.execvp(sys.argv[2], sys.argv[2:])
"""


def tied_to_this_run(argv: list[str]) -> list[str]:
    """`argv`, run so that it gets SIGTERM when this test process (its starting thread) ends.

    Start it from the test's own thread (fixtures and tests run in pytest's main thread): the
    kernel watches the thread that forked, not the process."""
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]
