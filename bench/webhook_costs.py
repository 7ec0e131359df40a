"""What one voice webhook costs: Redis commands, Redis round trips, SQL statements and RQ jobs
enqueued per request, and its in-process time (p50, p99), for `POST /twilio/voice`, the menu
choice that queues the caller, and the wait step; optionally against a baseline tree in the same
run, the two trees measured in turns.

    .venv/bin/python bench/webhook_costs.py [--calls 40] [--turns 3] [--baseline DIR]
        [--redis-url redis://127.0.0.1:6379/5] [--pg-admin-url URL]

`--baseline DIR` is another checkout of the app (e.g. `git worktree add ../base main`): each turn
runs this tree and the baseline, one after the other, each in a fresh process against its own
throwaway database and the same Redis DB index (flushed), with the app in process as
`bench/profile_voice.py` runs it (no HTTP, no gunicorn: the service time of the request). The
counts do not depend on the machine's load; the times do (read them side by side, same run).
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
ENDPOINTS = ("POST /twilio/voice", "POST /twilio/voice/menu", "POST /twilio/voice/wait")


class Counter:
    """Counts Redis commands and round trips (redis-py's connection: a pipeline is one send)
    and SQL statements and transactions begun (SQLAlchemy's events), while `on`."""

    def __init__(self, engine: Any) -> None:
        from redis.connection import AbstractConnection  # noqa: PLC0415
        from sqlalchemy import event  # noqa: PLC0415

        self.on = False
        self.counts: dict[str, int] = defaultdict(int)
        counter = self
        single, many = AbstractConnection.send_command, AbstractConnection.pack_commands
        send = AbstractConnection.send_packed_command

        def note(args: tuple[Any, ...]) -> None:
            counter.counts["redis commands"] += 1
            if args and str(args[0]).upper() in ("EVALSHA", "EVAL"):
                counter.counts["redis scripts"] += 1

        def send_command(conn: Any, *args: Any, **kwargs: Any) -> Any:
            if counter.on:
                note(args)
            return single(conn, *args, **kwargs)

        def pack_commands(conn: Any, commands: Any) -> Any:
            commands = list(commands)
            if counter.on:
                for args in commands:
                    note(tuple(args))
            return many(conn, commands)

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
            if counter.on:
                counter.counts["redis round trips"] += 1
            return send(conn, command, check_health)

        AbstractConnection.send_command = send_command  # type: ignore[method-assign]
        AbstractConnection.pack_commands = pack_commands  # type: ignore[method-assign]
        AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]

        @event.listens_for(engine, "before_cursor_execute")
        def _sql(*_args: Any) -> None:
            if counter.on:
                counter.counts["SQL statements"] += 1

        @event.listens_for(engine, "commit")
        def _commit(*_args: Any) -> None:
            if counter.on:
                counter.counts["SQL commits"] += 1

        @event.listens_for(engine, "begin")
        def _begin(*_args: Any) -> None:
            if counter.on:
                counter.counts["SQL transactions"] += 1

    def take(self) -> dict[str, int]:
        taken, self.counts = dict(self.counts), defaultdict(int)
        return taken


def measure(calls: int, redis_url: str, pg_admin_url: str) -> dict[str, Any]:
    """In a process whose sys.path starts with the tree to measure."""
    from contextlib import ExitStack  # noqa: PLC0415

    from rq import Queue  # noqa: PLC0415

    from bench.profile_voice import InProcessCaller  # noqa: PLC0415
    from bench.voice import caller_number, running_system  # noqa: PLC0415
    from warmline.app import create_app  # noqa: PLC0415

    setup = argparse.Namespace(sqlite=False, pg_admin_url=pg_admin_url, redis_url=redis_url,
                               peers=1)
    enqueued = 0
    original_enqueue_job = Queue.enqueue_job

    def enqueue_job(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal enqueued
        enqueued += 1
        return original_enqueue_job(self, *args, **kwargs)

    Queue.enqueue_job = enqueue_job  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    with ExitStack() as stack:
        system = stack.enter_context(running_system(setup, stack))
        counter = Counter(system.runtime.engine)
        client = create_app(runtime=system.runtime).test_client()
        callers = [InProcessCaller(system, caller_number(50_000 + n), client)
                   for n in range(calls + 5)]
        for caller in callers[:5]:  # warm: imports, pools, scripts loaded, the line cache
            caller.dial()
            caller.choose("0")
            caller.wait(5, 1, 1)
        steps = (lambda c: c.dial(), lambda c: c.choose("1"), lambda c: c.wait(30, 1, 1))
        for endpoint, step in zip(ENDPOINTS, steps, strict=True):
            times: list[float] = []
            totals: dict[str, int] = defaultdict(int)
            failed = 0
            enqueued = 0
            for caller in callers[5:]:
                counter.on = True
                started = time.perf_counter()
                sample = step(caller)
                times.append(time.perf_counter() - started)
                counter.on = False
                failed += not sample.ok
                for name, value in counter.take().items():
                    totals[name] += value
            out[endpoint] = {"times": times, "counts": dict(totals), "jobs": enqueued,
                             "failed": failed}
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# Run in a fresh interpreter: the measured tree first on the path (its warmline, its
# bench.voice), this file loaded by its path (the baseline tree may not have it).
_CHILD = """
import importlib.util, json, sys
tree, here, calls, redis_url, pg_admin_url = sys.argv[1:6]
sys.path.insert(0, tree)
spec = importlib.util.spec_from_file_location("webhook_costs", here)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(module.measure(int(calls), redis_url, pg_admin_url)))
"""


def run_tree(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(Path(__file__).resolve()), str(args.calls),
         args.redis_url, args.pg_admin_url],
        cwd=tree, env={**os.environ, "PYTHONPATH": ""}, capture_output=True, text=True,
        check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"{tree}: {finished.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5",
                        help="a Redis DB index of its own; flushed at each start and end")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    trees = [("after", HERE)] + ([("before", args.baseline.resolve())] if args.baseline else [])
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    for turn in range(args.turns):
        order = trees if turn % 2 == 0 else list(reversed(trees))
        for name, tree in order:
            results[name].append(run_tree(tree, args))
    from bench.machine import cpu_model  # noqa: PLC0415

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.turns} turns x {args.calls} "
          f"calls per tree, trees in alternating order; in process (no HTTP)")
    names = ("redis commands", "redis round trips", "redis scripts", "SQL statements",
             "SQL transactions", "SQL commits")
    header = ["endpoint", "tree", *[f"{n} / req" for n in names], "jobs enqueued / req",
              "p50 ms", "p99 ms", "errors"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for endpoint in ENDPOINTS:
        for name, _tree in reversed(trees):
            runs = [r[endpoint] for r in results[name]]
            requests = sum(len(r["times"]) for r in runs)
            times = [t for r in runs for t in r["times"]]
            counts = [sum(r["counts"].get(n, 0) for r in runs) / requests for n in names]
            jobs = sum(r["jobs"] for r in runs) / requests
            print("| " + " | ".join([endpoint, name, *[f"{c:.1f}" for c in counts], f"{jobs:.1f}",
                                     f"{percentile(times, 0.5) * 1e3:.2f}",
                                     f"{percentile(times, 0.99) * 1e3:.2f}",
                                     str(sum(r["failed"] for r in runs))]) + " |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
