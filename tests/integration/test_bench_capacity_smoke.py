"""The capacity benchmark still runs end to end and prints its table (sizes tiny; timing never
checked: how many levels the ramp reaches depends on the machine)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.services import ADMIN_DATABASE_URL, TEST_REDIS_URL


@pytest.mark.slow
@pytest.mark.timeout(960)
def test_bench_capacity_quick_prints_its_table() -> None:
    # A process of its own (it starts gunicorn, workers and the stand-in), on the suite's own
    # Redis index.
    done = subprocess.run(
        [sys.executable, "bench/capacity.py", "--quick", "--pg-admin-url", ADMIN_DATABASE_URL,
         "--redis-url", TEST_REDIS_URL],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.startswith("machine: ")
    for column in ("contacts/s", "webhooks/contact", "Redis cmds/contact", "SQL xacts/contact",
                   "SQL stmts/contact", "web CPU ms/contact", "worker CPU ms/contact"):
        assert column in out, column
    assert "\n| 1x1 | 2 | 2 |" in out  # the first level always runs
    first = next(line for line in out.splitlines() if line.startswith("| 1x1 | 2 | 2 |"))
    # the web and worker processes counted their statements (each contact inserts a row)
    assert float(first.split("|")[12]) > 0, first
    assert ("concurrent callers on hold" in out) or ("no capacity sentence" in out)
