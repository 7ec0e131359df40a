"""Degraded mode: with Redis or the database down, callers reach the backup line, never silence."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.support.live import BACKUP, LINE, ROSTER, SAM, running_warmline
from tests.support.redis_servers import free_port, own_redis
from tests.support.services import throwaway_postgres_database
from warmline.migrations.runner import upgrade_database

CALLER = "+15005550006"


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
    port = free_port()
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
