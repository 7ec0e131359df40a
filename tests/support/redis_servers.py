"""Throwaway redis-server processes for tests: a Sentinel group, a Redis Cluster, a bare server.

Each server runs on a free port of its own, keeps its files in the test's temporary directory
(nothing is saved to disk: no RDB, no AOF) and is stopped by the context manager that started
it, even when the test fails.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support.processes import tied_to_this_run

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"
# Hang guards: generous, since CI shares two cores with everything else.
START_GUARD_SECONDS = 30.0
FAILOVER_GUARD_SECONDS = 90.0
CLUSTER_BUS_OFFSET = 10000  # Redis Cluster's bus listens on the port + 10000


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, with_cluster_bus: bool = False) -> int:
    """A port nothing listens on now (and, for a cluster node, its bus port too)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not with_cluster_bus:
            return port
        if port + CLUSTER_BUS_OFFSET < 65536 and _port_free(port + CLUSTER_BUS_OFFSET):
            return port
    raise RuntimeError("no free port found")


def wait_until(condition: Callable[[], object], guard_seconds: float, what: str) -> None:
    """Poll until `condition()` is truthy (exceptions count as not yet); fail after the guard."""
    deadline = time.monotonic() + guard_seconds
    while True:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - a server still starting or failing over
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


@dataclass
class RedisProcess:
    """One redis-server (data node or sentinel) started from a config file in its own dir."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs: object) -> Redis:
        return Redis(host="127.0.0.1", port=self.port, socket_timeout=5,
                     socket_connect_timeout=5, **kwargs)  # type: ignore[arg-type]

    def start(self, config: str, *, sentinel: bool = False) -> RedisProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / ("sentinel.conf" if sentinel else "redis.conf")
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"logfile {self.directory / 'redis.log'}\n{config}\n")
        command = [REDIS_SERVER, str(conf)] + (["--sentinel"] if sentinel else [])
        self.process = subprocess.Popen(tied_to_this_run(command), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(lambda: self.client().ping(), START_GUARD_SECONDS,
                   f"redis-server on port {self.port} to answer")
        return self

    def kill(self) -> None:
        """SIGKILL: the crash a failover is for (no shutdown, no last words to replicas)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self) -> str:
        log = self.directory / "redis.log"
        return log.read_text()[-3000:] if log.exists() else ""


# Neither snapshots nor an append-only file: a test's servers keep nothing beyond its tmp dir
# and lose everything on a crash, like a cache-mode production Redis.
NO_PERSISTENCE = 'save ""\nappendonly no'


@dataclass
class SentinelGroup:
    """A primary, one replica and three sentinels watching them as `service`."""

    primary: RedisProcess
    replica: RedisProcess
    sentinels: list[RedisProcess]
    service: str = "warmline"
    extra: list[RedisProcess] = field(default_factory=list)

    def url(self, db: int = 0) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}/{db}"

    def primary_port(self, sentinel: RedisProcess | None = None) -> int:
        """The port of the primary as `sentinel` (by default the first) names it now."""
        host_port = (sentinel or self.sentinels[0]).client().execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return int(host_port[1])

    def all(self) -> list[RedisProcess]:
        return [self.primary, self.replica, *self.sentinels, *self.extra]


@contextlib.contextmanager
def sentinel_group(tmp_path: Path, service: str = "warmline") -> Iterator[SentinelGroup]:
    started: list[RedisProcess] = []
    try:
        primary = RedisProcess(free_port(), tmp_path / "primary")
        started.append(primary)
        primary.start(NO_PERSISTENCE)
        replica = RedisProcess(free_port(), tmp_path / "replica")
        started.append(replica)
        replica.start(f"{NO_PERSISTENCE}\nreplicaof 127.0.0.1 {primary.port}")
        wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up",
                   START_GUARD_SECONDS, "the replica to sync")
        sentinels = []
        for n in range(3):
            node = RedisProcess(free_port(), tmp_path / f"sentinel{n}")
            started.append(node)
            node.start(
                f"sentinel monitor {service} 127.0.0.1 {primary.port} 2\n"
                f"sentinel down-after-milliseconds {service} 1000\n"
                f"sentinel failover-timeout {service} 10000\n"
                f"sentinel parallel-syncs {service} 1", sentinel=True)
            sentinels.append(node)
        group = SentinelGroup(primary, replica, sentinels, service)
        # Every sentinel has found the replica and the other sentinels before the test starts,
        # so a failover can be agreed on at once.
        for node in sentinels:
            wait_until(
                lambda node=node: (  # type: ignore[misc]
                    int(_sentinel_master(node, service)["num-other-sentinels"]) == 2
                    and int(_sentinel_master(node, service)["num-slaves"]) == 1),
                START_GUARD_SECONDS, "the sentinels to find each other and the replica")
        yield group
    finally:
        for node in reversed(started):
            node.stop()


def _sentinel_master(node: RedisProcess, service: str) -> dict[str, str]:
    raw = node.client(decode_responses=True).execute_command("SENTINEL", "MASTER", service)
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    return {str(raw[i]): str(raw[i + 1]) for i in range(0, len(raw), 2)}


@dataclass
class RedisClusterNodes:
    """A Redis Cluster of primaries only, made with `redis-cli --cluster create`."""

    nodes: list[RedisProcess]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", n.port) for n in self.nodes]


@contextlib.contextmanager
def redis_cluster(tmp_path: Path, primaries: int = 3) -> Iterator[RedisClusterNodes]:
    started: list[RedisProcess] = []
    try:
        for n in range(primaries):
            node = RedisProcess(free_port(with_cluster_bus=True), tmp_path / f"node{n}")
            started.append(node)
            node.start(f"{NO_PERSISTENCE}\ncluster-enabled yes\n"
                       f"cluster-config-file {tmp_path / f'node{n}' / 'nodes.conf'}\n"
                       "cluster-node-timeout 5000")
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in started),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60)
        for node in started:
            wait_until(lambda node=node: node.client().cluster("info")["cluster_state"] == "ok",  # type: ignore[misc]
                       START_GUARD_SECONDS, "the cluster to be ok on every node")
        yield RedisClusterNodes(started)
    finally:
        for node in reversed(started):
            node.stop()


def cluster_client(nodes: RedisClusterNodes | list[tuple[str, int]]) -> RedisCluster:
    """A client of the cluster (a list of (host, port) can cross to another process)."""
    startup = nodes.startup_nodes if isinstance(nodes, RedisClusterNodes) else nodes
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in startup],
                        socket_timeout=10, socket_connect_timeout=5)


def startup_nodes_of(client: RedisCluster) -> list[tuple[str, int]]:
    return [(node.host, int(node.port)) for node in client.get_primaries()]


@contextlib.contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A bare redis-server on `port` (no persistence) for as long as the block runs: tests stop
    and start it to take Redis away from a running app."""
    process = subprocess.Popen(tied_to_this_run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 30  # a guard against a server that never starts, not a speed bound
    while True:
        try:
            client.ping()
            break
        except RedisConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)
