"""Lines, experiences and blocks from the process's snapshot: an admin's change in one process is seen by
another (through the version key in Redis), and at once by the process that made it."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, update

from config import Settings
from tests.support.workers import add_line
from warmline.clock import utc_now
from warmline.config_cache import VERSION_CHECK_SECONDS, config_of_sessions
from warmline.models import Block, Experience, Line
from warmline.runtime import Runtime, build_runtime
from warmline.services.contacts import is_blocked
from warmline.services.voice.common import experience_label

HANG_GUARD_SECONDS = 60.0


def _snapshot_of(runtime: Runtime) -> Any:
    snapshot = config_of_sessions(runtime.sessions)
    assert snapshot is not None
    return snapshot


def _watch_greeting(settings: Settings, line_id: int, out: Any, stop: Any) -> None:
    """Another process: report the line's greeting each time it changes, until told to stop."""
    runtime = build_runtime(settings)
    seen = None
    try:
        while not stop.is_set():
            line = _snapshot_of(runtime).lines_by_id.get(line_id)
            greeting = line.greeting.get("en") if line is not None else None
            if greeting != seen:
                seen = greeting
                out.put(greeting)
            stop.wait(VERSION_CHECK_SECONDS / 5)
    finally:
        runtime.close()


def test_a_change_in_one_process_is_seen_by_another(runtime: Runtime, settings: Settings) -> None:
    line_id = add_line(runtime, greeting={"en": "Hello"})
    context = multiprocessing.get_context("spawn")
    out, stop = context.Queue(), context.Event()
    watcher = context.Process(target=_watch_greeting, args=(settings, line_id, out, stop))
    watcher.start()
    try:
        assert out.get(timeout=HANG_GUARD_SECONDS) == "Hello"
        with runtime.sessions.begin() as session:
            line = session.get(Line, line_id)
            assert line is not None
            line.greeting = {"en": "Welcome"}
        assert out.get(timeout=HANG_GUARD_SECONDS) == "Welcome"
        # an ORM update statement, as a bulk admin change would be, is seen too
        with runtime.sessions.begin() as session:
            session.execute(update(Line).where(Line.id == line_id).values(greeting={"en": "Hi"}))
        assert out.get(timeout=HANG_GUARD_SECONDS) == "Hi"
    finally:
        stop.set()
        watcher.join(HANG_GUARD_SECONDS)
        if watcher.is_alive():
            watcher.kill()
    assert watcher.exitcode == 0


def test_the_process_that_changed_it_sees_it_at_once(runtime: Runtime) -> None:
    line_id = add_line(runtime, max_wait_seconds=600)
    assert _snapshot_of(runtime).lines_by_id[line_id].max_wait_seconds == 600
    with runtime.sessions.begin() as session:
        session.add(Experience(key="grief", label="Grief", labels={"es": "Duelo"}, digit=1,
                               keyword="GRIEF"))
        line = session.get(Line, line_id)
        assert line is not None
        line.max_wait_seconds = 900
    snapshot = _snapshot_of(runtime)
    assert snapshot.lines_by_id[line_id].max_wait_seconds == 900
    assert [e.key for e in snapshot.active_experiences] == ["grief"]
    with runtime.sessions() as session:
        assert experience_label(session, "grief", "es") == "Duelo"


def test_another_runtime_sees_a_change_within_the_check_interval(runtime: Runtime,
                                                                  settings: Settings) -> None:
    """Two runtimes in one process share nothing but Redis and SQL, as two processes do."""
    line_id = add_line(runtime, name="Before")
    other = build_runtime(settings)
    try:
        assert _snapshot_of(other).lines_by_id[line_id].name == "Before"
        with runtime.sessions.begin() as session:
            line = session.get(Line, line_id)
            assert line is not None
            line.name = "After"
        # no clock in a test: wait on what must happen, with a hang guard
        pause = threading.Event()
        for _ in range(int(HANG_GUARD_SECONDS / (VERSION_CHECK_SECONDS / 5))):
            if _snapshot_of(other).lines_by_id[line_id].name == "After":
                break
            pause.wait(VERSION_CHECK_SECONDS / 5)
        assert _snapshot_of(other).lines_by_id[line_id].name == "After"
    finally:
        other.close()


def test_a_block_is_asked_of_the_snapshot_and_seen_by_another_runtime_and_lifted(
        runtime: Runtime, settings: Settings) -> None:
    """An arrival asks the snapshot, not SQL, whether its caller is blocked: a block made (or
    deleted by retention) in one process reaches every other within the check interval."""
    line_id, other_line = add_line(runtime), add_line(runtime, name="Other", number="+15550009999")
    now = utc_now()
    other = build_runtime(settings)
    try:
        with other.sessions() as session:
            assert not is_blocked(session, "caller-a", line_id, now)
        with runtime.sessions.begin() as session:
            session.add(Block(caller_hash="caller-a", line_id=line_id, reason="abuse",
                              created_at=now, expires_at=now + timedelta(days=1)))
            session.add(Block(caller_hash="caller-b", line_id=None, reason="abuse",
                              created_at=now, expires_at=now + timedelta(days=1)))
        _wait_for(lambda: _blocked_in(other, "caller-a", line_id, now))
        assert not _blocked_in(other, "caller-a", other_line, now)  # that line only
        assert _blocked_in(other, "caller-b", other_line, now)  # every line
        assert not _blocked_in(other, "caller-a", line_id, now + timedelta(days=2))  # expired
        # the snapshot answers with no SQL at all
        statements: list[str] = []
        listen = event.listens_for(other.engine, "before_cursor_execute")
        listen(lambda *args: statements.append(str(args[2])))
        assert _blocked_in(other, "caller-b", line_id, now)
        assert statements == []
        # retention deletes expired blocks with one ORM statement: seen too
        with runtime.sessions.begin() as session:
            session.execute(delete(Block).where(Block.caller_hash == "caller-b"))
        _wait_for(lambda: not _blocked_in(other, "caller-b", line_id, now))
    finally:
        other.close()


def _blocked_in(runtime: Runtime, caller_hash: str, line_id: int, now: datetime) -> bool:
    with runtime.sessions() as session:
        return is_blocked(session, caller_hash, line_id, now)


def _wait_for(condition: Callable[[], bool]) -> None:
    pause = threading.Event()
    for _ in range(int(HANG_GUARD_SECONDS / (VERSION_CHECK_SECONDS / 5))):
        if condition():
            return
        pause.wait(VERSION_CHECK_SECONDS / 5)
    assert condition()
