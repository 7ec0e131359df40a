"""The soak's own Redis and PostgreSQL: a redis-server it can kill and restart, a throwaway
database, and a TCP proxy in front of PostgreSQL that can refuse connections for a while.

The shared servers of the machine are never touched: the Redis is a new process on a free port,
the database is created for the run and dropped after it, and an outage is played by the proxy.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
from redis import Redis
from sqlalchemy import make_url

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


class RedisServer:
    """A redis-server of the soak's own, with an append-only file in its own directory."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", HOST, "--dir", str(self.dir),
                "--appendonly", "yes", "--save", "", "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log")]
        self._process = subprocess.Popen(argv,  # noqa: S603 - redis-server, our arguments
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            wait_until(lambda: self._answers(client), 15, f"redis-server on port {self.port}")
        finally:
            client.close()

    @staticmethod
    def _answers(client: Redis) -> bool:
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - loading the AOF or not yet listening
            return False

    def kill(self) -> None:
        """SIGKILL: a crash, nothing written after the last fsync."""
        self._stop(signal.SIGKILL)

    def _stop(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        process.wait(15)

    def restart_empty(self) -> None:
        """Killed and back with nothing: a restart without persistence, a lagging replica."""
        self.kill()
        for child in self.dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            elif child.name != "redis.log":
                child.unlink()
        self.start()

    def restart_with_aof(self) -> None:
        """Stopped as a host's service manager stops it (SIGTERM: the AOF is flushed) and
        started again on the same directory: it comes back with everything it had."""
        self._stop(signal.SIGTERM)
        self.start()

    def stop(self) -> None:
        self.kill()


@contextmanager
def throwaway_database(admin_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new PostgreSQL database for the run (its SQLAlchemy URL), dropped afterwards unless
    `keep` (to read after a failed soak)."""
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"warmline_soak_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(drivername="postgresql+psycopg", database=name
                                      ).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"soak: database kept: {name}", flush=True)
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; `refuse(seconds)` plays the server being down.

    While refusing, every open connection is cut and each new one is reset at once (what a
    client sees when PostgreSQL restarts or its host is unreachable): the app's pools must
    notice, answer degraded, and reconnect by themselves afterwards.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.refused = 0
        self._refusing_until = 0.0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server((HOST, self.port), backlog=128)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="soak-pg-proxy", daemon=True)
        self._thread.start()

    def _refusing(self) -> bool:
        return time.monotonic() < self._refusing_until

    def refuse(self, seconds: float) -> None:
        with self._lock:
            self._refusing_until = time.monotonic() + seconds
            doomed = list(self._open)
            self._open.clear()
        for sock in doomed:
            _cut(sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True,
                                 name="soak-pg-pump").start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            for sock in (src, dst):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._listener.close()
        self.refuse(0)


def _cut(sock: socket.socket) -> None:
    """End a proxied connection now; shutdown also wakes the pump blocked in recv()."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer gets 'connection reset' at once."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with suppress(OSError):
        sock.close()


def proxied_url(database_url: str, proxy: TcpProxy) -> str:
    return make_url(database_url).set(host=HOST, port=proxy.port).render_as_string(
        hide_password=False)
