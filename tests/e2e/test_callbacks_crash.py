"""A worker killed with SIGKILL in the middle of a callback job: after a restart the caller is
called exactly once. Real worker processes, the app and stand-in in-process.

A small HTTP proxy sits between the first worker and the stand-in and holds the REST request
that calls the caller: either before the stand-in sees it (the call was never made) or after
(the call was made, its answer lost). The worker is killed while it waits; the second worker
talks to the stand-in directly and must not call twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.callbacks import CALLBACK_QUESTION, CALLER, ask_for_callback, request_of, sweep
from tests.support.jobs import JobPump
from tests.support.live import ROSTER, SAM, LiveWarmline, running_warmline
from tests.support.processes import tied_to_this_run
from tests.support.services import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_REDIS_URL,
    TEST_SECRET_KEY,
)
from warmline.models import CallbackAttempt
from warmline.queues import QueueName

REPO_ROOT = Path(__file__).resolve().parents[2]


class HoldingProxy:
    """Forwards REST requests to the stand-in, except that it holds the one calling `number`."""

    def __init__(self, target: str, number: str, *, forward_first: bool) -> None:
        self.target, self.number, self.forward_first = target, number, forward_first
        self.held = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = urllib.parse.parse_qs(body.decode()) if body else {}
                hold = (self.command == "POST" and self.path.endswith("/Calls.json")
                        and form.get("To") == [proxy.number])
                if hold and not proxy.forward_first:
                    proxy.held.set()
                    proxy.release.wait()
                    return
                request = urllib.request.Request(
                    proxy.target + self.path, data=body or None, method=self.command,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() in ("authorization", "content-type", "accept")})
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        status, payload, kind = answer.status, answer.read(), answer.headers.get(
                            "Content-Type", "application/json")
                except urllib.error.HTTPError as error:
                    status, payload, kind = error.code, error.read(), "application/json"
                if hold:
                    proxy.held.set()
                    proxy.release.wait()
                    return
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _relay  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()


def start_worker(live: LiveWarmline, database_url: str, tmp_path: Path, twilio_url: str,
                 log: Path) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("WARMLINE_", "TWILIO_"))}
    environ.update({
        "WARMLINE_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_URL": twilio_url, "WARMLINE_PUBLIC_URL": live.url,
        "WARMLINE_SECRET_KEY": TEST_SECRET_KEY, "WARMLINE_DATA_KEY": TEST_DATA_KEY,
        "WARMLINE_INSTANCE_DIR": str(tmp_path / "instance"),
    })
    with log.open("ab") as out:
        # Its own process group: SIGKILL reaches the worker and its work horse together.
        return subprocess.Popen(tied_to_this_run([sys.executable, "-m", "workers.main", "urgent"]),
                                cwd=REPO_ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker, its scheduler and its work horse (RQ puts the horse in a process
    group of its own, so killing the worker's group alone would leave the job running)."""
    victims = _children(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=60)


@pytest.fixture
def crash_live(database_url: str, tmp_path: Path) -> Iterator[LiveWarmline]:
    with running_warmline(database_url, tmp_path) as live:
        # The urgent queues belong to the worker processes; only the slow ones run in here.
        live.pump.stop()
        slow = JobPump(live.runtime.redis, names=(QueueName.EVENTS, QueueName.MAINTENANCE)).start()
        try:
            yield live
        finally:
            slow.stop()


@pytest.mark.parametrize("forward_first", [False, True], ids=["before-rest", "after-rest"])
def test_a_worker_killed_mid_callback_calls_the_caller_exactly_once_after_restart(
        crash_live: LiveWarmline, database_url: str, tmp_path: Path, forward_first: bool) -> None:
    live = crash_live
    log = tmp_path / "worker.log"
    proxy = HoldingProxy(live.standin.url, CALLER, forward_first=forward_first)
    first = start_worker(live, database_url, tmp_path, proxy.url, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        live.import_roster(ROSTER)
        callback_id = ask_for_callback(live)
        caller_phone = live.standin.phone(CALLER, answer_after=0.5, press={CALLBACK_QUESTION: "1"})
        sam = live.peer(SAM)
        live.go_available(live.peer_id("sam@example.org"))
        sweep(live)
        sam.wait_for_ring(timeout=60).wait_until_heard("A caller who asked for", timeout=60)
        assert proxy.held.wait(timeout=60), log.read_text()[-3000:]
        if forward_first:
            live.wait_for(lambda: len(caller_phone.rang()) == 1, timeout=60)
        with live.runtime.sessions() as session:
            attempt = session.scalars(select(CallbackAttempt)).one()
            assert attempt.state in ("calling", "ringing")
        kill_hard(first)  # mid-job: the REST request to the caller is in flight

        second = start_worker(live, database_url, tmp_path, live.standin.url, log)
        # The recurring sweep finds the attempt the crash left `calling`. The dead worker's
        # scheduler lock would delay the new worker's scheduler, so its runs are queued here.
        deadline = time.monotonic() + 60
        while not caller_phone.rang() and time.monotonic() < deadline:
            live.runtime.queue(QueueName.ROUTING).enqueue(
                "workers.callback_jobs.place_due_callbacks", job_timeout=60)
            time.sleep(3)
        call = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
        assert call.wait_until_bridged(timeout=60) == [SAM]
        call.hang_up()
        live.wait_for(lambda: request_of(live, callback_id).status == "connected", timeout=60)
        live.never(lambda: len(caller_phone.rang()) > 1, within=3.0,
                   why="the caller was called back twice after the worker crash")
        assert len([e for e in live.standin.events("rest_call_created")
                    if e.data.get("to") == CALLER]) == 1
        assert request_of(live, callback_id).number_encrypted is None
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                kill_hard(process)
        proxy.stop()
