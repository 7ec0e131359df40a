"""Lines and experiences from the process's snapshot: an admin's change in one process is seen by
another (through the version key in Redis), and at once by the process that made it."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

from sqlalchemy import update

from config import Settings
from tests.support.workers import add_line
from warmline.models import Experience, Line
from warmline.runtime import Runtime, build_runtime
from warmline.services.config_cache import VERSION_CHECK_SECONDS, config_of_sessions
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
