"""The one engine and session factory for SQL, with SQLite tuned for several local processes."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_WEB_THREADS

# Clients give up quickly: a webhook must answer within Twilio's 15 s, and a degraded
# database should send callers to the backup line, not keep them in silence.
CONNECT_TIMEOUT_SECONDS = 2
STATEMENT_TIMEOUT_MS = 5000
SQLITE_BUSY_TIMEOUT_MS = 5000
# A gthread web worker runs WEB_THREADS requests at once, each holding at most one connection:
# a pool that size means no request waits for another's connection (waiting past pool_timeout
# would send a caller to the backup line). The default is the Procfile's WEB_THREADS default.
POOL_SIZE = DEFAULT_WEB_THREADS
# A pooled connection idle longer than this is asked whether it still works before use.
PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN_AT = "warmline_checked_in_at"
# A little headroom beyond the threads (a request that opens a second session), closed when idle.
POOL_OVERFLOW = 4


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web and worker processes read while one writes; the busy timeout makes a
    # writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _ping_when_idle(engine: Engine) -> None:
    """Ask a pooled connection whether it still works only when it has been idle a while.

    Pinging at every checkout (SQLAlchemy's pool_pre_ping) cost a round trip per request, a
    tenth of a call's first webhook under gunicorn (py-spy, bench/voice.py). A connection
    checked in within PING_AFTER_IDLE_SECONDS was working then; if the database went away
    since, that request fails once and SQLAlchemy then discards every connection made before
    (a disconnect invalidates the pool), as when the database is down.
    """

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return  # new, or just used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure means: not this connection
            raise DisconnectionError("an idle pooled connection no longer answers") from exc
        if not alive:
            raise DisconnectionError("an idle pooled connection no longer answers")


def make_engine(database_url: str, *, pool_size: int = POOL_SIZE,
                statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    engine = create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={statement_timeout_ms}",
        },
    )
    _ping_when_idle(engine)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
