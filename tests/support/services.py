"""Real PostgreSQL and Redis for tests: a throwaway database per test session, a Redis DB index."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.errors import DeadlockDetected
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from config import Settings, load_settings
from warmline.models import Base
from warmline.runtime import Runtime

# Tests run against the machine's real services (README). Each pytest session gets its own
# PostgreSQL database, so several sessions (CI and developers) can run at once.
ADMIN_DATABASE_URL = os.environ.get(
    "WARMLINE_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _redis_url_of_this_worker(url: str) -> str:
    """The run's Redis DB, one lower per parallel test process (pytest-xdist's gw0, gw1, ...):
    tests empty their DB, so two processes never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    head, _, db = url.rpartition("/")
    if not db.isdigit():  # no DB given: DB 0
        head, db = url.rstrip("/"), "0"
    mine = int(db) - int(worker[2:])
    if mine < 0:
        raise RuntimeError(f"too many test processes for Redis DB {db} of {url}")
    return f"{head}/{mine}"


TEST_REDIS_URL = _redis_url_of_this_worker(
    os.environ.get("WARMLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
TEST_DATA_KEY = "test-data-key-" + "x" * 32
TEST_SECRET_KEY = "test-secret-key-" + "y" * 32
TEST_AUTH_TOKEN = "test_auth_token_0123456789abcdef"
TEST_ACCOUNT_SID = "AC" + "1" * 32


def _admin_conninfo() -> str:
    url = make_url(ADMIN_DATABASE_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def throwaway_postgres_database(prefix: str = "warmline_test") -> Iterator[str]:
    """Create a fresh database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TRUNCATE_ATTEMPTS = 5


def make_test_settings(database_url: str, tmp_path: Path, **overrides: str) -> Settings:
    environ = {
        "WARMLINE_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_API_URL": "http://127.0.0.1:9",  # nothing listens: tests that need Twilio start the stand-in
        "WARMLINE_PUBLIC_URL": "http://localhost",
        "WARMLINE_SECRET_KEY": TEST_SECRET_KEY,
        "WARMLINE_DATA_KEY": TEST_DATA_KEY,
        "WARMLINE_INSTANCE_DIR": str(tmp_path / "instance"),
    }
    environ.update(overrides)
    return load_settings(environ)


def clean_database(runtime: Runtime) -> None:
    """Empty every table. A request thread of the previous test's server can still be finishing
    a transaction (a late status callback): TRUNCATE then takes its locks in another order and
    PostgreSQL may pick it as a deadlock's victim. That transaction ends on its own, so try again."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    for attempt in range(1, TRUNCATE_ATTEMPTS + 1):
        try:
            with runtime.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            if not isinstance(error.orig, DeadlockDetected) or attempt == TRUNCATE_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)


@contextmanager
def prepared_runtime(settings: Settings) -> Iterator[Runtime]:
    """The process's runtime on `settings`, its Redis DB empty, for one test."""
    from warmline.routing.engine import RoutingEngine
    from warmline.runtime import build_runtime, set_process_runtime

    runtime = build_runtime(settings)
    runtime.redis.flushdb()
    # A Redis whose routing state is complete (and empty, like the database): tests of a lost
    # state flush it themselves (tests/e2e/test_routing_rebuild.py).
    RoutingEngine(runtime.redis).mark_state_built("test")
    set_process_runtime(runtime)
    try:
        yield runtime
    finally:
        set_process_runtime(None)
        runtime.redis.flushdb()
        runtime.close()
