"""The soak's faults: what each does, when it happens, and the thread that makes it happen."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from warmline.soak.procs import Supervisor, children, kill
from warmline.soak.services import RedisServer, TcpProxy
from warmline.standin import CallbackOrder, CallbackPolicy, RestFault, Standin

log = logging.getLogger(__name__)

BASELINE = "none (baseline)"


@dataclass(frozen=True)
class FaultKind:
    name: str
    what: str
    lasting: bool  # switched on for a while (True) or one blow (False)


KINDS: tuple[FaultKind, ...] = (
    FaultKind("web-worker-sigkill", "SIGKILL one gunicorn worker (gunicorn starts another)", False),
    FaultKind("worker-sigkill", "SIGKILL the urgent RQ worker and its work horse mid-job", False),
    FaultKind("worker-low-sigkill", "SIGKILL the low RQ worker and its work horse mid-job", False),
    FaultKind("callbacks-delayed", "the stand-in delays every status callback", True),
    FaultKind("callbacks-duplicated", "the stand-in sends every status callback twice", True),
    FaultKind("callbacks-reordered", "the stand-in holds a call's status callbacks and "
              "sends them shuffled when it ends", True),
    FaultKind("rest-500", "the stand-in's REST API answers 500 to every request", True),
    FaultKind("rest-429", "the stand-in's REST API answers 429 to every request", True),
    FaultKind("postgres-refuses", "PostgreSQL refuses connections (open ones are cut)", True),
    FaultKind("redis-restart-aof", "Redis stopped and started again with its append-only file",
              False),
    FaultKind("redis-restart-empty", "Redis killed and started again empty", False),
)


@dataclass(frozen=True)
class Planned:
    kind: FaultKind
    at: float  # wall seconds after the shift starts
    lasts: float  # wall seconds (0: one blow)


@dataclass
class Happened:
    """A fault as it was injected: when, and what the injector saw."""

    planned: Planned
    started: float = 0.0  # wall seconds after the shift starts
    ended: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class Schedule:
    faults: tuple[Planned, ...]

    def lines(self) -> list[str]:
        rows = []
        for fault in self.faults:
            span = f" for {fault.lasts:g} s" if fault.lasts else ""
            rows.append(f"  t+{fault.at:6.1f} s  {fault.kind.name:<22} {fault.kind.what}{span}")
        return rows


def fault_kinds(names: str) -> tuple[FaultKind, ...]:
    """`all`, or a comma-separated list of fault names (kept in the schedule's order)."""
    if names.strip() in ("", "all"):
        return KINDS
    wanted = {name.strip() for name in names.split(",") if name.strip()}
    unknown = wanted - {kind.name for kind in KINDS}
    if unknown:
        raise ValueError(f"unknown faults: {', '.join(sorted(unknown))} (known: "
                         f"{', '.join(kind.name for kind in KINDS)})")
    return tuple(kind for kind in KINDS if kind.name in wanted)


def plan_schedule(shift_seconds: float, *, lasting_seconds: float, postgres_seconds: float,
                  kinds: tuple[FaultKind, ...] = KINDS) -> Schedule:
    """Each fault once, evenly spread over the shift after a baseline stretch, the last one
    well before the shift ends so its consequences play out while callers still arrive."""
    first, last = 0.08 * shift_seconds, 0.85 * shift_seconds
    step = (last - first) / max(1, len(kinds) - 1)
    faults = []
    for n, kind in enumerate(kinds):
        lasts = 0.0
        if kind.lasting:
            lasts = postgres_seconds if kind.name == "postgres-refuses" else lasting_seconds
        faults.append(Planned(kind, round(first + n * step, 1), lasts))
    return Schedule(tuple(faults))


@dataclass
class Targets:
    """What the faults act on."""

    supervisor: Supervisor
    redis: RedisServer
    proxy: TcpProxy
    standin: Standin
    callback_delay: float  # stand-in seconds


@dataclass
class Injector:
    """Runs the schedule in a thread, relative to `t0` (time.monotonic() at the shift's start)."""

    schedule: Schedule
    targets: Targets
    t0: float = 0.0
    happened: list[Happened] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, t0: float) -> Injector:
        self.t0 = t0
        self._thread = threading.Thread(target=self._run, name="soak-faults", daemon=True)
        self._thread.start()
        return self

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _run(self) -> None:
        for planned in self.schedule.faults:
            if self._stop.wait(max(0.0, planned.at - self.now())):
                return
            happened = Happened(planned, started=self.now())
            try:
                self._inject(planned, happened)
            except Exception as exc:  # a failed injection is reported, not fatal
                self.errors.append(f"{planned.kind.name}: {type(exc).__name__}: {exc}")
                log.exception("fault %s", planned.kind.name)
            happened.ended = self.now()
            self.happened.append(happened)
            print(f"soak: t+{happened.started:6.1f} s  {planned.kind.name}"
                  f"{' (' + happened.note + ')' if happened.note else ''}", flush=True)

    def _inject(self, planned: Planned, happened: Happened) -> None:
        t = self.targets
        name = planned.kind.name
        if name == "web-worker-sigkill":
            happened.note = self._kill_web_worker()
        elif name == "worker-sigkill":
            happened.note = self._kill_worker_mid_job("worker")
        elif name == "worker-low-sigkill":
            happened.note = self._kill_worker_mid_job("worker_low")
        elif name.startswith("callbacks-"):
            policy = {"callbacks-delayed": CallbackPolicy(delay=t.callback_delay),
                      "callbacks-duplicated": CallbackPolicy(duplicate=True),
                      "callbacks-reordered": CallbackPolicy(order=CallbackOrder.SHUFFLED)}[name]
            self._for_a_while(planned, lambda: t.standin.misbehave(callbacks=policy),
                              lambda: t.standin.misbehave(callbacks=CallbackPolicy()))
        elif name.startswith("rest-"):
            status = int(name.removeprefix("rest-"))
            self._for_a_while(planned, lambda: t.standin.misbehave(rest_fault=RestFault(status)),
                              lambda: t.standin.misbehave(rest_fault=RestFault()))
        elif name == "postgres-refuses":
            t.proxy.refuse(planned.lasts)
            self._stop.wait(planned.lasts)
            happened.note = f"{t.proxy.refused} connections refused so far"
        elif name == "redis-restart-aof":
            t.redis.restart_with_aof()
        elif name == "redis-restart-empty":
            t.redis.restart_empty()
        else:
            raise ValueError(name)

    def _for_a_while(self, planned: Planned, on: Callable[[], None], off: Callable[[], None]) -> None:
        on()
        try:
            self._stop.wait(planned.lasts)
        finally:
            off()

    def _kill_web_worker(self) -> str:
        master = self.targets.supervisor.pid("web")
        workers = children(master) if master else []
        if not workers:
            return "no gunicorn worker found"
        kill(workers[0])
        return f"killed worker pid {workers[0]} of {len(workers)}"

    def _kill_worker_mid_job(self, name: str, patience: float = 10.0) -> str:
        """Wait (a while) for a work horse, i.e. a job in hand, then kill it and its worker."""
        deadline = time.monotonic() + patience
        while not self._stop.is_set():
            pid = self.targets.supervisor.pid(name)
            horses = children(pid) if pid else []
            if horses or time.monotonic() > deadline:
                for horse in horses:
                    kill(horse)
                if pid:
                    kill(pid)
                return "killed mid-job" if horses else "no job in hand within 10 s: killed idle"
            time.sleep(0.002)
        return "stopped"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        # Leave nothing switched on.
        self.targets.standin.misbehave(callbacks=CallbackPolicy(), rest_fault=RestFault())
