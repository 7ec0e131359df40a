"""Peers needed beside peers scheduled on the roster week, hour by hour (the staffing planner's
answer for the week shown), and the what-if of a shift not saved yet.

States of a cell: **short** when fewer peers are scheduled than needed, **met** otherwise,
**quiet** when the history brings nobody at that hour, **closed** when the line is closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from warmline.domain.schedule import ShiftRule
from warmline.models import Line, Peer
from warmline.planning.week import HourPlan, LinePlan, plan_line
from warmline.runtime import Runtime
from warmline.services.admin.forms import FormErrors, FormValues
from warmline.services.admin.shifts import check_shift_form
from warmline.services.admin.week import week_label
from warmline.wording import N_


@dataclass(frozen=True)
class StaffingCell:
    day: date
    hour: int
    state: str  # short, met, quiet, closed, none (an hour the clocks skip)
    needed: int
    scheduled: int
    uncovered: tuple[str, ...]
    answered_within: float | None

    @property
    def label(self) -> str:
        if self.state in ("closed", "none"):
            return N_("line closed") if self.state == "closed" else N_("no such hour (clocks change)")
        counts = {"needed": self.needed, "scheduled": self.scheduled}
        if self.state == "short":
            words = N_("needed %(needed)s, scheduled %(scheduled)s: %(short)s short",
                       short=self.needed - self.scheduled, **counts)
        else:
            words = N_("needed %(needed)s, scheduled %(scheduled)s", **counts)
        if self.uncovered:
            return N_("%(counts)s; nobody on shift shares %(experiences)s", counts=words,
                      experiences=", ".join(self.uncovered))
        return words


@dataclass(frozen=True)
class StaffingView:
    target_seconds: int
    target_share: float
    history_weeks: float
    contacts: int
    grid: list[list[StaffingCell]]  # one row per local hour, one cell per day
    short_hours: int
    uncovered_hours: int
    answered_within: float | None  # predicted over the week's calls, with the peers scheduled


def _state(hour: HourPlan) -> str:
    if not hour.is_open:
        return "closed"
    if hour.needed == 0 and not hour.uncovered:
        return "quiet"
    return "short" if hour.gap < 0 else "met"


def weekly_answer_rate(hours: Sequence[HourPlan]) -> float | None:
    """The share of the week's calls answered in time, weighting each hour by its calls."""
    calls = sum(h.calls_per_hour for h in hours if h.answered_within is not None)
    if calls <= 0:
        return None
    return sum(h.calls_per_hour * (h.answered_within or 0.0) for h in hours
               if h.answered_within is not None) / calls


def line_week_plan(runtime: Runtime, line_id: int, monday: date, now: datetime,
                   extra_rules: Sequence[ShiftRule] = ()) -> LinePlan | None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            return None
        start = datetime.combine(monday, time(0), ZoneInfo(line.timezone))
        return plan_line(session, line, start, now, extra_rules=extra_rules)


def build_staffing(runtime: Runtime, line_id: int, monday: date, now: datetime) -> StaffingView | None:
    plan = line_week_plan(runtime, line_id, monday, now)
    if plan is None:
        return None
    cells: dict[tuple[date, int], StaffingCell] = {}
    for hour in plan.hours:
        key = (hour.start.date(), hour.start.hour)
        cell = StaffingCell(key[0], key[1], _state(hour), hour.needed, hour.scheduled,
                            hour.uncovered, hour.answered_within)
        earlier = cells.get(key)
        # The fall-back hour happens twice: show the one shorter of peers.
        if earlier is None or cell.scheduled - cell.needed < earlier.scheduled - earlier.needed:
            cells[key] = cell
    days = [monday + timedelta(days=n) for n in range(7)]
    grid = [[cells.get((d, h), StaffingCell(d, h, "none", 0, 0, (), None)) for d in days]
            for h in range(24)]
    history = plan.history
    return StaffingView(
        target_seconds=plan.target_seconds, target_share=plan.target_share,
        history_weeks=history.weeks, contacts=sum(history.offered.values()), grid=grid,
        short_hours=len(plan.short_hours),
        uncovered_hours=sum(1 for h in plan.hours if h.uncovered),
        answered_within=weekly_answer_rate(plan.hours))


@dataclass(frozen=True)
class WhatIf:
    """The week's predicted answer rate and short hours, without and with a shift not saved yet."""

    week: str
    target_seconds: int
    target_share: float
    before: float | None
    after: float | None
    short_before: int
    short_after: int


def what_if(runtime: Runtime, line_id: int, shift_id: int | None, form: FormValues,
            now: datetime) -> WhatIf | FormErrors:
    """Checks the shift form as saving would, then plans its week twice; writes nothing."""
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            errors = FormErrors()
            errors.add("peer", N_("This line no longer exists."))
            return errors
        checked, errors = check_shift_form(session, line, form)
        if checked is None or errors:
            return errors
        peer_id = session.scalars(select(Peer.id).where(Peer.email == checked.peer)).one()
        rule = ShiftRule(shift_id=-1, peer_id=peer_id, line_id=line.id, start_local=checked.start,
                         end_local=checked.end, rrule=checked.repeat,
                         skip_dates=frozenset(checked.skip))
        zone = ZoneInfo(line.timezone)
        today = now.astimezone(zone).date()
        # The week the shift first works, or this week for a series begun earlier.
        first = max(checked.start.date(), today)
        monday = first - timedelta(days=first.weekday())
        start = datetime.combine(monday, time(0), zone)
        before = plan_line(session, line, start, now)
        after = plan_line(session, line, start, now, extra_rules=[rule],
                          leave_out=[shift_id] if shift_id is not None else [])
    return WhatIf(week_label(monday), before.target_seconds, before.target_share,
                  weekly_answer_rate(before.hours), weekly_answer_rate(after.hours),
                  len(before.short_hours), len(after.short_hours))
