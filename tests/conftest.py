"""Fixtures on real services: PostgreSQL (a database per session), Redis (a DB index), the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from psycopg.errors import DeadlockDetected
from redis import Redis
from redis.cluster import RedisCluster
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from config import Settings, load_settings
from tests.support.redis_servers import RedisClusterNodes, cluster_client, redis_cluster
from tests.support.services import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_DATA_KEY,
    TEST_REDIS_URL,
    TEST_SECRET_KEY,
    throwaway_postgres_database,
)
from warmline.migrations.runner import upgrade_database
from warmline.models import Base
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.wiring import install_state_rebuilder

CHROMIUM = "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
TRUNCATE_ATTEMPTS = 5


@pytest.fixture(scope="module", autouse=True)
def no_job_pump_outlives_its_module() -> Iterator[None]:
    """A job pump left running after its module works the next modules' queues on the same
    Redis DB: their jobs vanish or run against a dropped database (a flake that moved around)."""
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("jobs-") and t.is_alive()]
    assert not left, f"job pumps still running after this module: {left}"


@pytest.fixture(scope="session", autouse=True)
def routing_rebuilds_lost_state() -> None:
    """Every entry point installs the rebuild after a Redis loss (warmline.wiring): so does the
    suite, once, for the services its tests call without an app."""
    install_state_rebuilder()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        upgrade_database(url)
        yield url


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


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_test_settings(database_url, tmp_path)


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


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    clean_database(runtime)
    runtime.redis.flushdb()
    # A Redis whose routing state is complete (and empty, like the database): tests of a lost
    # state flush it themselves (tests/e2e/test_routing_rebuild.py).
    RoutingEngine(runtime.redis).mark_state_built("test")
    set_process_runtime(runtime)
    yield runtime
    set_process_runtime(None)
    runtime.redis.flushdb()
    runtime.close()


@pytest.fixture
def redis_client(runtime: Runtime) -> Redis:
    return runtime.redis


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A real Redis Cluster of three primaries, started once per session (CI time) and only
    when a test asks for it."""
    with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as nodes:
        yield nodes


@pytest.fixture
def cluster_redis(redis_cluster_nodes: RedisClusterNodes) -> Iterator[RedisCluster]:
    """The cluster, emptied, with a complete (empty) routing state, like `runtime`'s Redis."""
    client = cluster_client(redis_cluster_nodes)
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    RoutingEngine(client).mark_state_built("test")  # type: ignore[arg-type]
    yield client
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    client.close()


@pytest.fixture(params=["single", "cluster"])
def routing_redis(request: pytest.FixtureRequest) -> Redis:
    """The routing engine's Redis, both ways it is deployed: one server (or a Sentinel
    primary), and a Redis Cluster, whose routing keys all live in the `{wl}` slot."""
    if request.param == "cluster":
        client: Redis = request.getfixturevalue("cluster_redis")
        return client
    runtime: Runtime = request.getfixturevalue("runtime")
    return runtime.redis


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    from warmline.app import create_app

    flask_app = create_app(runtime=runtime)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session (Playwright's sync API allows one)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()
