"""Property test: "on shift at t" agrees with a brute-force expansion, minute by minute, over DST.

The brute force shares nothing with the module but the rule description below: it walks local
dates one by one, decides whether the rule fires on a date with plain date arithmetic, and turns
local times into instants by searching UTC offsets (never ``fold``), then tests membership.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from warmline.domain.schedule import (
    LineSchedule,
    ShiftRule,
    find_next_shift,
    find_peers_on_shift,
    list_shift_occurrences,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
# The four DST nights of 2026 in the two zones; all are Sundays.
NIGHTS = [
    (NY, date(2026, 3, 8)),
    (NY, date(2026, 11, 1)),
    (LONDON, date(2026, 3, 29)),
    (LONDON, date(2026, 10, 25)),
]
DAY_NAMES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
EXAMPLES = int(os.environ.get("WARMLINE_SCHEDULE_EXAMPLES", "40"))


@dataclass(frozen=True)
class Spec:
    """The test's own description of a shift, read by both the RRULE writer and the brute force."""

    peer: int
    start: datetime
    end: time
    kind: str  # once | daily | weekly | monthly
    interval: int
    weekdays: frozenset[int]  # weekly
    nth: int  # monthly: 1..4, or -1 for the last
    weekday: int  # monthly
    count: int | None
    until: datetime | None  # naive local; compared with occurrences' local start
    until_form: str  # date | local | utc
    skips: frozenset[date]

    def rrule(self, zone: ZoneInfo) -> str | None:
        if self.kind == "once":
            return None
        if self.kind == "daily":
            text = f"FREQ=DAILY;INTERVAL={self.interval}"
        elif self.kind == "weekly":
            days = ",".join(DAY_NAMES[d] for d in sorted(self.weekdays))
            text = f"FREQ=WEEKLY;INTERVAL={self.interval};BYDAY={days}"
        else:
            text = f"FREQ=MONTHLY;BYDAY={self.nth}{DAY_NAMES[self.weekday]}"
        if self.count is not None:
            text += f";COUNT={self.count}"
        if self.until is not None:
            if self.until_form == "date":
                text += f";UNTIL={self.until:%Y%m%d}"
            elif self.until_form == "local":
                text += f";UNTIL={self.until:%Y%m%dT%H%M%S}"
            else:
                instant = resolve(self.until, zone)
                text += f";UNTIL={instant:%Y%m%dT%H%M%S}Z"
        return text


# --------------------------------------------------------------------------- brute force


def resolve(local: datetime, zone: ZoneInfo) -> datetime:
    """Local wall time to instant by searching the offsets in force around it."""
    as_utc = local.replace(tzinfo=UTC)
    before = (as_utc - timedelta(hours=12)).astimezone(zone).utcoffset()
    after = (as_utc + timedelta(hours=12)).astimezone(zone).utcoffset()
    assert before is not None and after is not None
    candidates = sorted({as_utc - before, as_utc - after})
    real = [c for c in candidates if c.astimezone(zone).replace(tzinfo=None) == local]
    # No instant shows this wall time: it is in a gap, read with the offset from before it.
    return real[0] if real else as_utc - before


def fires(spec: Spec, day: date) -> bool:
    first = spec.start.date()
    if day < first:
        return False
    if spec.kind == "once":
        return day == first
    if spec.kind == "daily":
        return (day - first).days % spec.interval == 0
    if spec.kind == "weekly":
        weeks = (day - timedelta(days=day.weekday())) - (first - timedelta(days=first.weekday()))
        return day.weekday() in spec.weekdays and (weeks.days // 7) % spec.interval == 0
    if day.weekday() != spec.weekday:
        return False
    if spec.nth == -1:
        return day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    return (day.day - 1) // 7 == spec.nth - 1


def brute_intervals(spec: Spec, zone: ZoneInfo, last: date) -> list[tuple[datetime, datetime]]:
    intervals = []
    fired = 0
    day = spec.start.date()
    while day <= last:
        if fires(spec, day):
            fired += 1
            local_start = datetime.combine(day, spec.start.time())
            if spec.count is not None and fired > spec.count:
                break
            if spec.until is not None:
                if spec.until_form == "date":
                    if day > spec.until.date():
                        break
                else:
                    bound = spec.until
                    if spec.until_form == "utc":
                        bound = resolve(spec.until, zone).astimezone(zone).replace(tzinfo=None)
                    if local_start > bound:
                        break
            if day not in spec.skips:
                end_day = day if spec.end > spec.start.time() else day + timedelta(days=1)
                start_at = resolve(local_start, zone)
                end_at = resolve(datetime.combine(end_day, spec.end), zone)
                if end_at > start_at:
                    intervals.append((start_at, end_at))
        day += timedelta(days=1)
    return intervals


# --------------------------------------------------------------------------- strategies

# Times around both zones' transitions (01:00-03:00) are likelier than any other.
times = st.one_of(
    st.sampled_from([time(h, m) for h in range(4) for m in (0, 15, 30, 45)] + [time(22), time(6)]),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)


@st.composite
def specs(draw: st.DrawFn, night: date, peer: int) -> Spec:
    kind = draw(st.sampled_from(["once", "daily", "weekly", "monthly"]))
    if kind == "once":
        first = night + timedelta(days=draw(st.integers(-2, 1)))
    else:
        first = night - timedelta(days=draw(st.integers(0, 70)))
    start = datetime.combine(first, draw(times))
    # A one-off has no rule to carry COUNT or UNTIL.
    limit = "none" if kind == "once" else draw(st.sampled_from(["none", "none", "count", "until"]))
    until = None
    if limit == "until":
        until = datetime.combine(night, time(2)) + timedelta(minutes=draw(st.integers(-2880, 2880)))
    return Spec(
        peer=peer,
        start=start,
        end=draw(times),
        kind=kind,
        interval=draw(st.integers(1, 3)) if kind in ("daily", "weekly") else 1,
        weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        nth=draw(st.sampled_from([1, 2, 3, 4, -1])),
        weekday=draw(st.integers(0, 6)),
        count=draw(st.integers(1, 40)) if limit == "count" else None,
        until=until,
        until_form=draw(st.sampled_from(["date", "local", "utc"])),
        skips=draw(st.frozensets(st.dates(night - timedelta(days=3), night + timedelta(days=1)))),
    )


@st.composite
def rosters(draw: st.DrawFn) -> tuple[ZoneInfo, date, list[Spec]]:
    zone, night = draw(st.sampled_from(NIGHTS))
    size = draw(st.integers(1, 4))
    # Three peers for up to four shifts: one peer on two overlapping shifts must count once.
    return zone, night, [draw(specs(night, peer=i % 3)) for i in range(size)]


# --------------------------------------------------------------------------- the property


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters())
def test_on_shift_matches_brute_force_every_minute(
    roster: tuple[ZoneInfo, date, list[Spec]],
) -> None:
    zone, night, roster_specs = roster
    note(f"{zone.key} {night}: {roster_specs!r}")
    line = LineSchedule(1, zone)
    shifts = [
        ShiftRule(i, spec.peer, 1, spec.start, spec.end, spec.rrule(zone), spec.skips)
        for i, spec in enumerate(roster_specs)
    ]
    expected = [
        [(spec.peer, start, end) for start, end in brute_intervals(spec, zone, night)]
        for spec in roster_specs
    ]
    # From 18:00 the evening before to 10:00 after the change, local time.
    first = resolve(datetime.combine(night - timedelta(days=1), time(18)), zone)
    last = resolve(datetime.combine(night, time(10)), zone)

    for shift, intervals in zip(shifts, expected, strict=True):
        found = list_shift_occurrences(shift, zone, first, last)
        assert [(o.start, o.end) for o in found] == [
            (start, end) for _, start, end in intervals if start < last and end > first
        ]

    minute = first
    while minute < last:
        want = {peer for each in expected for peer, start, end in each if start <= minute < end}
        got = find_peers_on_shift(line, shifts, minute)
        assert got == want, f"at {minute} ({minute.astimezone(zone)})"
        minute += timedelta(minutes=1)

    for peer in {spec.peer for spec in roster_specs}:
        upcoming = [start for each in expected for p, start, _ in each if p == peer and start > first]
        found_next = find_next_shift(line, shifts, peer, first)
        if upcoming:  # the brute force stops at the night; later ones it does not know
            assert found_next is not None and found_next.start == min(upcoming)
