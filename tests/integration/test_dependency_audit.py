"""The dependency audit in scripts/test: where PyPI's advisory data does not answer, the run says
so and goes on, at once, instead of hanging or failing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_audit_is_skipped_with_a_note_when_its_data_is_unreachable() -> None:
    # Nothing listens on port 9: the probe fails at once, as on a machine without that data.
    env = {**os.environ, "WARMLINE_AUDIT_PROBE_URL": "http://127.0.0.1:9/pypi/flask/json"}
    done = subprocess.run(["bash", "-c", "source scripts/lib.sh && audit_dependencies"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "pip-audit skipped: PyPI's vulnerability data is not reachable" in done.stderr


def test_the_audit_runs_in_the_test_command_and_covers_every_pin() -> None:
    script = (REPO_ROOT / "scripts" / "test").read_text()
    assert script.index("audit_dependencies") < script.index(".venv/bin/pytest")
    audit = (REPO_ROOT / "scripts" / "lib.sh").read_text().split("audit_dependencies()", 1)[1]
    assert "-r requirements.txt -r requirements-dev.txt" in audit and "--strict" in audit
