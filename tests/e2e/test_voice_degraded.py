"""Degraded mode: with Redis or the database down, callers reach the backup line, never silence."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from sqlalchemy import make_url

from tests.e2e.conftest import BACKUP, LINE, ROSTER, SAM, running_warmline
from tests.support.services import throwaway_postgres_database
from warmline.migrations.runner import upgrade_database

CALLER = "+15005550006"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis_lib.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 30  # a guard against a server that never starts, not a speed bound
    while True:
        try:
            client.ping()
            break
        except redis_lib.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


def _assert_routes_normally(live, number: str) -> None:  # type: ignore[no-untyped-def]
    call = live.standin.caller(number, press={"For Substance use recovery": "1"}).dial(LINE)
    call.wait_until_heard("not a crisis line", timeout=60)
    call.hang_up()


def _assert_takes_backup_route(live, number: str) -> None:  # type: ignore[no-untyped-def]
    call = live.standin.caller(number).dial(LINE)
    call.wait_until_heard("We're having trouble connecting your call", timeout=60)
    live.wait_for(lambda: BACKUP in call.bridged_with(), timeout=60)
    # No bound on how long that took (load would make it flaky): the stand-in holds the app to
    # Twilio's own answer deadline, so an answer that hung on Redis shows as a failed webhook here.
    answers = [e for e in live.standin.events("webhook") if e.call_sid == call.sid]
    assert answers and all(e.data.get("status") == 200 for e in answers), answers


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_stopped_mid_shift_sends_callers_to_the_backup_line_then_recovers(
    database_url: str, tmp_path: Path,
) -> None:
    port = _free_port()
    with own_redis(port) as first, running_warmline(
        database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0") as live:
        live.import_roster(ROSTER)
        live.peer(SAM)
        _assert_routes_normally(live, CALLER)
        first.terminate()
        first.wait(timeout=60)
        _assert_takes_backup_route(live, "+15005550007")
        with own_redis(port):
            _assert_routes_normally(live, "+15005550008")


def _set_connections(database_url: str, allowed: bool) -> None:
    url = make_url(database_url)
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


def test_a_database_outage_sends_callers_to_the_backup_line_then_recovers(tmp_path: Path) -> None:
    with throwaway_postgres_database("warmline_outage") as own_database:
        upgrade_database(own_database)
        with running_warmline(own_database, tmp_path) as live:
            live.import_roster(ROSTER)
            live.peer(SAM)
            _assert_routes_normally(live, CALLER)
            _set_connections(own_database, allowed=False)
            try:
                _assert_takes_backup_route(live, "+15005550007")
            finally:
                _set_connections(own_database, allowed=True)
            _assert_routes_normally(live, "+15005550008")
