"""The voice benchmark still runs end to end and prints its tables (sizes tiny; timing never checked)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.services import ADMIN_DATABASE_URL, TEST_REDIS_URL


@pytest.mark.slow
@pytest.mark.timeout(960)
def test_bench_voice_quick_prints_both_tables() -> None:
    # A process of its own: the script sets process-wide state (runtime, dispatchers, signals).
    # The suite's own Redis index (each pytest session has its own; the bench's default, 5, is
    # shared by every session on the machine). --max-seconds cuts measuring short when it runs
    # out, so it is a hang guard here, far above what the tiny sizes need even on a busy machine:
    # a table row missing because the machine was slow would be a timing failure.
    done = subprocess.run(
        [sys.executable, "bench/voice.py", "--quick", "--pg-admin-url", ADMIN_DATABASE_URL,
         "--redis-url", TEST_REDIS_URL, "--max-seconds", "600"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.startswith("machine: ")
    assert "PostgreSQL" in out.splitlines()[0]
    assert "--worker-class gthread" in out
    assert "## Part 1" in out and "## Part 2" in out
    for row in ("| GET /healthz (floor)", "| POST /twilio/voice ", "| POST /twilio/voice/menu",
                "| POST /twilio/voice/wait", "| peer available -> stand-in receives the REST call",
                "| floor: no-op job enqueued -> started", "| floor: Redis PING"):
        assert row in out, row
    # Every answer was the TwiML of its step (not the backup route), and Twilio's schema held.
    assert "warning:" not in out, out
