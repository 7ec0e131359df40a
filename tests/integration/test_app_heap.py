"""gunicorn's way of building the app (no arguments) freezes the startup heap, so a full
collection under load walks only what requests left behind; an app built for a test (given its
runtime) leaves the test process's collector alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT
from tests.support.workers import worker_environment

PROBE = """
import gc
from warmline.app import create_app
{build}
print(gc.get_freeze_count())
"""


def _frozen_after(build: str, database_url: str, tmp_path: Path) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE.format(build=build)], cwd=REPO_ROOT,
                          env=worker_environment(database_url, tmp_path), capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_the_served_app_freezes_its_startup_heap(database_url: str, tmp_path: Path) -> None:
    assert _frozen_after("create_app()", database_url, tmp_path) > 10_000


def test_an_app_given_its_runtime_freezes_nothing(database_url: str, tmp_path: Path) -> None:
    build = ("from config import load_settings\n"
             "from warmline.runtime import build_runtime\n"
             "create_app(runtime=build_runtime(load_settings()))")
    assert _frozen_after(build, database_url, tmp_path) == 0
