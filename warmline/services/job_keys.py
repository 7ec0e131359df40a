"""Redis keys of the background jobs (recurring-job bookkeeping, once-only markers), with their TTLs.

One function per key family, all under one prefix, so retention can SCAN for exactly these and
a test can pin the strings. (The routing engine keeps its own keys, hash-tagged, in its module.)
"""

from __future__ import annotations

from datetime import date

PREFIX = "wl:jobs:"

RECURRING_LOCK_TTL_MS = 10_000
# A marker only has to outlive the window in which the same thing could be noticed again.
ONCE_MARKER_TTL_SECONDS = 2 * 24 * 3600


def recurring_lock() -> str:
    """Held (SET NX PX) while the recurring jobs are reconciled."""
    return f"{PREFIX}recurring:lock"


def recurring_next(name: str) -> str:
    """The RQ job id of a recurring job's next scheduled instance. No TTL: retention prunes
    the ones whose name is no longer in the table."""
    return f"{PREFIX}recurring:next:{name}"


def recurring_next_pattern() -> str:
    return f"{PREFIX}recurring:next:*"


def shift_end_handled(peer_id: int, line_id: int, ended_at_epoch: int) -> str:
    """Set once a peer's shift end was handed to the routing engine (ONCE_MARKER_TTL_SECONDS)."""
    return f"{PREFIX}shift-end:{peer_id}:{line_id}:{ended_at_epoch}"


def shift_reminder_sent(shift_id: int, starts_at_epoch: int) -> str:
    """Set once the reminder of one shift occurrence was sent (ONCE_MARKER_TTL_SECONDS)."""
    return f"{PREFIX}shift-reminder:{shift_id}:{starts_at_epoch}"


def coverage_report_sent(day: date) -> str:
    """Set once the coverage report of a UTC day was sent (ONCE_MARKER_TTL_SECONDS)."""
    return f"{PREFIX}coverage-report:{day.isoformat()}"


def owned_pattern() -> str:
    """Every key of this module (for retention's SCAN)."""
    return f"{PREFIX}*"
