"""Stand-in time: Twilio seconds divided by a speed factor, so tests and simulations run fast."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Converts stand-in seconds to wall seconds and stamps events."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = time.monotonic()

    def real(self, seconds: float) -> float:
        """Wall seconds that `seconds` of stand-in time take."""
        return seconds / self.speed

    @property
    def started(self) -> float:
        """The monotonic time of stand-in second 0 (event times count from it)."""
        return self._start

    def elapsed(self) -> float:
        """Stand-in seconds since this clock started."""
        return (time.monotonic() - self._start) * self.speed

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    @staticmethod
    def utcnow() -> datetime:
        return datetime.now(UTC)
