"""Where the voice webhooks' time goes: cProfile of `POST /twilio/voice`, the menu and the wait
step, one caller at a time, in this process (the app `bench/voice.py` runs, built the same way:
a throwaway PostgreSQL database, its own Redis DB index, the roster, the stand-in).

    .venv/bin/python bench/profile_voice.py [--calls 60] [--redis-url redis://127.0.0.1:6379/5]

Prints, per endpoint, the mean time of a request in process (no HTTP, no gunicorn), the share of
that time spent in SQL (SQLAlchemy and the driver), in Redis (redis-py), in RQ's enqueue, in
Flask/Werkzeug and in the app's own code, and the functions with the most cumulative time.
Then the ring path's two halves, `--rings` times with the callers still waiting: a peer set
available (`routing.set_presence`: the match pass and the ring job enqueued) and the ring job on
the `fast` queue, run by RQ's SimpleWorker in this process as the fast child runs it (the job's
SQL, Redis and the REST call to the stand-in; `Twilio REST` is the HTTP client's share).
Profiling slows everything down about alike; read the shares, not the milliseconds.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import platform  # noqa: E402

from bench.machine import cpu_model  # noqa: E402
from bench.voice import (  # noqa: E402
    AUTH_TOKEN,
    DEFAULT_PG_ADMIN_URL,
    DEFAULT_REDIS_URL,
    Caller,
    Sample,
    System,
    caller_number,
    running_system,
)
from warmline.app import create_app  # noqa: E402
from warmline.clock import utc_now  # noqa: E402
from warmline.telephony.signature import SIGNATURE_HEADER, compute_signature  # noqa: E402

# Where a function's own time is counted, by the file it is in (first match wins).
CATEGORIES = (
    ("SQL", ("sqlalchemy", "psycopg")),
    ("Redis", ("/redis/",)),
    ("RQ enqueue", ("/rq/",)),
    ("Twilio REST", ("/twilio/", "/requests/", "/urllib3/")),
    ("Flask/Werkzeug", ("/flask/", "/werkzeug/", "/jinja2/")),
    ("warmline", ("/warmline/",)),
)


class InProcessCaller(Caller):
    """A caller whose requests go to the app in this process, signed as Twilio signs them."""

    def __init__(self, system: System, number: str, client: Any) -> None:
        super().__init__(system, number)
        self.client = client

    def post(self, path: str, **extra: str) -> tuple[int, str, float]:
        params = {**self.base, **extra}
        signature = compute_signature(AUTH_TOKEN, self.system.public_url + path, params)
        started = time.perf_counter()
        answer = self.client.post(path, data=params, headers={SIGNATURE_HEADER: signature},
                                  base_url=self.system.public_url)
        return answer.status_code, answer.get_data(as_text=True), time.perf_counter() - started


def shares(stats: pstats.Stats) -> dict[str, float]:
    own: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        category = next((name for name, marks in CATEGORIES
                         if any(mark in filename for mark in marks)), "other")
        own[category] += tottime
    return dict(own)


def report(endpoint: str, profile: cProfile.Profile, count: int, seconds: float,
           top: int) -> None:
    stats = pstats.Stats(profile)
    own = shares(stats)
    total = sum(own.values()) or 1.0
    print(f"\n{endpoint}: {count} requests, {seconds / count * 1e3:.2f} ms each (profiled)")
    print("  own time: " + ", ".join(
        f"{name} {own.get(name, 0.0) / total:.0%}"
        for name in (*(n for n, _ in CATEGORIES), "other")))
    stats.sort_stats("cumulative")
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = sorted(((ct, nc, f"{Path(f).name}:{line} {name}")
                   for (f, line, name), (_cc, nc, _tt, ct, _c) in raw.items()
                   if "/warmline/" in f or "sqlalchemy/orm/session" in f or "redis/client" in f
                   or "/rq/" in f or "/twilio/http" in f),
                  reverse=True)
    for ct, nc, where in rows[:top]:
        print(f"  {ct / count * 1e3:7.2f} ms/request  {nc / count:6.1f} calls  {where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--top", type=int, default=14)
    parser.add_argument("--rings", type=int, default=20, help="peers set available, one each")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    # what bench/voice.py's running_system reads
    setup = argparse.Namespace(sqlite=False, pg_admin_url=args.pg_admin_url,
                               redis_url=args.redis_url, peers=max(args.rings, 1))
    print(f"{cpu_model()}, Python {platform.python_version()}")
    with ExitStack() as stack:
        system = stack.enter_context(running_system(setup, stack))
        client = create_app(runtime=system.runtime).test_client()
        callers = [InProcessCaller(system, caller_number(90_000 + n), client)
                   for n in range(args.calls + 5)]
        for caller in callers[:5]:  # warm: imports, pools, scripts loaded
            caller.dial()
            caller.choose("0")
            caller.wait(5, 1, 1)
        steps: tuple[tuple[str, Callable[[InProcessCaller], Sample]], ...] = (
            ("POST /twilio/voice", lambda c: c.dial()),
            ("POST /twilio/voice/menu", lambda c: c.choose("0")),
            ("POST /twilio/voice/wait", lambda c: c.wait(30, 1, 1)))
        for endpoint, step in steps:
            profile = cProfile.Profile()
            failed = 0
            started = time.perf_counter()
            for caller in callers[5:]:
                profile.enable()
                sample = step(caller)
                profile.disable()
                failed += not sample.ok
            took = time.perf_counter() - started
            report(endpoint, profile, args.calls, took, args.top)
            if failed:
                print(f"  ({failed} answers were not the expected TwiML)")
        if args.rings > 0:  # 0: the webhooks only
            profile_ring(system, args.rings, args.top)
    return 0


def profile_ring(system: System, rings: int, top: int) -> None:
    """Each peer in turn set available (an offer for a waiting caller, its ring job enqueued on
    the fast queue), then that job run as the fast child runs it; each half profiled apart."""
    from rq import SimpleWorker  # noqa: PLC0415

    from warmline.domain.matching import Presence  # noqa: PLC0415
    from warmline.queues import QueueName  # noqa: PLC0415
    from warmline.services import routing  # noqa: PLC0415

    runtime = system.runtime
    worker = SimpleWorker([runtime.queue(QueueName.FAST)], connection=runtime.jobs_redis)
    presence, job = cProfile.Profile(), cProfile.Profile()
    took = {"presence": 0.0, "job": 0.0}
    for peer_id in system.peer_ids[:rings]:
        started = time.perf_counter()
        presence.enable()
        routing.set_presence(runtime, peer_id, Presence.AVAILABLE, utc_now())
        presence.disable()
        took["presence"] += time.perf_counter() - started
        started = time.perf_counter()
        job.enable()
        worker.work(burst=True)
        job.disable()
        took["job"] += time.perf_counter() - started
    report("ring path: set_presence (match pass, ring job enqueued)", presence, rings,
           took["presence"], top)
    report("ring path: the ring job (SimpleWorker, burst)", job, rings, took["job"], top)


if __name__ == "__main__":
    raise SystemExit(main())
