"""The README's first command (`scripts/run`) serves the app: /readyz answers 200, the stand-in
has the demo line, and the demo peers can sign in."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support.processes import tied_to_this_run
from tests.support.redis_servers import free_port
from tests.support.services import TEST_REDIS_URL

REPO_ROOT = Path(__file__).resolve().parents[2]


def _wait_for(url: str, deadline: float) -> requests.Response | None:
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=60)
            if response.status_code == 200:
                return response
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return None


@pytest.mark.slow
def test_the_run_command_serves_the_whole_thing(tmp_path: Path) -> None:
    port, standin_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(port), "STANDIN_PORT": str(standin_port),
           "REDIS_URL": TEST_REDIS_URL, "WARMLINE_INSTANCE_DIR": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)  # the default: a SQLite file in the instance folder
    process = subprocess.Popen(tied_to_this_run(["scripts/run"]), cwd=REPO_ROOT, env=env,
                               start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", deadline)
        assert ready is not None, "the app never became ready"
        assert ready.json() == {"status": "ok"}
        page = _wait_for(f"http://127.0.0.1:{port}/sign-in", deadline)
        assert page is not None and "Sign in" in page.text
        summary = None
        while time.monotonic() < deadline:
            summary = _wait_for(f"http://127.0.0.1:{standin_port}/_standin/", deadline)
            if summary is not None and "+12125550100" in summary.text:
                break
            time.sleep(0.5)
        assert summary is not None and "+12125550100" in summary.text, "the demo line is not set up"
        assert (tmp_path / "instance" / "warmline.db").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert "demo sign-ins" in output
