"""The whole warmline in one process for a simulation: app on a port, RQ workers, the stand-in."""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.serving import make_server

from config import load_settings
from warmline.app import create_app
from warmline.clock import utc_now
from warmline.domain.matching import Presence
from warmline.migrations.runner import upgrade_database
from warmline.models import Line, Peer
from warmline.queues import FAST_QUEUES, SLOW_QUEUES, URGENT_QUEUES
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.services import routing
from warmline.services.routing_sync import refresh_line_routing
from warmline.simulate.jobs import JobPump, queued_jobs
from warmline.simulate.wiring import provision_lines
from warmline.standin import Standin

# Redis DB 4 of a local server: not the app's default (0) nor the test suites' (6, 14, 15).
# The simulator flushes this one index (never the whole server) before and after a run.
DEFAULT_SIM_REDIS_URL = "redis://127.0.0.1:6379/4"
# Twilio gives a webhook 15 s of its own time. The app's time is not compressed, so the
# stand-in gives it 15 s of wall time, whatever the speed.
WEBHOOK_DEADLINE_WALL_SECONDS = 15.0
# The app's hold audio is 20 s long (warmline.voice.hold_audio); the stand-in plays it as such.
HOLD_AUDIO_SECONDS = 20.0


@dataclass
class LiveSystem:
    """A running simulation target: where it lives and how to reach it."""

    runtime: Runtime
    standin: Standin
    app_url: str
    line_id: int
    line_number: str
    pumps: tuple[JobPump, ...]
    workdir: Path

    def job_errors(self) -> list[BaseException]:
        return [error for pump in self.pumps for error in pump.errors]

    def jobs_pending(self) -> int:
        return queued_jobs(self.runtime.redis, FAST_QUEUES + URGENT_QUEUES + SLOW_QUEUES)


def _settings_for(workdir: Path, redis_url: str, standin: Standin, app_url: str) -> Any:
    return load_settings({
        "WARMLINE_ENV": "development",
        "WARMLINE_INSTANCE_DIR": str(workdir / "instance"),
        "DATABASE_URL": f"sqlite:///{workdir / 'simulation.db'}",
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": standin.config.account_sid,
        "TWILIO_AUTH_TOKEN": standin.config.auth_token,
        "TWILIO_API_URL": standin.url,
        "WARMLINE_PUBLIC_URL": app_url,
        "WARMLINE_SECRET_KEY": secrets.token_urlsafe(32),
        "WARMLINE_DATA_KEY": secrets.token_urlsafe(32),
        "WARMLINE_LOG_LEVEL": "WARNING",
    })


def _set_up_line(runtime: Runtime, line_number: str, overrides: dict[str, Any]) -> int:
    with runtime.sessions.begin() as session:
        line = session.scalars(select(Line).where(Line.number == line_number)).one()
        for name, value in overrides.items():
            if not hasattr(line, name):
                raise ValueError(f"a line has no setting {name!r}")
            setattr(line, name, value)
        return line.id


def start_peers(runtime: Runtime, line_id: int) -> list[int]:
    """Every peer on shift goes available, as they would on opening their dashboard."""
    now = utc_now()
    refresh_line_routing(runtime, line_id, now, force=True)
    with runtime.sessions() as session:
        peer_ids = list(session.scalars(select(Peer.id).where(Peer.active.is_(True))
                                        .order_by(Peer.id)))
    available = []
    for peer_id in peer_ids:
        change = routing.set_presence(runtime, peer_id, Presence.AVAILABLE, now)
        if change.presence == Presence.AVAILABLE:
            available.append(peer_id)
    return available


@contextmanager
def live_system(roster_text: str, line_number: str, *, speed: float, redis_url: str,
                line_settings: dict[str, Any] | None = None,
                keep_workdir: bool = False) -> Iterator[LiveSystem]:
    """Start everything on free ports with a throwaway SQLite file and Redis DB; stop it after."""
    # The app logs what callers do at INFO; a simulation prints its own summary instead.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="warmline-simulate-"))
    standin = Standin(speed=speed, auth_token=secrets.token_hex(16), play_seconds=HOLD_AUDIO_SECONDS,
                      webhook_deadline=WEBHOOK_DEADLINE_WALL_SECONDS).start()
    holder: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    app_url = f"http://127.0.0.1:{server.server_port}"
    settings = _settings_for(workdir, redis_url, standin, app_url)
    upgrade_database(settings.database_url)
    runtime = build_runtime(settings)
    # The line's wrap-up stays as written in SQL; routing gets it divided by the speed, unrounded
    # (at 120x a 90 s wrap-up is 0.75 wall seconds, not a whole second).
    runtime.clock_speed = speed
    runtime.redis.flushdb()  # only this DB index: the simulation's own
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, roster_text, prune=True, actor="simulate",
                           source="simulate")
    line_id = _set_up_line(runtime, line_number, line_settings or {})
    holder["app"] = create_app(runtime=runtime)
    for name in ("rq", "rq.worker", "rq.scheduler", "rq.queue"):
        logging.getLogger(name).setLevel(logging.WARNING)
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                              name="simulate-web", daemon=True)
    thread.start()
    set_process_runtime(runtime)
    provision_lines(runtime, standin)
    pumps = tuple(JobPump(runtime.redis, queues).start()
                  for queues in (FAST_QUEUES, URGENT_QUEUES, SLOW_QUEUES))
    system = LiveSystem(runtime=runtime, standin=standin, app_url=app_url, line_id=line_id,
                        line_number=line_number, pumps=pumps, workdir=workdir)
    try:
        yield system
    finally:
        standin.stop()
        for pump in pumps:
            pump.stop()
        server.shutdown()
        server.server_close()
        set_process_runtime(None)
        with suppress(Exception):
            runtime.redis.flushdb()
        runtime.close()
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
