"""The live connections a process needs (SQL, Redis, queues, keys), built once from Settings."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from redis import Redis
from redis.sentinel import Sentinel
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings, load_settings
from config.redis_urls import is_sentinel_url, parse_sentinel_url
from warmline.config_cache import install_invalidation
from warmline.crypto import DataKeys
from warmline.db import make_engine, make_session_factory
from warmline.queues import QueueName
from warmline.routing.engine import RoutingEngine
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
    # RQ's Redis: the same client as `redis` unless RQ_REDIS_URL names another one.
    jobs_redis: Redis
    twilio_gateway: TwilioGateway | None = None
    """The process's one Twilio gateway: a test may hand in its own; None until first asked for,
    then the REST gateway on these settings (see `twilio`)."""
    # Simulated seconds per wall second: 1 in every deployment; the full-stack simulator sets its
    # speed, so settings the app counts on its own clock (wrap-up) last their share of the shift.
    clock_speed: float = 1.0
    _queues: dict[QueueName, Queue] = field(default_factory=dict)
    routing: RoutingEngine | None = field(default=None, repr=False, compare=False)
    """The process's one routing engine (services/routing.py `routing_engine` makes it on first
    use): its scripts are registered once, and its key hints and reserved offer ids last from one
    call to the next, so a steady arrival is one script round trip."""
    _twilio_lock: threading.Lock = field(default_factory=threading.Lock, repr=False,
                                         compare=False)
    # Made from `engine` on first use; not a constructor argument, so a runtime copied with
    # another engine (dataclasses.replace) makes its own.
    _autocommit: Engine | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def autocommit(self) -> Engine:
        """The engine (its pool) in autocommit: for one write that needs no transaction around
        it, which the database then commits by itself. One round trip instead of three (BEGIN,
        the statement, COMMIT), and none of the session's bookkeeping."""
        if self._autocommit is None:
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self._autocommit

    @property
    def twilio(self) -> TwilioGateway:
        """The one Twilio gateway this runtime holds, made here on first use and nowhere else
        (the REST gateway is safe to share between threads: telephony/gateway.py)."""
        gateway = self.twilio_gateway
        if gateway is None:
            with self._twilio_lock:
                if self.twilio_gateway is None:
                    self.twilio_gateway = RestTwilioGateway(self.settings)
                gateway = self.twilio_gateway
        return gateway

    def queue(self, name: QueueName) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name.value, connection=self.jobs_redis)
        return self._queues[name]

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()
        if self.jobs_redis is not self.redis:
            self.jobs_redis.close()


def make_redis(url: str, *, socket_timeout: float | None = REDIS_TIMEOUT_SECONDS) -> Redis:
    """A client for `url`: one server, or the primary Redis Sentinel names (config.redis_urls).

    Through Sentinel the client asks the sentinels for the primary on every new connection, and
    drops its connections when the one it holds turns out to be a replica, so a failover is
    followed by itself: the operations in flight fail (callers take the backup route), the next
    ones reach the new primary. `socket_timeout=None` is for RQ's worker, which blocks between
    jobs; the sentinels are always asked with the short timeout.
    """
    if is_sentinel_url(url):
        target = parse_sentinel_url(url)
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.sentinels),
            sentinel_kwargs={"socket_timeout": REDIS_TIMEOUT_SECONDS,
                             "socket_connect_timeout": REDIS_TIMEOUT_SECONDS},
            socket_timeout=socket_timeout,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        primary: Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
            target.service, db=target.db, password=target.password,
            socket_timeout=socket_timeout, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        return primary
    if socket_timeout is None:
        return Redis.from_url(url)  # RQ's worker: redis-py's defaults, no timeout at all
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         statement_timeout_ms=settings.db_statement_timeout_ms)
    redis = make_redis(settings.redis_url)
    jobs_url = settings.jobs_redis_url
    sessions = make_session_factory(engine)
    # lines and experiences in memory, until any process changes one
    install_invalidation(sessions, redis)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        keys=DataKeys.from_secret(settings.data_key),
        jobs_redis=redis if jobs_url == settings.redis_url else make_redis(jobs_url),
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
