"""A capacity model, measured: N web processes x M worker processes against one Redis and one
PostgreSQL, callers ramped until p99 passes Twilio's comfort (1 s) or errors appear.

    .venv/bin/python bench/capacity.py [--configs 2x2,4x4] [--levels 5,10,20,40,80]
        [--calls 2] [--waits 3] [--peak-per-hour 3000] [--redis-url redis://127.0.0.1:6379/8]
        [--settle 11] [--quick]

For each configuration WEBxWORKERS: the app under gunicorn as the Procfile's `web` line runs it
with WEB_CONCURRENCY=WEB (gthread, its threads), WORKERS processes of `python -m workers.main
urgent` and one of `low` (the Procfile's `worker` and `worker_low`), a throwaway PostgreSQL
database, its own Redis DB index (flushed, that index only) and the Twilio stand-in in this
process (bench/voice.py builds the same system). Nobody is available: every caller holds.

At each level, that many threads each place `--calls` contacts one after another: the call
(`POST /twilio/voice`), the menu (0: anyone), `--waits` rounds of the hold loop, and the hang-up
(the caller leg's status callback, `completed`), every request signed and on a new connection.
Then the jobs the contacts left are drained, and the level's deltas are read:

- contacts/s (contacts over the level's wall time) and webhooks per contact;
- p50/p99 of every webhook (client side), and errors (not 200, or not the expected TwiML);
- Redis commands per contact: INFO commandstats, summed, before and after. The server is shared
  (other processes' commands count too): read it as an upper bound;
- SQL per contact: transactions and rows from pg_stat_database for the throwaway database alone
  (PostgreSQL publishes a backend's counts up to 10 s late, hence `--settle`), and statements
  counted in the web and worker processes themselves (SQLAlchemy's before_cursor_execute,
  installed by bench/sql_counting/sitecustomize.py through PYTHONPATH: no server extension);
- CPU per contact per process type, from /proc: the web processes (gunicorn's master and
  workers), the worker processes (with their reaped work horses) and this client (the load and
  the stand-in), in ms of CPU per contact.

The ramp stops at the first level whose p99 passes 1 s or that has errors. At the end, the
figures of the last level within both limits of the first configuration become the sentence
"one 2-core web host carries N concurrent callers on hold; a national line's peak of M contacts
an hour needs K hosts" (the arithmetic is printed with it). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.machine import cpu_model, percentile  # noqa: E402
from bench.voice import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL,
    Caller,
    Sample,
    System,
    caller_number,
    noop_pickup,
    process,
    running_system,
    tail,
    wait_until,
)
from warmline.queues import FAST_QUEUES, SLOW_QUEUES, URGENT_QUEUES  # noqa: E402
from warmline.voice import urls  # noqa: E402
from warmline.voice.twiml import HOLD_SEGMENT_SECONDS  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
P99_LIMIT_SECONDS = 1.0  # Twilio's comfort; it gives up at 15 s
# A host is planned to run at half its CPU at the peak (headroom for bursts and the rest).
TARGET_UTILISATION = 0.5
HOST_CORES = 2
TICKS = os.sysconf("SC_CLK_TCK")


# -- counters ----------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid: int, *, with_reaped: bool) -> float:
    """User + system CPU of a process (and of its children it has waited for)."""
    try:
        f = _stat_fields(pid)
    except OSError:
        return 0.0
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_reaped else 0)
    return ticks / TICKS


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def web_cpu(master: int) -> float:
    """gunicorn's master and its live workers (a worker's CPU is its own until it exits); for a
    worker process, it and its live fast child (RQ's work horses are reaped, so counted)."""
    return cpu_seconds(master, with_reaped=True) + sum(
        cpu_seconds(pid, with_reaped=True) for pid in children(master))


def client_cpu() -> float:
    times = os.times()
    return times.user + times.system


def redis_commands(system: System) -> int:
    stats: dict[str, Any] = system.runtime.redis.info("commandstats")
    return sum(int(v["calls"]) for v in stats.values() if isinstance(v, dict))


@dataclass(frozen=True)
class SqlCounts:
    transactions: int
    rows: int
    statements: int


# Every web and worker process this bench starts counts its SQL statements into this file (one
# byte each): bench/sql_counting/sitecustomize.py, loaded through PYTHONPATH.
SQL_COUNTING_DIR = REPO / "bench" / "sql_counting"


def count_sql_statements_of_children(counts_file: Path) -> None:
    """Processes started from now on (their env is copied from os.environ) count statements."""
    counts_file.write_bytes(b"")
    os.environ["WARMLINE_BENCH_SQL_COUNTS"] = str(counts_file)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SQL_COUNTING_DIR), os.environ.get("PYTHONPATH", "")) if p)


class Postgres:
    """pg_stat_database of the throwaway database, and the statements the bench's web and
    worker processes ran (counted by SQLAlchemy's before_cursor_execute in each)."""

    def __init__(self, url: str, counts_file: Path) -> None:
        self.engine = create_engine(url)
        self.counts_file = counts_file

    def counts(self) -> SqlCounts:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            row = conn.execute(text(
                "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched + tup_inserted"
                " + tup_updated + tup_deleted FROM pg_stat_database"
                " WHERE datname = current_database()")).one()
        return SqlCounts(int(row[0]), int(row[1]), self.counts_file.stat().st_size)


# -- the load ----------------------------------------------------------------------------------


def hang_up(caller: Caller) -> Sample:
    status, _body, took = caller.post(urls.INBOUND_STATUS, CallStatus="completed",
                                      SequenceNumber="9", CallDuration="60")
    return Sample("POST /twilio/voice/status", took, status in (200, 204))


def one_contact(caller: Caller, waits: int) -> list[Sample]:
    samples = [caller.dial()]
    if caller.contact:
        samples.append(caller.choose("0"))
        for w in range(waits):
            samples.append(caller.wait(queue_time=5 + HOLD_SEGMENT_SECONDS * w, position=1,
                                       size=1))
    samples.append(hang_up(caller))
    return samples


def drain(system: System, timeout: float) -> None:
    queues = [system.runtime.queue(name) for name in (*FAST_QUEUES, *URGENT_QUEUES, *SLOW_QUEUES)]

    def empty() -> bool:
        return all(q.count == 0 and q.started_job_registry.count == 0 for q in queues)

    wait_until(empty, timeout, "the jobs the contacts left", interval=0.2)


@dataclass(frozen=True)
class Level:
    callers: int
    contacts: int
    wall: float
    samples: list[Sample]
    redis: int
    sql: SqlCounts
    cpu_web: float
    cpu_worker: float
    cpu_client: float

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    def p(self, q: float) -> float:
        return percentile([s.seconds for s in self.samples], q)

    def per_contact(self, value: float) -> float:
        return value / max(self.contacts, 1)


def run_level(system: System, pg: Postgres, web_pid: int, worker_pids: list[int], *,
              callers: int, calls: int, waits: int, first_number: int, settle: float) -> Level:
    def counters() -> tuple[int, SqlCounts, float, float, float]:
        return (redis_commands(system), pg.counts(), web_cpu(web_pid),
                sum(web_cpu(p) for p in worker_pids), client_cpu())

    before = counters()
    started = time.monotonic()

    def work(n: int) -> list[Sample]:
        out: list[Sample] = []
        for k in range(calls):
            caller = Caller(system, caller_number(first_number + n * calls + k))
            out.extend(one_contact(caller, waits))
        return out

    with ThreadPoolExecutor(max_workers=callers) as pool:
        samples = [s for batch in pool.map(work, range(callers)) for s in batch]
    wall = time.monotonic() - started
    drain(system, 120)
    time.sleep(settle)  # PostgreSQL publishes a backend's statistics up to 10 s late
    after = counters()
    sql = SqlCounts(after[1].transactions - before[1].transactions, after[1].rows - before[1].rows,
                    after[1].statements - before[1].statements)
    return Level(callers, callers * calls, wall, samples, after[0] - before[0], sql,
                 after[2] - before[2], after[3] - before[3], after[4] - before[4])


# -- the system --------------------------------------------------------------------------------


@contextmanager
def workers(system: System, count: int) -> Iterator[list[int]]:
    with ExitStack() as stack:
        pids: list[int] = []
        for n, group in enumerate(["urgent"] * count + ["low"]):
            log_path = system.workdir / f"worker-{group}-{n}.log"
            proc: Popen[bytes] = stack.enter_context(process(
                [sys.executable, "-m", "workers.main", group], system.env, log_path))
            pids.append(proc.pid)
        try:
            noop_pickup(system.runtime)  # up (imports done), and serving the urgent queues
        except TimeoutError:
            raise RuntimeError(f"no worker ran a job:\n{tail(system.workdir / 'worker-urgent-0.log')}") \
                from None
        yield pids


def gunicorn_pid(system: System) -> int:
    """The gunicorn master this process started (the child running `-m gunicorn`)."""
    for pid in children(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"gunicorn" in argv:
            return pid
    raise RuntimeError("gunicorn is not running")


def row(config: str, level: Level) -> list[str]:
    webhooks = len(level.samples)
    cells = [config, str(level.callers), str(level.contacts),
             f"{level.contacts / level.wall:.1f}", f"{webhooks / max(level.contacts, 1):.1f}",
             f"{level.p(0.5) * 1e3:.0f}", f"{level.p(0.99) * 1e3:.0f}", str(level.errors),
             f"{level.per_contact(level.redis):.0f}",
             f"{level.per_contact(level.sql.transactions):.1f}",
             f"{level.per_contact(level.sql.rows):.0f}",
             f"{level.per_contact(level.sql.statements):.1f}"]
    cells += [f"{level.per_contact(level.cpu_web) * 1e3:.1f}",
              f"{level.per_contact(level.cpu_worker) * 1e3:.1f}",
              f"{level.per_contact(level.cpu_client) * 1e3:.1f}"]
    return cells


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def capacity_sentence(level: Level, peak_per_hour: int) -> str:
    webhooks = len(level.samples) / max(level.contacts, 1)
    web_per_webhook = level.per_contact(level.cpu_web) / webhooks
    on_hold = HOST_CORES * TARGET_UTILISATION * HOLD_SEGMENT_SECONDS / web_per_webhook
    per_contact = level.per_contact(level.cpu_web + level.cpu_worker)
    hosts = math.ceil(peak_per_hour / 3600 * per_contact / (HOST_CORES * TARGET_UTILISATION))
    return (
        f"One {HOST_CORES}-core web host carries about {on_hold:,.0f} concurrent callers on hold"
        f" (a wait request every {HOLD_SEGMENT_SECONDS} s each, {web_per_webhook * 1e3:.1f} ms"
        f" of web CPU per webhook on average, the host at {TARGET_UTILISATION:.0%}); a national"
        f" line's peak of {peak_per_hour:,} contacts an hour needs {max(hosts, 1)}"
        f" {HOST_CORES}-core host(s) for web and workers ({per_contact * 1e3:.0f} ms of CPU per"
        f" contact, at {TARGET_UTILISATION:.0%}), beside one Redis and one PostgreSQL."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="2x2,4x4", help="WEBxWORKERS, comma-separated")
    parser.add_argument("--levels", default="5,10,20,40,80", help="concurrent callers, ramped")
    parser.add_argument("--calls", type=int, default=2, help="contacts per caller thread")
    parser.add_argument("--waits", type=int, default=3, help="hold rounds per contact")
    parser.add_argument("--peak-per-hour", type=int, default=3000)
    parser.add_argument("--settle", type=float, default=11.0,
                        help="seconds to let PostgreSQL publish its counts after each level")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1x1, levels 2 and 3, 1 call, 1 wait, no settling")
    args = parser.parse_args(argv)
    if args.quick:
        args.configs, args.levels, args.calls, args.waits, args.settle = "1x1", "2,3", 1, 1, 0.0
    args.config_list = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    args.level_list = [int(x) for x in args.levels.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"load: each caller thread places {args.calls} contact(s): call, menu, "
          f"{args.waits} hold round(s), hang-up; nobody available (all callers hold)")
    results: list[tuple[str, list[Level]]] = []
    first_number = 0
    counts_dir = Path(tempfile.mkdtemp(prefix="warmline-sql-counts-"))
    counts_file = counts_dir / "statements"
    count_sql_statements_of_children(counts_file)
    for web, worker_count in args.config_list:
        config = f"{web}x{worker_count}"
        os.environ["WEB_CONCURRENCY"] = str(web)
        setup = argparse.Namespace(sqlite=False, pg_admin_url=args.pg_admin_url,
                                   redis_url=args.redis_url, peers=1)
        levels: list[Level] = []
        with ExitStack() as stack:
            system = stack.enter_context(running_system(setup, stack))
            pids = stack.enter_context(workers(system, worker_count))
            pg = Postgres(system.runtime.settings.database_url, counts_file)
            stack.callback(pg.engine.dispose)
            master = gunicorn_pid(system)
            # warm: every gunicorn worker imported and connected, the scripts loaded
            run_level(system, pg, master, pids, callers=2 * web, calls=1, waits=1,
                      first_number=900_000, settle=0.0)
            for callers in args.level_list:
                level = run_level(system, pg, master, pids, callers=callers, calls=args.calls,
                                  waits=args.waits, first_number=first_number,
                                  settle=args.settle)
                first_number += callers * args.calls
                levels.append(level)
                print(f"  {config}: {callers} callers: p99 {level.p(0.99) * 1e3:.0f} ms, "
                      f"{level.errors} errors", flush=True)
                if level.errors or level.p(0.99) > P99_LIMIT_SECONDS:
                    break
        results.append((config, levels))
    header = ["web x workers", "callers", "contacts", "contacts/s", "webhooks/contact",
              "p50 ms", "p99 ms", "errors", "Redis cmds/contact", "SQL xacts/contact",
              "SQL rows/contact", "SQL stmts/contact"]
    header += ["web CPU ms/contact", "worker CPU ms/contact", "client CPU ms/contact"]
    print()
    print(table(header, [row(c, lv) for c, levels in results for lv in levels]))
    shutil.rmtree(counts_dir, ignore_errors=True)
    within = [lv for lv in results[0][1] if not lv.errors and lv.p(0.99) <= P99_LIMIT_SECONDS]
    print()
    if within:
        print(capacity_sentence(within[-1], args.peak_per_hour))
    else:
        print("no level stayed within p99 1 s without errors: no capacity sentence")
    return 0


def _run() -> int:
    threading.current_thread().name = "capacity"
    return main()


if __name__ == "__main__":
    raise SystemExit(_run())
