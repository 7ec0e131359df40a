"""The soak's parts on their own: the schedule, the Procfile's commands, its Redis and its
PostgreSQL proxy (real servers), and how the stand-in's record is counted."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from sqlalchemy import make_url

from config.settings import DEFAULT_WEB_THREADS
from tests.support.services import ADMIN_DATABASE_URL
from warmline.soak.faults import KINDS, fault_kinds, plan_schedule
from warmline.soak.procs import bind_locally, command_argv, procfile
from warmline.soak.services import RedisServer, TcpProxy
from warmline.soak.tally import (
    Tally,
    Timeline,
    count_answers,
    count_callbacks_twice,
    count_double_bookings,
    count_held_too_long,
)
from warmline.standin import Event


def test_every_fault_once_in_order_inside_the_shift() -> None:
    schedule = plan_schedule(600, lasting_seconds=30, postgres_seconds=20)
    assert [f.kind.name for f in schedule.faults] == [k.name for k in KINDS]
    times = [f.at for f in schedule.faults]
    assert times == sorted(times) and times[0] > 0 and times[-1] < 600
    assert {f.kind.name: f.lasts for f in schedule.faults}["postgres-refuses"] == 20
    assert fault_kinds("rest-429,web-worker-sigkill") == tuple(
        k for k in KINDS if k.name in ("web-worker-sigkill", "rest-429"))
    with pytest.raises(ValueError, match="unknown faults: nope"):
        fault_kinds("nope")


def test_the_procfile_lines_run_with_this_interpreter_on_the_loopback() -> None:
    import sys

    entries = procfile()
    assert {"web", "worker", "worker_low", "release"} <= set(entries)
    web = bind_locally(command_argv(entries["web"], {"WEB_CONCURRENCY": "3"}), "127.0.0.1", 5123)
    assert web[:3] == [sys.executable, "-m", "gunicorn"]
    assert web[web.index("--workers") + 1] == "3"
    assert web[web.index("--threads") + 1] == str(DEFAULT_WEB_THREADS)  # the Procfile's default
    assert web[web.index("--bind") + 1] == "127.0.0.1:5123"
    assert command_argv(entries["worker"], {})[0] == sys.executable


def test_its_redis_comes_back_with_its_append_only_file_or_empty(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    client = Redis.from_url(server.url)
    try:
        client.set("kept", "1")
        server.restart_with_aof()
        assert client.get("kept") == b"1"
        server.restart_empty()
        assert client.get("kept") is None and client.dbsize() == 0
    finally:
        client.close()
        server.stop()


def test_the_proxy_cuts_and_refuses_postgres_connections_then_lets_them_through() -> None:
    target = make_url(ADMIN_DATABASE_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(drivername="postgresql", host="127.0.0.1", port=proxy.port
                     ).render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            proxy.refuse(60)
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")  # an open connection is cut
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=5)  # a new one is refused
        assert proxy.refused >= 1
        proxy.refuse(0)
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        proxy.close()


def _timeline() -> Timeline:
    # Stand-in second 0 is the shift's start; events at stand-in second s are at wall s / 10.
    return Timeline(["baseline", "fault"], [0.0, 10.0], t0_mono=100.0, t0_epoch=0.0,
                    standin_started=100.0, speed=10.0)


def _event(n: int, at: float, kind: str, sid: str | None = None, **data: object) -> Event:
    return Event(n, at, kind, sid, dict(data))


def test_double_bookings_are_a_peer_in_two_conferences_or_two_peers_in_one() -> None:
    peers = {"+1peer1", "+1peer2"}
    events = [
        _event(1, 10, "conference_joined", "A", conference="c1", number="+1peer1"),
        _event(2, 20, "conference_left", "A", conference="c1", number="+1peer1"),
        _event(3, 30, "conference_joined", "B", conference="c2", number="+1peer1"),  # after: fine
        _event(4, 40, "conference_joined", "C", conference="c3", number="+1peer2"),
        _event(5, 45, "conference_joined", "X", conference="c3", number="+1caller"),  # a caller
        _event(6, 50, "conference_left", "B", conference="c2", number="+1peer1"),
        _event(7, 150, "conference_joined", "D", conference="c4", number="+1peer2"),  # peer2 twice
        _event(8, 160, "conference_joined", "E", conference="c4", number="+1peer1"),  # c4 twice
    ]
    tally = Tally()
    count_double_bookings(tally, _timeline(), events, peers)
    assert tally.counts("baseline").double_bookings == 0
    assert tally.counts("fault").double_bookings == 2


def test_held_too_long_callbacks_twice_invalid_twiml_and_5xx_are_counted_where_they_happened() -> None:
    events = [
        _event(1, 50, "left_queue", "A", queue_time=40, result="hangup"),
        _event(2, 300, "left_queue", "B", queue_time=250, result="leave"),  # entered at 50: baseline
        _event(3, 120, "answered", "C", number="+1caller", from_="+1line"),
        _event(4, 130, "answered", "D", number="+1caller", from_="+1line"),  # a second call back
        _event(5, 140, "answered", "E", number="+1peer", from_="+1line"),
        _event(6, 150, "schema_failure", "F", url="/twilio/voice/wait", reason="bad"),
        _event(7, 160, "webhook_failed", "G", url="/x", code=12100, problem="root is <Leave>"),
        _event(8, 170, "webhook_failed", "H", url="/y", code=11205, problem="timeout"),
        _event(9, 20, "webhook", "I", url="/z", status=500),
        _event(10, 180, "webhook", "J", url="/z", status=200),
    ]
    tally = Tally()
    timeline = _timeline()
    count_held_too_long(tally, timeline, events, limit_seconds=240)
    count_callbacks_twice(tally, timeline, events, {"+1caller"}, {"+1line"})
    count_answers(tally, timeline, events)
    base, fault = tally.counts("baseline"), tally.counts("fault")
    assert (base.held_too_long, fault.held_too_long) == (1, 0)
    assert (base.callbacks_twice, fault.callbacks_twice) == (0, 1)
    assert (base.invalid_twiml, fault.invalid_twiml) == (0, 2)
    assert (base.server_errors, fault.server_errors) == (1, 0)
    assert tally.total().failures() == {"held_too_long": 1, "callbacks_twice": 1,
                                        "invalid_twiml": 2, "server_errors": 1}


def test_a_free_port_is_free() -> None:
    from warmline.soak.services import free_port

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_the_command_refuses_an_unknown_fault_before_starting_anything(
        capsys: pytest.CaptureFixture[str]) -> None:
    from warmline.cli import main

    assert main(["soak", "--faults", "redis-restart-empty,nope"]) == 2
    assert "unknown faults: nope" in capsys.readouterr().err
