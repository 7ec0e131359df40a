"""The one crossing between the app's clock and epoch seconds: aware UTC datetimes everywhere
else, epoch seconds (float) in the routing engine's calls and its Lua scripts, and where Redis
keeps a time as a number (the texts' store, a key's or a job's id, a job's argument)."""

from __future__ import annotations

from datetime import UTC, datetime


def seconds(moment: datetime) -> float:
    """A datetime as the engine's epoch seconds; a naive one (as some SQL drivers return a
    timestamp column) is read as UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def moment(epoch: float) -> datetime:
    """The engine's epoch seconds (an offer's expiry, a wrap-up's end) as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, UTC)
