"""`python -m warmline soak` at CI's size: each fault once, and every count it prints is 0.

The command runs the Procfile's processes for real (release, gunicorn, both RQ workers under a
supervisor), the stand-in, its own redis-server and a throwaway PostgreSQL database behind its
own proxy; a scaled-down schedule (the shift's people at 10x, a fault every few seconds).
Counts only, never timings. Two runs: the process, Twilio and database faults; then Redis
restarted with its append-only file and empty.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import tied_to_this_run
from tests.support.services import ADMIN_DATABASE_URL
from warmline.soak.faults import KINDS
from warmline.soak.tally import COLUMNS

REPO = Path(__file__).resolve().parents[2]
CI_SIZE = ["--speed", "10", "--peers", "6", "--calls-per-hour", "150", "--texts-per-hour", "30",
           "--fault-seconds", "3", "--postgres-seconds", "4", "--drain-seconds", "20",
           "--settle-seconds", "120", "--seed", "3"]
HANG_GUARD_SECONDS = 900  # a guard against a hung run, not a speed bound (a run takes 2-4 min)
REDIS_FAULTS = ("redis-restart-aof", "redis-restart-empty")
OTHER_FAULTS = tuple(kind.name for kind in KINDS if kind.name not in REDIS_FAULTS)


def soak(faults: tuple[str, ...], minutes: float) -> str:
    assert shutil.which("redis-server"), "the soak starts a redis-server of its own"
    child = subprocess.Popen(
        tied_to_this_run([sys.executable, "-m", "warmline", "soak", "--minutes", str(minutes), *CI_SIZE,
                          "--faults", ",".join(faults), "--pg-admin-url", ADMIN_DATABASE_URL]),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        output, _ = child.communicate(timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the soak then stops its processes and drops its database.
        child.terminate()
        output, _ = child.communicate(timeout=120)
        pytest.fail(f"the soak hung:\n{output[-6000:]}")
    # Each fault was injected, on the schedule the soak printed first.
    for name in faults:
        assert re.search(rf"soak: t\+\s*[\d.]+ s\s+{re.escape(name)}\b", output), output[-6000:]
    assert "fault injection failed" not in output, output[-6000:]
    total = next(line for line in output.splitlines() if line.startswith("total "))
    counts = dict(zip([name for name, _ in COLUMNS], map(int, total.split()[1:]), strict=True))
    assert counts["offered"] > 0, output[-6000:]
    wrong = {name: n for name, n in counts.items() if name not in ("offered", "one_outcome") and n}
    assert wrong == {}, output[-6000:]
    assert counts["one_outcome"] == counts["offered"], output[-6000:]
    assert "verdict: every count is 0" in output and child.returncode == 0, output[-6000:]
    return output


@pytest.mark.slow
@pytest.mark.timeout(HANG_GUARD_SECONDS + 180)
def test_workers_killed_twilio_misbehaving_and_postgres_refusing_lose_nothing() -> None:
    soak(OTHER_FAULTS, minutes=0.75)


@pytest.mark.slow
@pytest.mark.timeout(HANG_GUARD_SECONDS + 180)
def test_redis_restarted_with_its_append_only_file_and_empty_loses_nothing() -> None:
    soak(REDIS_FAULTS, minutes=0.5)
