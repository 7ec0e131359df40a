"""Fixtures on real services: PostgreSQL (a database per session), Redis (a DB index), the app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright
from redis import Redis
from redis.cluster import RedisCluster

from config import Settings
from tests.support.browser import CHROMIUM
from tests.support.redis_servers import RedisClusterNodes, cluster_client, redis_cluster
from tests.support.services import (
    clean_database,
    make_test_settings,
    prepared_runtime,
    throwaway_postgres_database,
)
from warmline.migrations.runner import upgrade_database
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.wiring import install_state_rebuilder


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


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_test_settings(database_url, tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    with prepared_runtime(settings) as runtime:
        clean_database(runtime)
        yield runtime


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
