"""The one clock: an aware UTC datetime, read at the edge (a request, a job) and passed down as `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
