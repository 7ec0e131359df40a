"""Benchmark of the voice path: webhook answer times under concurrent callers, and "peer available"
to "the peer's phone is rung".

    .venv/bin/python bench/voice.py [--callers 50] [--calls 4] [--waits 4] [--rounds 30] [--quick]
        [--compare-fork] [--redis-url redis://127.0.0.1:6379/5] [--sqlite] [--pg-admin-url URL]

Sets up everything it measures and tears it down again, all on 127.0.0.1:

- a throwaway PostgreSQL database (`warmline_bench_<random>`, migrated, dropped at the end), or
  with `--sqlite` a SQLite file in a temporary directory;
- its own Redis DB index (5 by default), flushed at the start and the end (that index only);
- the Twilio stand-in in a thread of this process (speed 1, the default outbound pacing);
- the app under gunicorn exactly as the Procfile's `web` line says (worker class, workers,
  threads; only `--bind` becomes 127.0.0.1 and a free port), and one `python -m workers.main
  urgent` process, as the Procfile's `worker`.

Part 1: `--callers` threads call at once, each one caller after another (`--calls` calls per
thread, a new CallSid and caller number each): `POST /twilio/voice`, the menu choice (`1` or `0`),
then `--waits` requests of the wait handler, back to back, each request signed as Twilio signs
it and on a fresh connection (Twilio does not keep connections alive). The time is the client's
(connect, send, read the whole answer). An answer that is not 200 or not the TwiML that step
should give (e.g. the backup route) counts as an error. The floor, in the same run and with the
same threads: `GET /healthz` (gunicorn + Flask + this client on this machine), half before and
half after the voice phase. Beside them, the same steps from one caller alone (no queueing).

Part 2: with those callers still waiting, each round sets one more peer available through the
service the dashboard uses (`warmline.services.routing.set_presence`, in this process), and
times until the stand-in records the REST request that creates the call to that peer's phone
(`rest_call_created`, stamped when the Calls.json POST is handled). Each round waits until the
ring job finished, then times the floors: RQ pickup (a no-op job on the same queue, from enqueue
to the moment it runs) and Redis PING. With `--compare-fork`, part 2 alternates, in the same run,
between the Procfile's worker (the ring on the fast queue, in its non-forking child) and the
shape before it: the ring job in RQ's forking urgent worker, a work horse forked per job (with
the imports and mappers preloaded before the fork, as that worker did).

Finishes in well under two minutes (`--max-seconds` bounds it) and stops by itself.

Not a test: timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from rq.job import Job  # noqa: E402
from sqlalchemy import make_url, select, text  # noqa: E402

from bench.machine import cpu_model, percentile  # noqa: E402
from config import load_settings  # noqa: E402
from warmline import jobs  # noqa: E402
from warmline.clock import utc_now  # noqa: E402
from warmline.domain.matching import Presence  # noqa: E402
from warmline.epoch import seconds as epoch_seconds  # noqa: E402
from warmline.migrations.runner import upgrade_database  # noqa: E402
from warmline.models import Line, Peer  # noqa: E402
from warmline.roster.importer import import_roster_text  # noqa: E402
from warmline.runtime import Runtime, build_runtime, make_redis, set_process_runtime  # noqa: E402
from warmline.services import routing  # noqa: E402
from warmline.services.routing_sync import refresh_line_routing  # noqa: E402
from warmline.standin import Standin  # noqa: E402
from warmline.telephony.configure import configure_numbers  # noqa: E402
from warmline.telephony.signature import SIGNATURE_HEADER, compute_signature  # noqa: E402
from warmline.voice import urls  # noqa: E402
from warmline.wiring import install_dispatchers  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench_auth_token_" + "0123456789abcdef"
LINE = "+12125550100"
CRISIS = "+12125550199"
BACKUP = "+12125550188"
PEER_AREAS = ("212", "646", "718", "917")  # 555-01xx in each: fictional numbers that validate
TIMEOUT = 15.0  # Twilio gives up on a webhook after 15 s; so does this client
PING_PER_ROUND = 50


# -- machine and numbers -----------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}" if seconds >= 0.01 else f"{seconds * 1e3:.2f}"


def peer_phone(n: int) -> str:
    area, index = PEER_AREAS[n // 98], n % 98 + 1  # 01..98 (0199 is the crisis line, 0100 the line)
    number = f"+1{area}55501{index:02d}"
    return number


def caller_number(n: int) -> str:
    return f"+1646{200 + n // 10_000:03d}{n % 10_000:04d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# -- the system under test ---------------------------------------------------------------------


def roster_yaml(peers: int, today: datetime) -> str:
    start = (today - timedelta(days=1)).strftime("%Y-%m-%d")
    # The roster's default daily limit (3 contacts a caller a day), as most lines run: each
    # arrival counts the caller's day. Every bench caller calls once, so none is turned away.
    lines = [
        "version: 1",
        "lines:",
        f'  - {{number: "{LINE}", name: "Bench Warmline", timezone: "America/New_York", '
        f'languages: [en], crisis_number: "{CRISIS}", backup_number: "{BACKUP}", '
        "max_wait_seconds: 3600, wrap_up_seconds: 5}",
        "experiences:",
        '  - {key: recovery, label: "Substance use recovery", digit: 1, keyword: RECOVERY}',
        '  - {key: veteran, label: "Veteran", digit: 4, keyword: VETERAN}',
        '  - {key: grief, label: "Grief and loss", digit: 5, keyword: GRIEF}',
        "peers:",
    ]
    for n in range(peers):
        lines.append(f'  - {{email: peer{n}@example.org, name: "Peer {n}", phone: "{peer_phone(n)}", '
                     "experiences: [recovery, veteran], languages: [en], channels: [voice]}")
    lines.append("shifts:")
    for n in range(peers):
        lines.append(f'  - {{peer: peer{n}@example.org, line: "{LINE}", start: "{start} 00:00", '
                     'end: "00:00", repeat: "FREQ=DAILY"}')
    return "\n".join(lines) + "\n"


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's `web` line with its ${VAR:-default}s expanded and the bind on 127.0.0.1."""
    line = next(row for row in (REPO / "Procfile").read_text().splitlines()
                if row.startswith("web:"))
    expanded = re.sub(r"\$\{(\w+):-([^}]*)\}",
                      lambda m: os.environ.get(m.group(1), m.group(2)), line[4:].strip())
    argv = shlex.split(expanded)
    if "--bind" in argv:
        argv[argv.index("--bind") + 1] = f"{HOST}:{port}"
    else:
        argv += ["--bind", f"{HOST}:{port}"]
    if argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", *argv[1:]]
    return argv


def option_of(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else "(gunicorn default)"


@contextmanager
def throwaway_database(use_sqlite: bool, admin_url: str, workdir: Path) -> Iterator[str]:
    if use_sqlite:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"warmline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(drivername="postgresql+psycopg", database=name
                                      ).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(argv: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group (gunicorn's workers, RQ's work horses), stopped by id."""
    with log_path.open("wb") as log:
        child = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        yield child
    finally:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if child.poll() is not None:
                break
            with suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
            with suppress(subprocess.TimeoutExpired):
                child.wait(wait)
        # Work horses or gunicorn workers left behind by a crashed parent.
        with suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until(predicate: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.002) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


@dataclass
class System:
    runtime: Runtime
    standin: Standin
    port: int
    public_url: str
    gunicorn_argv: list[str]
    database: str
    peer_ids: list[int]
    workdir: Path
    env: dict[str, str]


# -- HTTP as Twilio speaks it ------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    endpoint: str
    seconds: float
    ok: bool


def request_once(port: int, method: str, path: str, params: dict[str, str] | None = None,
         signature: str | None = None) -> tuple[int, str, float]:
    """One request on a fresh connection, closed afterwards; the time covers connect to last byte."""
    body = urlencode(params) if params is not None else None
    headers = {"Connection": "close", "User-Agent": "TwilioProxy/1.1", "Accept": "*/*"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        status = response.status
    finally:
        conn.close()
    return status, answer.decode(errors="replace"), time.perf_counter() - started


class Caller:
    """One call: the parameters Twilio sends on each request of an inbound call, signed."""

    def __init__(self, system: System, number: str) -> None:
        self.system = system
        self.base = {
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01",
            "CallSid": "CA" + uuid.uuid4().hex, "Direction": "inbound",
            "From": number, "Caller": number, "FromCountry": "US", "FromState": "NY",
            "To": LINE, "Called": LINE, "ToCountry": "US", "ToState": "NY",
        }
        self.contact = ""

    def post(self, path: str, **extra: str) -> tuple[int, str, float]:
        params = {**self.base, **extra}
        signature = compute_signature(AUTH_TOKEN, self.system.public_url + path, params)
        return request_once(self.system.port, "POST", path, params, signature)

    def dial(self) -> Sample:
        status, body, took = self.post(urls.INCOMING, CallStatus="ringing")
        found = re.search(r"/twilio/voice/menu\?contact=([\w-]+)", body)
        if found:
            self.contact = found.group(1)
        return Sample("POST /twilio/voice", took, status == 200 and "<Gather" in body
                      and found is not None)

    def choose(self, digit: str) -> Sample:
        path = urls.relative(urls.MENU, contact=self.contact)
        status, body, took = self.post(path, CallStatus="in-progress", Digits=digit,
                                       FinishedOnKey="")
        return Sample("POST /twilio/voice/menu", took, status == 200 and "<Enqueue" in body
                      and urls.WAIT in body)

    def wait(self, queue_time: int, position: int, size: int) -> Sample:
        path = urls.relative(urls.WAIT, contact=self.contact)
        status, body, took = self.post(
            path, CallStatus="in-progress", QueueSid="QU" + self.contact.replace("-", "")[:32],
            QueueTime=str(queue_time), QueuePosition=str(position), CurrentQueueSize=str(size),
            AvgQueueTime=str(queue_time))
        return Sample("POST /twilio/voice/wait", took, status == 200 and "<Play" in body
                      and "<Leave" not in body)


def healthz(port: int) -> Sample:
    status, body, took = request_once(port, "GET", "/healthz")
    return Sample("GET /healthz", took, status == 200 and "ok" in body)


# -- part 1: webhooks under concurrent callers -------------------------------------------------


@dataclass
class Phase:
    samples: list[Sample]
    wall: float


def run_concurrently(threads: int, work: Callable[[int], list[Sample]]) -> Phase:
    barrier = threading.Barrier(threads)

    def one(n: int) -> list[Sample]:
        barrier.wait(timeout=30)
        return work(n)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, range(threads)))
    wall = time.perf_counter() - started
    return Phase([s for part in results for s in part], wall)


def caller_thread(system: System, first_number: int, calls: int, waits: int,
                  deadline: float) -> Callable[[int], list[Sample]]:
    def work(n: int) -> list[Sample]:
        samples: list[Sample] = []
        for k in range(calls):
            if time.monotonic() > deadline:
                break
            caller = Caller(system, caller_number(first_number + n * calls + k))
            samples.append(caller.dial())
            if not caller.contact:
                continue
            samples.append(caller.choose("1" if (n + k) % 2 == 0 else "0"))
            for w in range(waits):
                samples.append(caller.wait(queue_time=5 + 20 * w, position=n + 1, size=n + 1))
        return samples

    return work


def health_thread(port: int, requests: int) -> Callable[[int], list[Sample]]:
    def work(_n: int) -> list[Sample]:
        return [healthz(port) for _ in range(requests)]

    return work


# -- part 2: peer available -> REST call to the peer's phone -----------------------------------


@dataclass(frozen=True)
class Pickup:
    to_start: float  # enqueued -> started (RQ's own stamps, as for the ring job)
    start_to_run: float  # started -> the function runs in the work horse


@dataclass
class Round:
    total: float  # set_presence called -> stand-in handled the Calls.json POST for the peer
    service: float  # set_presence returned (match pass done, ring job enqueued)
    to_job_start: float | None  # ring job enqueued -> started in the work horse
    job_to_rest: float | None  # ring job started -> REST call received
    pickup: Pickup  # the floor, right after the round
    pings: list[float]


def epoch(value: datetime | None) -> float | None:
    return None if value is None else epoch_seconds(value)  # RQ's times: naive ones are UTC


def noop_pickup(runtime: Runtime) -> Pickup:
    """Enqueue a job that only reads the clock on the ring job's queue: RQ's own floor."""
    job = runtime.queue(jobs.RING_PEER.queue).enqueue("time.time", job_timeout=10, result_ttl=60)
    wait_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), 10,
               "the no-op job")
    ran = job.return_value(refresh=True)
    job = Job.fetch(job.id, connection=runtime.redis)  # with the stamps the worker wrote
    enqueued, started = epoch(job.enqueued_at), epoch(job.started_at)
    if not isinstance(ran, float) or enqueued is None or started is None:
        raise RuntimeError(f"the no-op job did not run: {job.get_status()}")
    return Pickup(started - enqueued, ran - started)


def one_round(system: System, peer_index: int) -> Round:
    runtime, standin = system.runtime, system.standin
    phone = peer_phone(peer_index)
    mark = len(standin.events())
    # Stand-in event times are its clock's seconds since start; map them onto this clock.
    clock = standin.net.clock
    mono_at_zero = time.monotonic() - clock.elapsed() / clock.speed
    wall_minus_mono = time.time() - time.monotonic()

    t0 = time.monotonic()
    change = routing.set_presence(runtime, system.peer_ids[peer_index], Presence.AVAILABLE,
                                  utc_now())
    service = time.monotonic() - t0
    if change.presence != Presence.AVAILABLE:
        raise RuntimeError(f"peer {peer_index} could not go available: {change}")
    event = standin.record.wait_for_event(
        "rest_call_created", 10, lambda e: e.seq > mark and e.data.get("to") == phone)
    rest_at = mono_at_zero + event.at / clock.speed
    total = rest_at - t0

    offer = parse_qs(urlsplit(event.data.get("url") or "").query).get("offer", [""])[0]
    job = Job.fetch(f"ring-{offer}", connection=runtime.redis)
    wait_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), 10, "the ring job")
    job = Job.fetch(job.id, connection=runtime.redis)
    enqueued, started = epoch(job.enqueued_at), epoch(job.started_at)
    rest_wall = rest_at + wall_minus_mono
    to_job_start = started - enqueued if enqueued and started else None
    job_to_rest = rest_wall - started if started else None

    pickup = noop_pickup(runtime)
    pings = []
    for _ in range(PING_PER_ROUND):
        t = time.perf_counter()
        runtime.redis.ping()
        pings.append(time.perf_counter() - t)
    return Round(total, service, to_job_start, job_to_rest, pickup, pings)


# -- reporting ---------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                     for i, (c, w) in enumerate(zip(row, widths, strict=True)))
                   + " |")
    return "\n".join(out)


VOICE_ENDPOINTS = ("POST /twilio/voice", "POST /twilio/voice/menu", "POST /twilio/voice/wait")


def good_times(samples: list[Sample], endpoint: str | None = None) -> list[float]:
    return [s.seconds for s in samples if s.ok and endpoint in (None, s.endpoint)]


def part1_table(voice: Phase, health: Phase, alone: Phase) -> str:
    h = good_times(health.samples) or [float("nan")]
    h50, h99 = percentile(h, 0.5), percentile(h, 0.99)
    header = ["endpoint", "requests", "errors", "p50 ms", "p99 ms", "max ms", "req/s",
              "p50 / healthz p50", "p99 / healthz p99", "p50 ms, 1 caller alone"]

    def row(name: str, samples: list[Sample], endpoint: str | None, rate: str,
            alone_samples: list[Sample]) -> list[str]:
        good = good_times(samples, endpoint) or [float("nan")]
        p50, p99 = percentile(good, 0.5), percentile(good, 0.99)
        solo = good_times(alone_samples, endpoint)
        return [name, str(sum(endpoint in (None, s.endpoint) for s in samples)),
                str(sum(not s.ok and endpoint in (None, s.endpoint) for s in samples)),
                ms(p50), ms(p99), ms(max(good)), rate, f"{p50 / h50:.1f}", f"{p99 / h99:.1f}",
                ms(percentile(solo, 0.5)) if solo else ""]

    rows = [row("GET /healthz (floor)", health.samples, "GET /healthz",
                f"{len(health.samples) / health.wall:.0f}", alone.samples)]
    for endpoint in VOICE_ENDPOINTS:
        rows.append(row(endpoint, voice.samples, endpoint, "", alone.samples))
    rows.append(row("the three, mixed", voice.samples, None,
                    f"{len(voice.samples) / voice.wall:.0f}",
                    [s for s in alone.samples if s.endpoint != "GET /healthz"]))
    return table(header, rows)


def part2_table(passes: list[tuple[str, list[Round]]]) -> str:
    def cells(values: list[float]) -> list[str]:
        if not values:
            return ["", ""]
        return [ms(percentile(values, 0.5)), ms(percentile(values, 0.99))]

    measures: list[tuple[str, Callable[[list[Round]], list[float]]]] = [
        ("peer available -> stand-in receives the REST call to the peer's phone",
         lambda rs: [r.total for r in rs]),
        ("  of which set_presence returns (match pass, ring job enqueued)",
         lambda rs: [r.service for r in rs]),
        ("  of which ring job enqueued -> started (RQ stamps)",
         lambda rs: [r.to_job_start for r in rs if r.to_job_start is not None]),
        ("  of which ring job started -> REST call received",
         lambda rs: [r.job_to_rest for r in rs if r.job_to_rest is not None]),
        ("floor: no-op job enqueued -> started (same queue, same stamps)",
         lambda rs: [r.pickup.to_start for r in rs]),
        ("floor: no-op job started -> its function runs",
         lambda rs: [r.pickup.start_to_run for r in rs]),
        ("floor: Redis PING", lambda rs: [p for r in rs for p in r.pings]),
    ]
    header = ["measure"]
    for name, _rounds in passes:
        suffix = f" ({name})" if len(passes) > 1 else ""
        header += [f"p50 ms{suffix}", f"p99 ms{suffix}"]
    rows = []
    for label, pick in measures:
        row = [label]
        for _name, rounds in passes:
            row += cells(pick(rounds))
        rows.append(row)
    return table(header, rows)


# -- the run -----------------------------------------------------------------------------------


# Calls made one at a time for the "1 caller alone" column: its p50 is of this many of each
# request (10 gave p50s 4 to 7 ms apart from one run to the next on the same tree).
SERIAL_CALLS = 30
# The shape before the fast queue (--compare-fork): RQ's forking urgent worker serves the fast
# queue too and no fast child runs, so each ring runs in a work horse forked for it.
FORKING_WORKER = ("import sys, workers.main as m; "
                  "m.QUEUE_SETS['urgent'] = m.FAST_QUEUES + m.URGENT_QUEUES; "
                  "sys.exit(m.main(sys.argv[1:]))")
FORKING_NAME = "ring in a forked work horse (before)"
PROCFILE_NAME = "as in the Procfile: fast child (after)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=50, help="concurrent callers (threads)")
    parser.add_argument("--calls", type=int, default=4, help="calls per caller thread")
    parser.add_argument("--waits", type=int, default=4, help="wait-handler requests per call")
    parser.add_argument("--rounds", type=int, default=30,
                        help="peers set available, one per round (part 2)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (8 callers, 1 call, 2 waits, 3 rounds): a smoke run")
    parser.add_argument("--compare-fork", action="store_true",
                        help="part 2 alternates, in chunks of --chunk rounds, between the ring "
                             "in a forked work horse (before) and the Procfile's fast child")
    parser.add_argument("--chunk", type=int, default=10,
                        help="rounds per worker before switching (--compare-fork)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="a Redis DB index of its own; only that index is flushed")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL,
                        help="where to create (and drop) the throwaway database")
    parser.add_argument("--max-seconds", type=float, default=150.0,
                        help="stop starting new work after this long")
    args = parser.parse_args(argv)
    if args.quick:
        args.callers, args.calls, args.waits, args.rounds = 8, 1, 2, 3
    if min(args.callers, args.calls, args.rounds) < 1 or args.waits < 0:
        parser.error("sizes must be positive")
    args.peers = args.rounds * (2 if args.compare_fork else 1)
    if args.peers > len(PEER_AREAS) * 98:
        parser.error(f"at most {len(PEER_AREAS) * 98} peers (one per round)")
    return args


def database_version(runtime: Runtime) -> str:
    if runtime.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with runtime.engine.connect() as conn:
        return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar_one()}"


@contextmanager
def running_worker(system: System, forking: bool) -> Iterator[None]:
    argv = ([sys.executable, "-c", FORKING_WORKER, "urgent", "--without-child"] if forking
            else [sys.executable, "-m", "workers.main", "urgent"])
    log_path = system.workdir / f"worker{'-forking' if forking else ''}.log"
    with process(argv, system.env, log_path) as worker:
        try:
            noop_pickup(system.runtime)  # up, and serving the urgent queues
        except TimeoutError:
            raise RuntimeError(f"the RQ worker did not run a job:\n{tail(log_path)}") from None
        if worker.poll() is not None:
            raise RuntimeError(f"the RQ worker exited:\n{tail(log_path)}")
        yield


@contextmanager
def running_system(args: argparse.Namespace, stack: ExitStack) -> Iterator[System]:
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="warmline-bench-")))
    database_url = stack.enter_context(throwaway_database(args.sqlite, args.pg_admin_url, workdir))
    upgrade_database(database_url)
    standin = Standin(speed=1.0, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start(HOST)
    stack.callback(standin.stop)
    standin.add_number(LINE)
    port = free_port()
    public_url = f"http://{HOST}:{port}"
    env = {
        **os.environ,
        # As in production but for the URL: production refuses an http:// public URL, and this
        # run has no TLS in front of the app.
        "WARMLINE_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "TWILIO_API_URL": standin.url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "WARMLINE_PUBLIC_URL": public_url,
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WARMLINE_DATA_KEY": secrets.token_urlsafe(32),
        "WARMLINE_INSTANCE_DIR": str(workdir / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    settings = load_settings(env)
    runtime = build_runtime(settings)
    stack.callback(runtime.close)
    runtime.redis.flushdb()
    stack.callback(runtime.redis.flushdb)
    set_process_runtime(runtime)
    stack.callback(set_process_runtime, None)
    install_dispatchers()

    now = utc_now()
    with runtime.sessions() as session:
        import_roster_text(session, runtime.keys, roster_yaml(args.peers, now), prune=True,
                           actor="bench", user_id=None, source="bench", now=now)
        session.commit()
        emails = {f"peer{n}@example.org": n for n in range(args.peers)}
        ids = {email: peer_id for email, peer_id in session.execute(select(Peer.email, Peer.id))}
        peer_ids = [ids[email] for email in emails]
        line_id = session.scalars(select(Line.id).where(Line.number == LINE)).one()
    configure_numbers(runtime, runtime.twilio)
    for n in range(args.peers):
        # Rings until the ring timeout: nobody answers during the measurement.
        standin.peer_phone(peer_phone(n), mode="manual")

    argv = procfile_web_command(port)
    web_log = workdir / "gunicorn.log"
    web = stack.enter_context(process(argv, env, web_log))

    def web_up() -> bool:
        if web.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({web.returncode}):\n{tail(web_log)}")
        with suppress(OSError):
            return request_once(port, "GET", "/readyz")[0] == 200
        return False

    wait_until(web_up, 30, f"gunicorn on {public_url}\n{tail(web_log)}", interval=0.1)
    refresh_line_routing(runtime, line_id, now, force=True)
    yield System(runtime, standin, port, public_url, argv, database_version(runtime), peer_ids,
                 workdir, env)


def waiting_count(runtime: Runtime) -> int:
    return len(routing.routing_engine(runtime, utc_now()).waiting_contact_ids())


def top_up_waiting(system: System, wanted: int, deadline: float, first: int) -> int:
    """Enough callers waiting for every round of part 2 (signed requests, not timed)."""
    n = 0
    while waiting_count(system.runtime) < wanted and time.monotonic() < deadline:
        caller = Caller(system, caller_number(first + n))
        caller.dial()
        caller.choose("0")
        n += 1
    return waiting_count(system.runtime)


def run_part2(system: System, first_peer: int, rounds: int, deadline: float) -> list[Round]:
    done: list[Round] = []
    for n in range(first_peer, first_peer + rounds):
        if time.monotonic() > deadline:
            break
        done.append(one_round(system, n))
    return done


def alternate_part2(system: System, worker: ExitStack, args: argparse.Namespace,
                    deadline: float) -> list[tuple[str, list[Round]]]:
    """Part 2 in chunks, the worker switched between chunks (before first), so both shapes meet
    the same load and the same noise of a shared machine."""
    done: dict[bool, list[Round]] = {True: [], False: []}
    first_peer, forking = 0, True
    while min(len(r) for r in done.values()) < args.rounds and time.monotonic() < deadline:
        count = min(args.chunk, args.rounds - len(done[forking]))
        if count > 0:
            worker.close()
            worker.enter_context(running_worker(system, forking=forking))
            done[forking] += run_part2(system, first_peer, count, deadline)
            first_peer += count
        forking = not forking
    return [(FORKING_NAME, done[True]), (PROCFILE_NAME, done[False])]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    deadline = time.monotonic() + args.max_seconds
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-in's request lines
    redis = make_redis(args.redis_url, socket_timeout=30.0)  # the app's factory: Sentinel URLs too
    redis_version = redis.info("server")["redis_version"]
    redis.close()
    with ExitStack() as stack, running_system(args, stack) as system:
        argv_web = system.gunicorn_argv
        print(f"machine: {os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
              f"{platform.release()}, Python {platform.python_version()}, Redis {redis_version}, "
              f"{system.database}")
        print(f"web: {' '.join(shlex.quote(a) for a in argv_web[2:])}")
        print(f"     (the Procfile's `web`: {option_of(argv_web, '--worker-class')}, "
              f"{option_of(argv_web, '--workers')} workers x {option_of(argv_web, '--threads')} "
              "threads)")
        print(f"worker: python -m workers.main urgent (RQ's forking Worker, and its child on the "
              f"fast queue, non-forking); "
              f"Redis {args.redis_url}; stand-in in this process (speed 1, "
              f"{system.standin.config.calls_per_second:g} outbound call/s)")
        print(f"load: {args.callers} concurrent callers x {args.calls} calls x (1 answer + 1 menu "
              f"+ {args.waits} waits), each request signed, on a new connection; part 2: "
              f"{args.rounds} rounds")
        print()

        worker = ExitStack()
        stack.enter_context(worker)
        worker.enter_context(running_worker(system, forking=False))
        # Warm-up, not measured: every gunicorn worker imports, connects and fills its pools.
        run_concurrently(args.callers, caller_thread(system, 900_000, 1, 1, deadline))
        serial = 3 if args.quick else SERIAL_CALLS
        alone = run_concurrently(1, caller_thread(system, 700_000, serial, args.waits, deadline))
        alone.samples.extend(run_concurrently(1, health_thread(system.port, serial * 4)).samples)
        per_thread = max(1, args.calls * (2 + args.waits) // 2)
        health_before = run_concurrently(args.callers, health_thread(system.port, per_thread))
        voice = run_concurrently(args.callers, caller_thread(system, 0, args.calls, args.waits,
                                                             deadline))
        health_after = run_concurrently(args.callers, health_thread(system.port, per_thread))
        health = Phase(health_before.samples + health_after.samples,
                       health_before.wall + health_after.wall)
        print(f"## Part 1: webhook answer time, {args.callers} concurrent callers "
              "(client side: connect to last byte)")
        print()
        print(part1_table(voice, health, alone))
        print()

        waiting = top_up_waiting(system, args.peers, deadline, 800_000)
        if args.compare_fork:
            passes = alternate_part2(system, worker, args, deadline)
        else:
            passes = [(PROCFILE_NAME, run_part2(system, 0, args.rounds, deadline))]
        print(f"## Part 2: peer becomes available -> the stand-in receives the REST call to the "
              f"peer's phone ({', '.join(str(len(r)) for _, r in passes)} rounds, "
              f"{waiting} callers waiting at the start)")
        print()
        print(part2_table(passes))
        print()
        for name, rounds in passes:
            if not rounds:
                continue
            total50 = percentile([r.total for r in rounds], 0.5)
            floor50 = (percentile([r.pickup.to_start for r in rounds], 0.5)
                       + percentile([r.pickup.start_to_run for r in rounds], 0.5))
            print(f"{name}: beyond RQ's floor (p50 total - p50 no-op enqueued -> runs): "
                  f"{ms(total50 - floor50)} of {ms(total50)} ms")
        errors = sum(not s.ok for s in voice.samples + health.samples + alone.samples)
        if errors:
            print(f"warning: {errors} answers were errors or not the TwiML of their step "
                  "(left out of the times)")
        if system.standin.schema_failures:
            print(f"warning: the stand-in saw {system.standin.schema_failures} TwiML schema "
                  "failures")
        print()
        print("p50/p99: each request as the caller's side sees it; req/s: the phase's requests / "
              "its wall time; ratios: against GET /healthz in the same run, same threads (half "
              "before, half after the voice phase); '1 caller alone': one thread, no "
              "concurrency (service time without queueing).")
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # tear down (drop the database) on SIGTERM too
    raise SystemExit(main())
