"""`python -m warmline soak` at CI's size: every fault once, and every count it prints is 0.

The command runs the Procfile's processes for real (release, gunicorn, both RQ workers under a
supervisor), the stand-in, its own redis-server and a throwaway PostgreSQL database behind its
own proxy; about two minutes of wall time on the 2-core machine. Counts only, never timings.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import ADMIN_DATABASE_URL
from warmline.soak.faults import KINDS
from warmline.soak.tally import COLUMNS

REPO = Path(__file__).resolve().parents[2]
# A scaled-down schedule: the shift's people at 10x, a fault every ~4 s of a 50 s shift.
CI_SIZE = ["--minutes", "0.85", "--speed", "10", "--peers", "6", "--calls-per-hour", "150",
           "--texts-per-hour", "30", "--fault-seconds", "3", "--postgres-seconds", "4",
           "--drain-seconds", "20", "--settle-seconds", "90", "--seed", "3"]


@pytest.mark.slow
def test_a_ci_sized_soak_counts_nothing_wrong_under_every_fault(tmp_path: Path) -> None:
    assert shutil.which("redis-server"), "the soak starts a redis-server of its own"
    run = subprocess.run(
        [sys.executable, "-m", "warmline", "soak", *CI_SIZE, "--pg-admin-url", ADMIN_DATABASE_URL],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    output = run.stdout + run.stderr
    # Every fault was injected, on the schedule it printed.
    for kind in KINDS:
        assert re.search(rf"soak: t\+\s*[\d.]+ s\s+{re.escape(kind.name)}\b", output), output[-6000:]
    assert "fault injection failed" not in output, output[-6000:]
    total = next(line for line in output.splitlines() if line.startswith("total "))
    counts = dict(zip([name for name, _ in COLUMNS], map(int, total.split()[1:]), strict=True))
    assert counts["offered"] > 0, output[-6000:]
    assert counts["one_outcome"] == counts["offered"], output[-6000:]
    assert {k: v for k, v in counts.items() if k not in ("offered", "one_outcome") and v} == {}, \
        output[-6000:]
    assert "verdict: every count is 0" in output and run.returncode == 0, output[-6000:]
