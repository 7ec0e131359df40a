"""Loads lines and shifts from SQL into the pure schedule domain, and answers "who is on now"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.domain.schedule import (
    LineSchedule,
    OpeningHours,
    ShiftRule,
    find_next_opening,
    find_peers_on_shift,
    is_line_open,
)
from warmline.models import Line, Peer, Shift

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def line_schedule(line: Line) -> LineSchedule:
    return LineSchedule(
        line_id=line.id,
        timezone=ZoneInfo(line.timezone),
        hours=tuple(
            OpeningHours(
                days=frozenset(WEEKDAYS.index(day) for day in spec["days"]),
                open=_clock(spec["open"]),
                close=_clock(spec["close"]),
            )
            for spec in line.hours
        ),
        closed_dates=frozenset(date.fromisoformat(d) for d in line.closed_dates),
    )


def shift_rule(shift: Shift) -> ShiftRule:
    return ShiftRule(
        shift_id=shift.id,
        peer_id=shift.peer_id,
        line_id=shift.line_id,
        start_local=shift.start_local.replace(tzinfo=None),
        end_local=shift.end_local,
        rrule=shift.rrule,
        skip_dates=frozenset(date.fromisoformat(d) for d in shift.skip_dates),
    )


def load_shift_rules(session: Session, line_ids: Iterable[int] | None = None) -> list[ShiftRule]:
    """Shifts of active peers (of the given lines, or all)."""
    query = select(Shift).join(Peer, Shift.peer_id == Peer.id).where(Peer.active.is_(True))
    if line_ids is not None:
        query = query.where(Shift.line_id.in_(list(line_ids)))
    return [shift_rule(s) for s in session.scalars(query)]


def peers_on_shift(session: Session, line: Line, at: datetime) -> frozenset[int]:
    return find_peers_on_shift(line_schedule(line), load_shift_rules(session, [line.id]), at)


def is_open(line: Line, at: datetime) -> bool:
    return is_line_open(line_schedule(line), at)


def next_opening(line: Line, at: datetime) -> datetime | None:
    return find_next_opening(line_schedule(line), at)


def active_lines(session: Session) -> Sequence[Line]:
    return session.scalars(select(Line).where(Line.active.is_(True)).order_by(Line.id)).all()
