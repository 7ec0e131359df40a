"""Lines, experiences and blocks in process memory, valid while a version key in Redis is
unchanged.

Every webhook of a call reads its line (hours, greeting, limits, numbers) and the experiences
(the menu, the labels the hold loop speaks), and every arrival asks whether the caller is
blocked; they change when an admin saves a form, blocks a caller or a roster is imported, a
few times a day (and when retention deletes expired blocks). So each process keeps one
snapshot of all three, loaded in one SQL transaction, and checks the version key at most every
VERSION_CHECK_SECONDS: any commit that touched a line, an experience or a block, in any
process, sets it anew (`install_invalidation`, on the runtime's session factory), so every
process sees an admin's change within a second, and the process that made it at once.

The snapshot's objects are detached from any session and shared by every thread: read them,
never change them or add them to a session (load the row in your own session to change it).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from warmline import keys
from warmline.models import Block, Experience, Line

# How stale a process may be about lines and experiences: an admin's change is seen everywhere
# within a second.
VERSION_CHECK_SECONDS = 0.5
CACHED_MODELS: tuple[type[Any], ...] = (Line, Experience, Block)
_CHANGED = "warmline_config_changed"
SESSION_INFO_KEY = "warmline_config_cache"


@dataclass(frozen=True)
class ConfigSnapshot:
    version: bytes | str | None
    lines_by_id: Mapping[int, Line]
    active_lines_by_number: Mapping[str, Line]
    experiences: tuple[Experience, ...]  # all of them, by digit
    # caller hash -> (line id, None for every line; expiry) of each block; a handful, kept
    # small by retention, which deletes the expired ones
    blocks: Mapping[str, tuple[tuple[int | None, datetime], ...]]

    def is_blocked(self, caller_hash: str, line_id: int, now: datetime) -> bool:
        return any(expires > now and (on is None or on == line_id)
                   for on, expires in self.blocks.get(caller_hash, ()))

    @property
    def active_experiences(self) -> list[Experience]:
        return [e for e in self.experiences if e.active]

    def experience(self, key: str) -> Experience | None:
        return next((e for e in self.experiences if e.key == key), None)


class ConfigCache:
    def __init__(self, redis: Redis, sessions: sessionmaker[Session]) -> None:
        self._redis = redis
        self._sessions = sessions
        self._lock = threading.Lock()
        self._snapshot: ConfigSnapshot | None = None
        self._checked_at = 0.0

    def current(self) -> ConfigSnapshot:
        snapshot, now = self._snapshot, time.monotonic()
        if snapshot is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return snapshot
        version = self._redis.get(keys.config_version())
        if snapshot is None or version != snapshot.version:
            snapshot = self._load(version)
        with self._lock:
            self._snapshot, self._checked_at = snapshot, now
        return snapshot

    def forget(self) -> None:
        """This process changed a line or an experience: load again on the next read."""
        with self._lock:
            self._snapshot = None

    def _load(self, version: bytes | str | None) -> ConfigSnapshot:
        with self._sessions() as session, session.begin():
            lines = list(session.scalars(select(Line)))
            experiences = tuple(session.scalars(select(Experience).order_by(Experience.digit)))
            blocks: dict[str, list[tuple[int | None, datetime]]] = {}
            for caller_hash, line_id, expires in session.execute(
                    select(Block.caller_hash, Block.line_id, Block.expires_at)):
                blocks.setdefault(caller_hash, []).append((line_id, expires))
            session.expunge_all()
        return ConfigSnapshot(
            version=version,
            lines_by_id={line.id: line for line in lines},
            active_lines_by_number={line.number: line for line in lines if line.active},
            experiences=experiences,
            blocks={caller: tuple(found) for caller, found in blocks.items()},
        )


def bump_config_version(redis: Redis) -> None:
    """A new random version, never one seen before (a counter would repeat after Redis is
    emptied, and a process could take its old snapshot for the new one)."""
    redis.set(keys.config_version(), uuid.uuid4().hex)


def config_of(session: Session) -> ConfigSnapshot | None:
    """The snapshot of the runtime whose factory made `session` (None for other sessions)."""
    cache = session.info.get(SESSION_INFO_KEY)
    return cache.current() if isinstance(cache, ConfigCache) else None


def config_of_sessions(sessions: sessionmaker[Session]) -> ConfigSnapshot | None:
    """The snapshot for a session factory's process, without opening a session."""
    cache = sessions.kw.get("info", {}).get(SESSION_INFO_KEY)
    return cache.current() if isinstance(cache, ConfigCache) else None


def install_invalidation(sessions: sessionmaker[Session], redis: Redis) -> ConfigCache:
    """A cache for the factory's sessions (found with `config_of`), and the hooks that bump
    the version after any commit that added, changed or deleted a line, an experience or a block,
    through the ORM's unit of work or an ORM update/delete statement."""
    cache = ConfigCache(redis, sessions)
    sessions.configure(info={SESSION_INFO_KEY: cache})

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        touched = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(obj, CACHED_MODELS) for obj in touched):
            session.info[_CHANGED] = True

    def on_execute(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and state.bind_mapper is not None \
                and state.bind_mapper.class_ in CACHED_MODELS:
            state.session.info[_CHANGED] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            cache.forget()
            bump_config_version(redis)

    def after_rollback(session: Session) -> None:
        session.info.pop(_CHANGED, None)

    event.listen(sessions, "before_flush", before_flush)
    event.listen(sessions, "do_orm_execute", on_execute)
    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)
    return cache
