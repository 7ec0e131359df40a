"""The live connections a process needs (SQL, Redis, queues, keys), built once from Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from warmline.crypto import DataKeys
from warmline.db import make_engine, make_session_factory
from warmline.queues import QueueName
from warmline.telephony.gateway import RestTwilioGateway, TwilioGateway

# A Redis that does not answer within a second is treated as down: callers take the backup
# route rather than wait (DESIGN.md, degraded mode).
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    keys: DataKeys
    twilio_gateway: TwilioGateway | None = None
    """A gateway to use instead of Twilio's REST API (a test's); None: the REST gateway."""
    # Simulated seconds per wall second: 1 in every deployment; the full-stack simulator sets its
    # speed, so settings the app counts on its own clock (wrap-up) last their share of the shift.
    clock_speed: float = 1.0
    _queues: dict[QueueName, Queue] = field(default_factory=dict)

    @property
    def twilio(self) -> TwilioGateway:
        """The Twilio gateway, made here and nowhere else: a fresh REST gateway per use (as
        before the gateway moved onto the runtime), so it always follows these settings."""
        return self.twilio_gateway or RestTwilioGateway(self.settings)

    def queue(self, name: QueueName) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name.value, connection=self.redis)
        return self._queues[name]

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()


def make_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        redis=make_redis(settings.redis_url),
        keys=DataKeys.from_secret(settings.data_key),
    )


_process_runtime: tuple[int, Runtime] | None = None


def process_runtime() -> Runtime:
    """The runtime of this OS process, made on first use.

    Keyed by pid so that a forked RQ work horse never reuses its parent's sockets
    (STYLE.md: no connection opened before RQ forks).
    """
    global _process_runtime  # noqa: PLW0603 - one runtime per process is the point
    if _process_runtime is None or _process_runtime[0] != os.getpid():
        _process_runtime = (os.getpid(), build_runtime(load_settings()))
    return _process_runtime[1]


def set_process_runtime(runtime: Runtime | None) -> None:
    """Install a runtime for this process (the web app and in-process test workers do)."""
    global _process_runtime  # noqa: PLW0603
    _process_runtime = None if runtime is None else (os.getpid(), runtime)
