"""The one engine and session factory for SQL, with SQLite tuned for several local processes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Clients give up quickly: a webhook must answer within Twilio's 15 s, and a degraded
# database should send callers to the backup line, not keep them in silence.
CONNECT_TIMEOUT_SECONDS = 2
STATEMENT_TIMEOUT_MS = 5000
SQLITE_BUSY_TIMEOUT_MS = 5000
# A gthread web worker runs WEB_THREADS requests at once, each holding at most one connection:
# a pool that size means no request waits for another's connection (waiting past pool_timeout
# would send a caller to the backup line). The default is the Procfile's WEB_THREADS default.
POOL_SIZE = 16
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


def make_engine(database_url: str, *, pool_size: int = POOL_SIZE,
                statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={statement_timeout_ms}",
        },
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
