"""One soak: start everything as deployed, play a shift with faults on a schedule, count."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests
from rq import Worker
from sqlalchemy import func, make_url, select

from config import load_settings
from warmline.models import CallbackRequest, Contact, Line, Peer
from warmline.queues import FAST_QUEUES, SLOW_QUEUES, URGENT_QUEUES
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.simulate.harness import (
    HOLD_AUDIO_SECONDS,
    WEBHOOK_DEADLINE_WALL_SECONDS,
    LiveSystem,
    start_peers,
)
from warmline.simulate.jobs import queued_jobs
from warmline.simulate.scenario import Behaviour, Scenario, default_roster, plan_arrivals, whole_shift_roster
from warmline.simulate.wiring import provision_lines
from warmline.soak.faults import BASELINE, Happened, Injector, Schedule, Targets, fault_kinds, plan_schedule
from warmline.soak.procs import REPO, Supervisor, bind_locally, command_argv, procfile
from warmline.soak.services import (
    HOST,
    RedisServer,
    TcpProxy,
    free_port,
    proxied_url,
    throwaway_database,
    wait_until,
)
from warmline.soak.shift import OffWatcher, SoakShift
from warmline.soak.tally import (
    Counts,
    Tally,
    Timeline,
    count_answers,
    count_callbacks_twice,
    count_contacts,
    count_double_bookings,
    count_held_too_long,
)
from warmline.soak.tls import TlsFront
from warmline.standin import Standin
from warmline.wiring import install_dispatchers

log = logging.getLogger(__name__)
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class SoakPlan:
    """The size of one soak. Wall seconds unless named otherwise; the shift's people live on
    the stand-in's clock, `speed` times faster."""

    shift_seconds: float = 1800.0
    speed: float = 10.0
    # A busy line, not an overloaded one: about 3 of 8 peers talking at once on average, so what
    # is left waiting at the end is what a fault lost, not a backlog.
    peers: int = 8
    calls_per_hour: float = 60.0  # simulated hours
    texts_per_hour: float = 15.0
    lasting_seconds: float = 60.0  # how long callback and REST faults stay on
    postgres_seconds: float = 20.0
    drain_seconds: float = 60.0  # after the last arrival, for contacts in hand to end
    settle_seconds: float = 90.0  # then at most this long for every contact's outcome
    max_wait_seconds: int = 180  # the line's setting (Twilio's QueueTime, simulated seconds)
    callback_delay: float = 10.0  # simulated seconds added to each status callback
    seed: int = 1
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL
    faults: str = "all"  # or a comma-separated list of fault names

    def schedule(self) -> Schedule:
        return plan_schedule(self.shift_seconds, lasting_seconds=self.lasting_seconds,
                             postgres_seconds=self.postgres_seconds,
                             kinds=fault_kinds(self.faults))

    @property
    def grace_seconds(self) -> float:
        """How far past max_wait_seconds a caller may still be in their queue (simulated
        seconds): one loop of hold audio before the wait URL is asked again, plus that request
        taking as long as Twilio waits for it (15 s of the app's own time, which the speed does
        not compress). Anything beyond is a deadline that did not hold."""
        return HOLD_AUDIO_SECONDS + WEBHOOK_DEADLINE_WALL_SECONDS * self.speed

    @property
    def text_bound_seconds(self) -> float:
        """How long a text nobody on shift can take may wait for its end (wall seconds): the
        app's own clock, which the speed does not compress, bounds it at max_wait_seconds to
        the honest text and as long again to the goodbye; plus a minute for the scheduled
        check. The wind-down waits this long for such texts, so they end inside the soak."""
        return 2.0 * self.max_wait_seconds + 60.0

    def behaviour(self) -> Behaviour:
        return Behaviour(talk_minutes=3.0, text_minutes=4.0, patience_minutes=3.0,
                         text_patience_minutes=4.0, answer_rate=0.9, callback_share=0.5)

    def scenario(self) -> Scenario:
        return Scenario(peers=self.peers, shift_minutes=self.shift_seconds * self.speed / 60,
                        calls_per_hour=self.calls_per_hour, texts_per_hour=self.texts_per_hour,
                        behaviour=self.behaviour(), seed=self.seed, speed=self.speed,
                        drain_minutes=self.drain_seconds * self.speed / 60,
                        line_settings={"max_wait_seconds": self.max_wait_seconds,
                                       "wrap_up_seconds": 60})


@dataclass
class SoakResult:
    plan: SoakPlan
    schedule: Schedule
    happened: list[Happened]
    tally: Tally
    windows: list[str]
    restarts: dict[str, int] = field(default_factory=dict)
    injector_errors: list[str] = field(default_factory=list)
    driver_errors: int = 0
    callers: int = 0
    texters: int = 0
    unsettled: int = 0
    wall_seconds: float = 0.0
    workdir: str = ""

    @property
    def failures(self) -> dict[str, int]:
        return self.tally.total().failures()


def _environment(plan: SoakPlan, workdir: Path, *, database_url: str, redis_url: str,
                 standin: Standin, port: int, public_url: str) -> dict[str, str]:
    text_idle_minutes = max(0.01, plan.behaviour().text_patience_minutes / plan.speed)
    return {
        **os.environ,
        "WARMLINE_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_API_URL": standin.url,
        "TWILIO_ACCOUNT_SID": standin.config.account_sid,
        "TWILIO_AUTH_TOKEN": standin.config.auth_token,
        "WARMLINE_PUBLIC_URL": public_url,
        "WARMLINE_PROXY_HOPS": "1",  # deploy/Caddyfile, one proxy in front
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WARMLINE_DATA_KEY": secrets.token_urlsafe(32),
        "WARMLINE_INSTANCE_DIR": str(workdir / "instance"),
        "WARMLINE_LOG_LEVEL": "WARNING",
        "WARMLINE_TEXT_INACTIVITY_MINUTES": f"{text_idle_minutes:.3f}",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }


def _release(env: dict[str, str], workdir: Path) -> None:
    """The Procfile's release phase, as a platform runs it before starting the processes."""
    argv = command_argv(procfile()["release"], env)
    with (workdir / "release.log").open("wb") as out:
        subprocess.run(  # noqa: S603 - the repo's own Procfile
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=True,
                       timeout=120)


def _load_roster(runtime: Runtime, plan: SoakPlan) -> tuple[int, str]:
    scenario = plan.scenario()
    roster, number = whole_shift_roster(default_roster(plan.peers))
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, roster, prune=True, actor="soak", source="soak")
        line = session.scalars(select(Line).where(Line.number == number)).one()
        for name, value in scenario.line_settings.items():
            setattr(line, name, value)
        line.wrap_up_seconds = max(1, round(line.wrap_up_seconds / plan.speed))
        return line.id, number


def _web_ready(port: int) -> bool:
    with suppress(requests.RequestException):
        return requests.get(f"http://{HOST}:{port}/readyz", timeout=2).status_code == 200
    return False


def _workers_ready(runtime: Runtime, count: int) -> bool:
    with suppress(Exception):
        return len(Worker.all(connection=runtime.redis)) >= count
    return False


@contextmanager
def _quiet_logs() -> Iterator[None]:
    names = ("werkzeug", "rq", "rq.worker", "rq.scheduler", "rq.queue", "warmline")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _unsettled(runtime: Runtime, line_id: int) -> int:
    """Contacts still without an outcome (a pending call back still has time to end)."""
    with runtime.sessions() as session:
        open_contacts = session.scalar(select(func.count()).select_from(Contact).where(
            Contact.line_id == line_id, Contact.outcome.is_(None))) or 0
        pending = session.scalar(select(func.count()).select_from(CallbackRequest).where(
            CallbackRequest.status.in_(("pending", "in_progress")))) or 0
    return int(open_contacts) + int(pending)


def _settled(runtime: Runtime, standin: Standin, line_id: int) -> bool:
    """Every call over, the queues empty and every contact with its outcome."""
    try:
        return (not any(not leg.final for leg in standin.legs())
                and not queued_jobs(runtime.redis, FAST_QUEUES + URGENT_QUEUES + SLOW_QUEUES)
                and _unsettled(runtime, line_id) == 0)
    except Exception as exc:  # noqa: BLE001 - still recovering from the last fault
        log.debug("settling: %s", type(exc).__name__)
        return False


def soak(plan: SoakPlan, *, keep_workdir: bool = False) -> SoakResult:
    """Run one soak; everything it started is stopped and its database dropped afterwards."""
    started = time.monotonic()
    schedule = plan.schedule()
    with ExitStack() as stack, _quiet_logs():
        workdir = Path(tempfile.mkdtemp(prefix="warmline-soak-"))
        if not keep_workdir:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        redis = RedisServer(workdir)
        redis.start()
        stack.callback(redis.stop)
        database_url = stack.enter_context(throwaway_database(plan.pg_admin_url,
                                                                keep=keep_workdir))
        target = make_url(database_url)
        proxy = TcpProxy(target.host or HOST, target.port or 5432)
        stack.callback(proxy.close)
        standin = Standin(speed=plan.speed, auth_token=secrets.token_hex(16),
                          play_seconds=HOLD_AUDIO_SECONDS,
                          webhook_deadline=WEBHOOK_DEADLINE_WALL_SECONDS).start(HOST)
        stack.callback(standin.stop)
        port = free_port()
        front = TlsFront(workdir, port)
        env = _environment(plan, workdir, database_url=proxied_url(database_url, proxy),
                           redis_url=redis.url, standin=standin, port=port,
                           public_url=front.public_url)
        _release(env, workdir)

        runtime = build_runtime(load_settings(env))
        stack.callback(runtime.close)
        set_process_runtime(runtime)
        stack.callback(set_process_runtime, None)
        install_dispatchers()
        line_id, line_number = _load_roster(runtime, plan)
        provision_lines(runtime, standin)

        supervisor = Supervisor(env, workdir)
        commands = procfile()
        supervisor.add("web", bind_locally(command_argv(commands["web"], env), HOST, port))
        supervisor.add("worker", command_argv(commands["worker"], env))
        supervisor.add("worker_low", command_argv(commands["worker_low"], env))
        supervisor.start()
        stack.callback(supervisor.stop)
        front.start()
        stack.callback(front.stop)
        wait_until(lambda: _web_ready(port), 60, "gunicorn answering /readyz")
        wait_until(lambda: _workers_ready(runtime, 2), 60, "both RQ workers registered")

        system = LiveSystem(runtime=runtime, standin=standin, app_url=f"http://{HOST}:{port}",
                            line_id=line_id, line_number=line_number, pumps=(), workdir=workdir)
        scenario = plan.scenario()
        arrivals = plan_arrivals(scenario, [e for e in ("recovery", "survivor", "lgbtq",
                                                        "veteran", "grief")])
        peer_ids = start_peers(runtime, line_id)
        with runtime.sessions() as session:
            peers = {p.id: runtime.keys.decrypt(p.phone_encrypted)
                     for p in session.scalars(select(Peer).where(Peer.id.in_(peer_ids)))}
        watcher = OffWatcher(redis.url, standin, peers)
        shift = SoakShift(system, scenario, arrivals)
        injector = Injector(schedule, Targets(supervisor, redis, proxy, standin,
                                              plan.callback_delay))
        t0_mono, t0_epoch = time.monotonic(), time.time()
        injector.start(t0_mono)
        watcher.start()
        try:
            shift.run(peer_ids)
        finally:
            injector.stop()
        shift.wind_down(lambda: _settled(runtime, standin, line_id),
                        max(plan.settle_seconds, plan.text_bound_seconds))
        unsettled = _unsettled(runtime, line_id)
        watcher.stop()

        windows = [BASELINE] + [f.kind.name for f in schedule.faults]
        starts = [0.0] + [h.started for h in injector.happened]
        starts += [f.at for f in schedule.faults[len(injector.happened):]]
        timeline = Timeline(windows, starts, t0_mono, t0_epoch, standin.net.clock.started,
                            plan.speed)
        tally = Tally({window: Counts() for window in windows})
        events = standin.events()
        count_contacts(tally, timeline, runtime, line_id)
        count_double_bookings(tally, timeline, events, set(peers.values()))
        count_held_too_long(tally, timeline, events, plan.max_wait_seconds + plan.grace_seconds)
        count_callbacks_twice(tally, timeline, events,
                              {a.number for a in arrivals if a.channel == "voice"}, {line_number})
        count_answers(tally, timeline, events)
        for (_peer, _sid), at in watcher.seen.items():
            tally.counts(timeline.window(at - t0_mono)).off_on_live_call += 1
        return SoakResult(plan=plan, schedule=schedule, happened=list(injector.happened),
                          tally=tally, windows=windows, restarts=supervisor.restarts(),
                          injector_errors=list(injector.errors),
                          driver_errors=shift.driver_errors, callers=len(shift.callers),
                          texters=len(shift.texters), unsettled=unsettled,
                          wall_seconds=time.monotonic() - started, workdir=str(workdir))

