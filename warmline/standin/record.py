"""A thread-safe log of everything the stand-in saw and did, with blocking waits for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warmline.standin.clock import Clock


@dataclass(frozen=True)
class Event:
    """One thing that happened: `kind` says what, `data` holds its details."""

    seq: int
    at: float  # stand-in seconds since start
    kind: str
    call_sid: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": round(self.at, 3), "kind": self.kind,
                "call_sid": self.call_sid, **self.data}


class Record:
    """Append-only event list; every append wakes whoever waits on it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self.counters: dict[str, int] = {}

    def add(self, kind: str, call_sid: str | None = None, **data: Any) -> Event:
        with self._cond:
            event = Event(len(self._events) + 1, self._clock.elapsed(), kind, call_sid, data)
            self._events.append(event)
            self._cond.notify_all()
            return event

    def count(self, name: str) -> None:
        with self._cond:
            self.counters[name] = self.counters.get(name, 0) + 1
            self._cond.notify_all()

    def events(self, kind: str | None = None, call_sid: str | None = None,
               since: int = 0) -> list[Event]:
        with self._cond:
            return [e for e in self._events[since:]
                    if (kind is None or e.kind == kind)
                    and (call_sid is None or e.call_sid == call_sid)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Block until `predicate()` is truthy (re-checked on every event); TimeoutError if not."""
        deadline = time.monotonic() + timeout
        while True:
            # Outside the lock: a predicate may ask the app, whose answer may need the stand-in
            # (a rebuild asks it which calls are live), and the stand-in records what it does.
            # Asked under the lock, each such request waited out its REST timeout.
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with self._cond:
                # A short slice: state outside the record may change without an event.
                self._cond.wait(min(remaining, 0.05))

    def wait_for_event(self, kind: str, timeout: float,
                       match: Callable[[Event], bool] = lambda _e: True) -> Event:
        def found() -> Event | None:
            return next((e for e in self.events(kind) if match(e)), None)

        result: Event = self.wait_for(found, timeout)
        return result
