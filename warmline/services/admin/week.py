"""The roster week of one line: every shift occurrence by local day, and coverage hour by hour.

Coverage colours (documented on the page too): an hour is a **gap** when the line is open and
nobody is on shift at some moment of it, **thin** when fewer than THIN_BELOW peers are, **ok**
otherwise, and **closed** when the line is closed all hour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from warmline.domain.schedule import list_hour_coverage, list_shift_occurrences
from warmline.models import Line, Shift
from warmline.runtime import Runtime
from warmline.services.admin.coverage import DEFAULT_MIN_PEERS
from warmline.services.schedules import line_schedule, shift_rule
from warmline.wording import N_

THIN_BELOW = DEFAULT_MIN_PEERS
"""Fewer peers than this on shift in an open hour is thin (the daily coverage report's bar)."""


@dataclass(frozen=True)
class WeekOccurrence:
    shift_id: int
    peer_name: str
    peer_active: bool
    day: date  # local start date
    start_label: str
    end_label: str
    recurring: bool
    skipped: bool
    note: str | None
    overnight: bool


@dataclass(frozen=True)
class WeekDay:
    day: date
    occurrences: list[WeekOccurrence]


@dataclass(frozen=True)
class CoverageCell:
    day: date
    hour: int
    state: str  # gap, thin, ok, closed, none (an hour the clocks skip)
    peers: int

    @property
    def label(self) -> str:
        words = {"gap": N_("gap: nobody on shift"), "thin": N_("thin: %(count)s on shift", count=self.peers),
                 "ok": N_("%(count)s on shift", count=self.peers), "closed": N_("line closed"),
                 "none": N_("no such hour (clocks change)")}
        return words[self.state]


@dataclass(frozen=True)
class WeekView:
    line_id: int
    line_name: str
    timezone: str
    week: str  # 2026-W49
    previous_week: str
    next_week: str
    days: list[WeekDay]
    coverage: list[list[CoverageCell]]  # one row per local hour, one cell per day
    gaps: int
    thin: int


def parse_week(text: str | None, today: date) -> date:
    """The Monday of an ISO week `YYYY-Www`; this week when missing or malformed."""
    if text:
        try:
            return datetime.strptime(text + "-1", "%G-W%V-%u").date()
        except ValueError:
            pass
    return today - timedelta(days=today.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def build_week(runtime: Runtime, line_id: int, monday: date) -> WeekView | None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            return None
        shifts = list(session.scalars(select(Shift).where(Shift.line_id == line_id)))
        zone = ZoneInfo(line.timezone)
        start, end = _local_midnight(monday, zone), _local_midnight(monday + timedelta(days=7), zone)
        days = [monday + timedelta(days=n) for n in range(7)]
        by_day: dict[date, list[WeekOccurrence]] = {d: [] for d in days}
        for shift in shifts:
            rule = shift_rule(shift)
            # Expanded without its skips, so a skipped date is shown (struck out) and can be restored.
            for occurrence in list_shift_occurrences(replace(rule, skip_dates=frozenset()), zone,
                                                     start, end):
                local_start = occurrence.start.astimezone(zone)
                local_end = occurrence.end.astimezone(zone)
                if local_start.date() not in by_day:
                    continue  # began the week before: its hours still count in the coverage
                by_day[local_start.date()].append(WeekOccurrence(
                    shift_id=shift.id, peer_name=shift.peer.name, peer_active=shift.peer.active,
                    day=local_start.date(), start_label=f"{local_start:%H:%M}",
                    end_label=f"{local_end:%H:%M}", recurring=shift.rrule is not None,
                    skipped=local_start.date() in rule.skip_dates, note=shift.note,
                    overnight=local_end.date() != local_start.date(),
                ))
        active_rules = [shift_rule(s) for s in shifts if s.peer.active]
        hours = list_hour_coverage(line_schedule(line), active_rules, start, end)
        name, zone_name = line.name, line.timezone
    cells: dict[tuple[date, int], CoverageCell] = {}
    for hour in hours:
        key = (hour.local_start.date(), hour.local_start.hour)
        state = "closed" if not hour.is_open else (
            "gap" if hour.min_peers == 0 else "thin" if hour.min_peers < THIN_BELOW else "ok")
        earlier = cells.get(key)
        # The fall-back hour happens twice: the weaker of the two is what a caller might meet.
        if earlier is None or (earlier.state == "closed" and state != "closed") or \
                (state != "closed" and hour.min_peers < earlier.peers):
            cells[key] = CoverageCell(key[0], key[1], state, hour.min_peers)
    grid = [[cells.get((d, h), CoverageCell(d, h, "none", 0)) for d in days] for h in range(24)]
    flat = [cell for row in grid for cell in row]
    return WeekView(
        line_id=line_id, line_name=name, timezone=zone_name, week=week_label(monday),
        previous_week=week_label(monday - timedelta(days=7)),
        next_week=week_label(monday + timedelta(days=7)),
        days=[WeekDay(d, sorted(by_day[d], key=lambda o: (o.start_label, o.peer_name)))
              for d in days],
        coverage=grid,
        gaps=sum(1 for c in flat if c.state == "gap"),
        thin=sum(1 for c in flat if c.state == "thin"),
    )


def line_today(runtime: Runtime, line_id: int, now: datetime) -> date:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        zone = ZoneInfo(line.timezone) if line is not None else ZoneInfo("UTC")
    return now.astimezone(zone).date()
