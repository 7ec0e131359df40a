"""The Procfile's processes, run for real under a small supervisor that restarts what dies.

A platform (a PaaS's dyno manager, systemd on a VPS) starts each Procfile line and starts it again
when it exits; this does the same, so a SIGKILLed worker comes back as it would in production.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# How long the supervisor waits before starting a dead process again (platforms wait a little).
RESTART_DELAY_SECONDS = 0.5

log = logging.getLogger(__name__)


def procfile(path: Path = REPO / "Procfile") -> dict[str, str]:
    """The Procfile's `name: command` lines."""
    entries: dict[str, str] = {}
    for row in path.read_text().splitlines():
        name, sep, command = row.partition(":")
        if sep and name.strip() and not row.lstrip().startswith("#"):
            entries[name.strip()] = command.strip()
    return entries


def command_argv(command: str, env: dict[str, str]) -> list[str]:
    """A Procfile command as argv: ${VAR:-default} and $VAR expanded from `env`, and `python`
    and `gunicorn` run by this interpreter (the same virtualenv)."""
    expanded = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), command)
    expanded = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), expanded)
    argv = shlex.split(expanded)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    elif argv and argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", *argv[1:]]
    return argv


def bind_locally(argv: list[str], host: str, port: int) -> list[str]:
    """gunicorn's `--bind 0.0.0.0:$PORT` on the loopback only (the soak's traffic stays here)."""
    argv = list(argv)
    if "--bind" in argv:
        argv[argv.index("--bind") + 1] = f"{host}:{port}"
    else:
        argv += ["--bind", f"{host}:{port}"]
    return argv


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (gunicorn's workers, an RQ worker's work horse)."""
    found: list[int] = []
    with suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(word) for word in handle.read().split()]
    return found


def kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Managed:
    """One Procfile process and its restarts."""

    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    """Starts each process, and starts it again whenever it exits, until `stop()`."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.managed: dict[str, Managed] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="soak-supervisor", daemon=True)

    def add(self, name: str, argv: list[str]) -> Managed:
        managed = Managed(name, argv, self.workdir / f"{name}.log")
        self.managed[name] = managed
        return managed

    def start(self) -> None:
        for managed in self.managed.values():
            self._launch(managed)
        self._thread.start()

    def _launch(self, managed: Managed) -> None:
        with managed.log_path.open("ab") as log_file:
            managed.process = subprocess.Popen(  # noqa: S603 - the repo's own Procfile
                managed.argv, cwd=REPO, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True)  # its own group: gunicorn's workers go with it
        managed.starts += 1

    def _watch(self) -> None:
        while not self._stopping.wait(0.1):
            for managed in self.managed.values():
                process = managed.process
                if process is None or process.poll() is None:
                    continue
                with self._lock:
                    if self._stopping.is_set():
                        return
                    managed.exits.append(process.returncode)
                    # Whatever the dead parent left behind (a work horse, gunicorn workers).
                    with suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, signal.SIGKILL)
                    log.warning("%s exited (%s); starting it again", managed.name,
                                process.returncode)
                    time.sleep(RESTART_DELAY_SECONDS)
                    self._launch(managed)

    def pid(self, name: str) -> int | None:
        return self.managed[name].pid

    def restarts(self) -> dict[str, int]:
        return {name: managed.starts - 1 for name, managed in self.managed.items()}

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        for managed in self.managed.values():
            # RQ's work horses run in a process group of their own.
            if managed.pid is not None:
                for child in children(managed.pid):
                    kill(child)
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            for managed in self.managed.values():
                if managed.process is not None and managed.process.poll() is None:
                    with suppress(ProcessLookupError, PermissionError):
                        os.killpg(managed.process.pid, sig)
            for managed in self.managed.values():
                if managed.process is not None:
                    with suppress(subprocess.TimeoutExpired):
                        managed.process.wait(wait)
        for managed in self.managed.values():
            if managed.process is not None:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(managed.process.pid, signal.SIGKILL)
        self._thread.join(timeout=5)
