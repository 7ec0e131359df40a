"""deploy/: the systemd units run the Procfile's processes through deploy/run-process, which
runs a Procfile line as written and refuses a name the Procfile does not have."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def _procfile_processes() -> set[str]:
    rows = (REPO / "Procfile").read_text().splitlines()
    return {row.split(":", 1)[0] for row in rows if ":" in row and not row.startswith("#")}


def _service(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser["Service"]


def test_every_procfile_process_runs_under_a_unit_through_run_process() -> None:
    web = _service(DEPLOY / "systemd" / "warmline-web.service")
    assert web["ExecStart"] == "/srv/warmline/deploy/run-process web"
    assert web["ExecStartPre"] == "/srv/warmline/deploy/run-process release"
    worker = _service(DEPLOY / "systemd" / "warmline-worker@.service")
    assert worker["ExecStart"] == "/srv/warmline/deploy/run-process %i"
    for service in (web, worker):
        assert service["Restart"] == "always"
        assert service["EnvironmentFile"] == "/etc/warmline/env"
    # The worker template's instances are the Procfile's other long-running processes.
    assert _procfile_processes() == {"web", "release", "worker", "worker_low"}


def test_the_proxy_drops_idle_upstream_connections_before_gunicorn_does() -> None:
    """The keep-alive race: when gunicorn closes an idle connection the proxy still holds, a
    webhook sent down it at that moment gets a 502 (the 30-minute soak saw two)."""
    web = next(row for row in (REPO / "Procfile").read_text().splitlines()
               if row.startswith("web:"))
    gunicorn_keep_alive = int(re.search(r"--keep-alive (\d+)", web).group(1))  # type: ignore[union-attr]
    caddy = (DEPLOY / "Caddyfile").read_text()
    proxy_keep_alive = int(re.search(r"^\s*keepalive (\d+)s$", caddy, re.M).group(1))  # type: ignore[union-attr]
    assert 0 < proxy_keep_alive < gunicorn_keep_alive


def test_run_process_refuses_a_process_the_procfile_does_not_have() -> None:
    result = subprocess.run([str(DEPLOY / "run-process"), "nonsense"], check=False,
                            capture_output=True, text=True)
    assert result.returncode == 64
    assert "the Procfile has no process named 'nonsense'" in result.stderr
    result = subprocess.run([str(DEPLOY / "run-process")], check=False, capture_output=True, text=True)
    assert result.returncode == 64 and "usage" in result.stderr


def test_run_process_runs_the_procfile_line_from_the_checkouts_venv(tmp_path: Path) -> None:
    # `release` is the quickest line to run for real: migrations on a throwaway SQLite file.
    env = {"PATH": "/usr/bin:/bin", "WARMLINE_INSTANCE_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'release.db'}"}
    result = subprocess.run([str(DEPLOY / "run-process"), "release"], check=False, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "release.db").exists()
