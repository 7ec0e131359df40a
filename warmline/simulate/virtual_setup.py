"""What a virtual run needs from a roster file: the line's rules, its peers, shifts and hours.

Read with the roster importer's own validation (`parse_roster`), never through SQL: a virtual
run touches no database, only its own Redis DB index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from warmline.domain.schedule import (
    LineSchedule,
    OpeningHours,
    ShiftOccurrence,
    ShiftRule,
    list_shift_occurrences,
    to_instant,
)
from warmline.roster.schema import Roster, RosterLine, RosterPeer
from warmline.roster.validate import parse_roster
from warmline.routing.engine import PeerProfile

LINE_ID = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# With no shifts to go by, a run starts on this Monday (a fixed date: the same seed, the same run).
DEFAULT_START = datetime(2026, 1, 5, 0, 0)


@dataclass(frozen=True)
class VirtualPeer:
    peer_id: int
    name: str
    email: str
    profile: PeerProfile
    experiences: frozenset[str]


@dataclass(frozen=True)
class VirtualLine:
    """The line a virtual run plays, with its settings after the scenario's overrides."""

    number: str
    zone: ZoneInfo
    language: str
    wrap_up_seconds: float
    max_wait_seconds: float
    callbacks: bool
    calls_while_texting: bool
    schedule: LineSchedule
    experiences: tuple[str, ...]  # active keys
    peers: tuple[VirtualPeer, ...]
    shifts: tuple[ShiftRule, ...]
    start: datetime  # aware UTC: the run's first instant


def _setting(line: RosterLine, overrides: dict[str, Any], name: str) -> Any:
    if name in overrides:
        return overrides[name]
    return getattr(line, name)


def _opening_hours(line: RosterLine) -> tuple[OpeningHours, ...]:
    return tuple(OpeningHours(days=frozenset(WEEKDAYS.index(day) for day in opening.days),
                              open=opening.open, close=opening.close)
                 for opening in line.hours)


def _peer(peer_id: int, peer: RosterPeer, active_experiences: set[str]) -> VirtualPeer:
    experiences = frozenset(e for e in peer.experiences if e in active_experiences)
    profile = PeerProfile(peer_id=peer_id, lines=frozenset({LINE_ID}), experiences=experiences,
                          languages=frozenset(peer.languages), channels=frozenset(peer.channels),
                          max_texts=peer.max_texts)
    return VirtualPeer(peer_id, peer.name, peer.email, profile, experiences)


def _start(roster: Roster, number: str, zone: ZoneInfo, start: str | None) -> datetime:
    if start is not None:
        local = datetime.strptime(start, "%Y-%m-%d %H:%M")
    else:
        firsts = [shift.start for shift in roster.shifts if shift.line == number]
        local = DEFAULT_START
        if firsts:
            first = min(firsts)
            # The first Monday on or after the roster begins: a week from there is a whole week
            # of it (a Monday before would start with days before any shift).
            day = first.date() + timedelta(days=(7 - first.weekday()) % 7)
            local = datetime.combine(day, datetime.min.time())
    return to_instant(local.replace(minute=0, second=0, microsecond=0), zone).astimezone(UTC)


def load_virtual_line(roster_text: str, overrides: dict[str, Any], *, start: str | None,
                      roster_shifts: bool) -> VirtualLine:
    """The first line of the roster file, as the virtual simulator plays it."""
    return virtual_line(parse_roster(roster_text), overrides, start=start,
                        roster_shifts=roster_shifts)


def virtual_line(roster: Roster, overrides: dict[str, Any], *, start: str | None,
                 roster_shifts: bool, number: str | None = None) -> VirtualLine:
    """A line of a roster (the first, or the one numbered `number`) as the simulator plays it."""
    lines = [line for line in roster.lines if number is None or line.number == number]
    if not lines:
        raise ValueError("the roster names no line" + (f" {number}" if number else ""))
    line = lines[0]
    for name in overrides:
        if not hasattr(line, name):
            raise ValueError(f"a line has no setting {name!r}")
    zone = ZoneInfo(line.timezone)
    active = {e.key for e in roster.experiences if e.active}
    peers = [p for p in roster.peers if p.active]
    ids = {peer.email: index + 1 for index, peer in enumerate(peers)}
    shifts = tuple(
        ShiftRule(shift_id=index + 1, peer_id=ids[shift.peer], line_id=LINE_ID,
                  start_local=shift.start.replace(tzinfo=None),
                  end_local=shift.end.replace(tzinfo=None), rrule=shift.repeat,
                  skip_dates=frozenset(shift.skip))
        for index, shift in enumerate(roster.shifts)
        if shift.line == line.number and shift.peer in ids) if roster_shifts else ()
    closed: frozenset[date] = frozenset(line.closed_dates) if roster_shifts else frozenset()
    return VirtualLine(
        number=line.number, zone=zone, language=line.languages[0] if line.languages else "en",
        wrap_up_seconds=float(_setting(line, overrides, "wrap_up_seconds")),
        max_wait_seconds=float(_setting(line, overrides, "max_wait_seconds")),
        callbacks=bool(_setting(line, overrides, "callbacks")),
        calls_while_texting=bool(_setting(line, overrides, "calls_while_texting")),
        schedule=LineSchedule(LINE_ID, zone, _opening_hours(line) if roster_shifts else (), closed),
        experiences=tuple(sorted(active)),
        peers=tuple(_peer(ids[p.email], p, active) for p in peers),
        shifts=shifts,
        start=_start(roster, line.number, zone, start))


def shift_occurrences(line: VirtualLine, end: datetime) -> list[ShiftOccurrence]:
    """Every shift occurrence of the line overlapping the run."""
    return sorted((occ for shift in line.shifts
                   for occ in list_shift_occurrences(shift, line.zone, line.start, end)),
                  key=lambda occ: (occ.start, occ.peer_id))


def hour_of_week(line: VirtualLine, offset_seconds: float) -> int:
    """The local hour of the week (0 = Monday 00:00) of an offset into the run."""
    local = (line.start + timedelta(seconds=offset_seconds)).astimezone(line.zone)
    return local.weekday() * 24 + local.hour
