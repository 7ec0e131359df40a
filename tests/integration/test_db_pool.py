"""Pooled PostgreSQL connections: an idle one is asked whether it still works before use, one
just checked in is not (a round trip saved per request), and a database that went away costs
at most the one request that meets it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import warmline.db
from tests.support.services import ADMIN_DATABASE_URL, throwaway_postgres_database
from warmline.db import make_engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    with throwaway_postgres_database("warmline_pool") as url:
        made = make_engine(url, pool_size=2)
        yield made
        made.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = ADMIN_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_just_checked_in_is_used_without_a_ping(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = _pings(engine, monkeypatch)
    monkeypatch.setattr(warmline.db, "PING_AFTER_IDLE_SECONDS", 60.0)
    for _ in range(3):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_unseen(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = _pings(engine, monkeypatch)
    monkeypatch.setattr(warmline.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # everything is idle
    first = _backend_pid(engine)
    _terminate(first)
    with engine.connect() as conn:  # the ping fails, the pool connects again: no error here
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert pings
    assert _backend_pid(engine) != first


def test_a_database_gone_while_busy_costs_one_request_then_the_pool_is_renewed(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warmline.db, "PING_AFTER_IDLE_SECONDS", 60.0)
    with engine.connect() as a, engine.connect() as b:  # two pooled connections, both in use
        pids = {int(a.execute(text("SELECT pg_backend_pid()")).scalar_one()),
                int(b.execute(text("SELECT pg_backend_pid()")).scalar_one())}
    for pid in pids:
        _terminate(pid)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    # The disconnect discarded every connection made before it: the next requests all work.
    for _ in range(3):
        assert _backend_pid(engine) not in pids
