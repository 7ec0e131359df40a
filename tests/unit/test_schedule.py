"""Table-driven tests of the schedule domain: shifts, line hours, DST nights and coverage."""

from __future__ import annotations

import time as wallclock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from warmline.domain.schedule import (
    LineSchedule,
    OpeningHours,
    ShiftRule,
    find_coverage_gaps,
    find_next_opening,
    find_next_shift,
    find_opening_close,
    find_peers_on_shift,
    find_shift_end,
    is_line_open,
    list_hour_coverage,
    list_line_openings,
    list_shift_occurrences,
    to_instant,
    validate_rrule,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def shift(
    start: datetime,
    end: time,
    rule: str | None = None,
    skip: tuple[date, ...] = (),
    *,
    peer: int = 1,
    shift_id: int = 1,
) -> ShiftRule:
    return ShiftRule(shift_id, peer, 1, start, end, rule, frozenset(skip))


def line_24_7(zone: ZoneInfo, closed: tuple[date, ...] = ()) -> LineSchedule:
    return LineSchedule(1, zone, (), frozenset(closed))


# The example roster's line: weekdays 08-23, weekends 10-02 (past midnight), closed Christmas.
EXAMPLE_LINE = LineSchedule(
    1,
    NY,
    (
        OpeningHours(WEEKDAYS, time(8), time(23)),
        OpeningHours(WEEKEND, time(10), time(2)),
    ),
    frozenset({date(2026, 12, 25)}),
)

SAM, ANA, LEE = 1, 2, 3
EXAMPLE_SHIFTS = (
    shift(
        datetime(2026, 12, 1, 9),
        time(13),
        "FREQ=WEEKLY;BYDAY=TU,TH",
        (date(2026, 12, 24),),
        peer=SAM,
        shift_id=1,
    ),
    shift(datetime(2026, 12, 1, 18), time(1), "FREQ=DAILY", peer=ANA, shift_id=2),
    shift(datetime(2026, 12, 24, 9), time(13), None, peer=LEE, shift_id=3),
)


# --------------------------------------------------------------------------- occurrences

OCCURRENCE_CASES = [
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=WEEKLY;BYDAY=TU,TH"),
        (utc(2026, 12, 1), utc(2026, 12, 8)),
        [(utc(2026, 12, 1, 14), utc(2026, 12, 1, 18)), (utc(2026, 12, 3, 14), utc(2026, 12, 3, 18))],
        id="weekly-tu-th",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=WEEKLY;BYDAY=TU,TH", (date(2026, 12, 3),)),
        (utc(2026, 12, 1), utc(2026, 12, 8)),
        [(utc(2026, 12, 1, 14), utc(2026, 12, 1, 18))],
        id="weekly-skipped-date",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 4, 18), time(22), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        (utc(2026, 12, 1), utc(2027, 1, 1)),
        [(utc(2026, 12, 4, 23), utc(2026, 12, 5, 3)), (utc(2026, 12, 18, 23), utc(2026, 12, 19, 3))],
        id="biweekly-friday",
    ),
    pytest.param(
        LONDON,
        shift(datetime(2026, 1, 5, 10), time(12), "FREQ=MONTHLY;BYDAY=1MO"),
        (utc(2026, 1, 1), utc(2026, 5, 1)),
        [
            (utc(2026, 1, 5, 10), utc(2026, 1, 5, 12)),
            (utc(2026, 2, 2, 10), utc(2026, 2, 2, 12)),
            (utc(2026, 3, 2, 10), utc(2026, 3, 2, 12)),
            (utc(2026, 4, 6, 9), utc(2026, 4, 6, 11)),  # BST
        ],
        id="monthly-first-monday",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 6, 9), time(17), "FREQ=DAILY"),
        (utc(2026, 3, 7), utc(2026, 3, 10)),
        [
            (utc(2026, 3, 7, 14), utc(2026, 3, 7, 22)),
            (utc(2026, 3, 8, 13), utc(2026, 3, 8, 21)),  # still 09:00 local, now EDT
            (utc(2026, 3, 9, 13), utc(2026, 3, 9, 21)),
        ],
        id="daily-stays-local-across-dst",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY;COUNT=3"),
        (utc(2026, 12, 1), utc(2026, 12, 10)),
        [(utc(2026, 12, d, 14), utc(2026, 12, d, 18)) for d in (1, 2, 3)],
        id="count",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY;COUNT=3", (date(2026, 12, 2),)),
        (utc(2026, 12, 1), utc(2026, 12, 10)),
        [(utc(2026, 12, d, 14), utc(2026, 12, d, 18)) for d in (1, 3)],
        id="count-counts-skipped",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY;UNTIL=20261203"),
        (utc(2026, 12, 1), utc(2026, 12, 10)),
        [(utc(2026, 12, d, 14), utc(2026, 12, d, 18)) for d in (1, 2, 3)],
        id="until-date-inclusive",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY;UNTIL=20261202T140000Z"),
        (utc(2026, 12, 1), utc(2026, 12, 10)),
        [(utc(2026, 12, d, 14), utc(2026, 12, d, 18)) for d in (1, 2)],
        id="until-utc",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 9), time(13), "rrule:freq=daily;until=20261202T085959"),
        (utc(2026, 12, 1), utc(2026, 12, 10)),
        [(utc(2026, 12, 1, 14), utc(2026, 12, 1, 18))],
        id="until-local-lowercase-prefix",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 1, 18), time(1), "FREQ=DAILY", (date(2026, 12, 2),)),
        (utc(2026, 12, 2), utc(2026, 12, 4, 12)),
        [(utc(2026, 12, 1, 23), utc(2026, 12, 2, 6)), (utc(2026, 12, 3, 23), utc(2026, 12, 4, 6))],
        id="overnight-skip-removes-whole-night",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 24, 9), time(13)),
        (utc(2026, 12, 1), utc(2027, 1, 1)),
        [(utc(2026, 12, 24, 14), utc(2026, 12, 24, 18))],
        id="one-off",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 12, 24, 9), time(9)),
        (utc(2026, 12, 1), utc(2027, 1, 1)),
        [(utc(2026, 12, 24, 14), utc(2026, 12, 25, 14))],
        id="equal-end-is-24-hours",
    ),
    pytest.param(
        LONDON,
        shift(datetime(2026, 3, 27, 9), time(17), "FREQ=DAILY"),
        (utc(2026, 3, 27), utc(2026, 3, 31)),
        [
            (utc(2026, 3, 27, 9), utc(2026, 3, 27, 17)),
            (utc(2026, 3, 28, 9), utc(2026, 3, 28, 17)),
            (utc(2026, 3, 29, 8), utc(2026, 3, 29, 16)),
            (utc(2026, 3, 30, 8), utc(2026, 3, 30, 16)),
        ],
        id="london-daily-across-spring-forward",
    ),
    # DST nights: exact instants.
    pytest.param(
        NY,
        shift(datetime(2026, 10, 31, 22), time(6)),
        (utc(2026, 10, 31), utc(2026, 11, 2)),
        [(utc(2026, 11, 1, 2), utc(2026, 11, 1, 11))],
        id="ny-overnight-fall-back-9h",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 7, 22), time(6)),
        (utc(2026, 3, 7), utc(2026, 3, 9)),
        [(utc(2026, 3, 8, 3), utc(2026, 3, 8, 10))],
        id="ny-overnight-spring-forward-7h",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 8, 2, 30), time(6)),
        (utc(2026, 3, 7), utc(2026, 3, 9)),
        [(utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 10))],
        id="ny-start-in-gap-moves-forward-by-gap",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 8, 2), time(6)),
        (utc(2026, 3, 7), utc(2026, 3, 9)),
        [(utc(2026, 3, 8, 7), utc(2026, 3, 8, 10))],
        id="ny-start-at-gap-edge",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 8, 2, 30), time(3)),
        (utc(2026, 3, 7), utc(2026, 3, 9)),
        [],
        id="ny-shift-inside-gap-is-empty",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 3, 7, 2, 30), time(4), "FREQ=DAILY"),
        (utc(2026, 3, 7), utc(2026, 3, 10)),
        [
            (utc(2026, 3, 7, 7, 30), utc(2026, 3, 7, 9)),
            (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8)),  # 03:30-04:00 EDT
            (utc(2026, 3, 9, 6, 30), utc(2026, 3, 9, 8)),
        ],
        id="ny-daily-in-gap",
    ),
    pytest.param(
        NY,
        shift(datetime(2026, 11, 1, 1, 30), time(3)),
        (utc(2026, 10, 31), utc(2026, 11, 2)),
        [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))],
        id="ny-start-in-overlap-first-occurrence",
    ),
    pytest.param(
        LONDON,
        shift(datetime(2026, 10, 25, 1, 30), time(2, 30)),
        (utc(2026, 10, 24), utc(2026, 10, 26)),
        [(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))],
        id="london-overlap-1h-shift-lasts-2h",
    ),
    pytest.param(
        LONDON,
        shift(datetime(2026, 3, 29, 1, 30), time(4)),
        (utc(2026, 3, 28), utc(2026, 3, 30)),
        [(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 3))],
        id="london-start-in-gap",
    ),
    pytest.param(
        LONDON,
        shift(datetime(2026, 10, 24, 22), time(6)),
        (utc(2026, 10, 24), utc(2026, 10, 26)),
        [(utc(2026, 10, 24, 21), utc(2026, 10, 25, 6))],
        id="london-overnight-fall-back-9h",
    ),
]


@pytest.mark.parametrize(("zone", "rule", "window", "expected"), OCCURRENCE_CASES)
def test_list_shift_occurrences(
    zone: ZoneInfo,
    rule: ShiftRule,
    window: tuple[datetime, datetime],
    expected: list[tuple[datetime, datetime]],
) -> None:
    found = list_shift_occurrences(rule, zone, *window)
    assert [(o.start, o.end) for o in found] == expected
    assert all(o.start.tzinfo is UTC for o in found)


def test_occurrences_clip_to_window_by_overlap() -> None:
    rule = shift(datetime(2026, 12, 1, 18), time(1), "FREQ=DAILY")
    # A window inside one night still returns that night, and nothing starting at its end.
    found = list_shift_occurrences(rule, NY, utc(2026, 12, 2, 2), utc(2026, 12, 2, 23))
    assert [(o.start, o.end) for o in found] == [(utc(2026, 12, 1, 23), utc(2026, 12, 2, 6))]


# --------------------------------------------------------------------------- on shift at t

# Daily rules from January: A overnight, B starting inside NY's gap, C inside NY's overlap.
NY_DST_SHIFTS = (
    shift(datetime(2026, 1, 1, 22), time(6), "FREQ=DAILY", peer=1, shift_id=1),
    shift(datetime(2026, 1, 1, 2, 30), time(4), "FREQ=DAILY", peer=2, shift_id=2),
    shift(datetime(2026, 1, 1, 1, 30), time(2, 30), "FREQ=DAILY", peer=3, shift_id=3),
)
# London's gap and overlap are 01:00-02:00: B starts in it, C ends in it.
LONDON_DST_SHIFTS = (
    shift(datetime(2026, 1, 1, 22), time(6), "FREQ=DAILY", peer=1, shift_id=1),
    shift(datetime(2026, 1, 1, 1, 30), time(3), "FREQ=DAILY", peer=2, shift_id=2),
    shift(datetime(2026, 1, 1, 0, 30), time(1, 30), "FREQ=DAILY", peer=3, shift_id=3),
)
A, B, C = 1, 2, 3

ON_SHIFT_CASES = [
    # The example roster (New York, December: EST).
    (EXAMPLE_SHIFTS, NY, utc(2026, 11, 30, 23, 30), set()),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 1, 14), {SAM}),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 1, 17, 59), {SAM}),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 1, 18), set()),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 1, 23), {ANA}),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 2, 5, 59), {ANA}),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 2, 6), set()),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 3, 15), {SAM}),
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 24, 15), {LEE}),  # Sam skipped, Lee covers
    (EXAMPLE_SHIFTS, NY, utc(2026, 12, 25, 0), {ANA}),
    # New York spring-forward, 2026-03-08: 02:00 EST (07:00Z) becomes 03:00 EDT.
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 2, 59), set()),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 3), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 6, 59), {A, C}),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 7), {A, C}),  # C's 02:30 end is 03:30 EDT
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 7, 29), {A, C}),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 7, 30), {A, B}),  # B's 02:30 start is 03:30 EDT
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 8), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 9, 59), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 3, 8, 10), set()),
    # New York fall-back, 2026-11-01: 02:00 EDT (06:00Z) becomes 01:00 EST.
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 1, 59), set()),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 2), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 5, 29), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 5, 30), {A, C}),  # first 01:30 (EDT)
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 6, 30), {A, C}),  # second 01:30 (EST)
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 7, 29), {A, C}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 7, 30), {A, B}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 8, 59), {A, B}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 9), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 10, 59), {A}),
    (NY_DST_SHIFTS, NY, utc(2026, 11, 1, 11), set()),
    # London spring-forward, 2026-03-29: 01:00 GMT (01:00Z) becomes 02:00 BST.
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 28, 21, 59), set()),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 28, 22), {A}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 0, 30), {A, C}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 0, 59), {A, C}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 1), {A, C}),  # C's 01:30 end is 02:30 BST
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 1, 30), {A, B}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 1, 59), {A, B}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 2), {A}),  # 03:00 BST
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 4, 59), {A}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 3, 29, 5), set()),  # 06:00 BST
    # London fall-back, 2026-10-25: 02:00 BST (01:00Z) becomes 01:00 GMT.
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 24, 20, 59), set()),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 24, 21), {A}),  # 22:00 BST
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 24, 23, 30), {A, C}),  # 00:30 BST
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 0, 29), {A, C}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 0, 30), {A, B}),  # first 01:30 (BST)
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 1, 30), {A, B}),  # second 01:30 (GMT)
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 2, 59), {A, B}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 3), {A}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 5, 59), {A}),
    (LONDON_DST_SHIFTS, LONDON, utc(2026, 10, 25, 6), set()),  # 06:00 GMT
]


@pytest.mark.parametrize(("shifts", "zone", "at", "expected"), ON_SHIFT_CASES)
def test_find_peers_on_shift(
    shifts: tuple[ShiftRule, ...], zone: ZoneInfo, at: datetime, expected: set[int]
) -> None:
    assert find_peers_on_shift(line_24_7(zone), shifts, at) == expected


def test_peers_on_shift_ignores_other_lines_and_accepts_any_aware_instant() -> None:
    other_line = ShiftRule(9, 9, 2, datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY")
    at_local = datetime(2026, 12, 1, 10, tzinfo=NY)
    assert find_peers_on_shift(EXAMPLE_LINE, (*EXAMPLE_SHIFTS, other_line), at_local) == {SAM}


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_peers_on_shift(EXAMPLE_LINE, EXAMPLE_SHIFTS, datetime(2026, 12, 1, 10))


def test_recurring_rules_stay_right_years_after_their_start() -> None:
    # A far-away instant exercises the moved DTSTART (biweekly parity, daily interval).
    biweekly = shift(datetime(2026, 12, 4, 18), time(22), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR")
    every_third_day = shift(datetime(2026, 1, 1, 9), time(10), "FREQ=DAILY;INTERVAL=3", peer=2)
    line = line_24_7(NY)
    for day in range(400):
        d = date(2030, 1, 1) + timedelta(days=day)
        on = find_peers_on_shift(
            line, (biweekly, every_third_day), to_instant(datetime.combine(d, time(9, 30)), NY)
        )
        assert (2 in on) == ((d - date(2026, 1, 1)).days % 3 == 0)
        on = find_peers_on_shift(line, (biweekly,), to_instant(datetime.combine(d, time(19)), NY))
        assert (1 in on) == ((d - date(2026, 12, 4)).days % 14 == 0)


def test_on_shift_lookup_does_not_walk_the_rule_from_its_start() -> None:
    daily = shift(datetime(2026, 1, 1, 9), time(17), "FREQ=DAILY")
    weekly = shift(datetime(2026, 1, 6, 9), time(17), "FREQ=WEEKLY;BYDAY=TU,TH", peer=2)
    line = line_24_7(NY)
    began = wallclock.perf_counter()
    for minute in range(0, 2000 * 7, 7):
        find_peers_on_shift(line, (daily, weekly), utc(2030, 6, 1) + timedelta(minutes=minute))
    # Walking four years of occurrences per call would take tens of seconds.
    assert wallclock.perf_counter() - began < 2.0


# --------------------------------------------------------------------------- shift end, next shift

BACK_TO_BACK = (
    *EXAMPLE_SHIFTS,
    shift(datetime(2026, 12, 1, 13), time(17), None, peer=SAM, shift_id=4),
)
ANA_AUTUMN = (shift(datetime(2026, 10, 1, 18), time(1), "FREQ=DAILY", peer=ANA, shift_id=5),)

SHIFT_END_CASES = [
    (EXAMPLE_SHIFTS, SAM, utc(2026, 12, 1, 15), utc(2026, 12, 1, 18)),  # "until 13:00"
    (BACK_TO_BACK, SAM, utc(2026, 12, 1, 15), utc(2026, 12, 1, 22)),  # 13:00 cover: "until 17:00"
    (EXAMPLE_SHIFTS, SAM, utc(2026, 12, 1, 18, 30), None),
    (EXAMPLE_SHIFTS, ANA, utc(2026, 12, 2, 5), utc(2026, 12, 2, 6)),
    (ANA_AUTUMN, ANA, utc(2026, 10, 31, 23), utc(2026, 11, 1, 5)),  # 01:00 EDT
    (ANA_AUTUMN, ANA, utc(2026, 11, 1, 23, 30), utc(2026, 11, 2, 6)),  # 01:00 EST
]


@pytest.mark.parametrize(("shifts", "peer", "at", "expected"), SHIFT_END_CASES)
def test_find_shift_end(
    shifts: tuple[ShiftRule, ...], peer: int, at: datetime, expected: datetime | None
) -> None:
    assert find_shift_end(EXAMPLE_LINE, shifts, peer, at) == expected


NEXT_SHIFT_CASES = [
    (EXAMPLE_SHIFTS, SAM, utc(2026, 11, 1), utc(2026, 12, 1, 14)),
    (EXAMPLE_SHIFTS, SAM, utc(2026, 12, 1, 15), utc(2026, 12, 3, 14)),  # on shift: the next one
    (EXAMPLE_SHIFTS, SAM, utc(2026, 12, 22, 19), utc(2026, 12, 29, 14)),  # Thu 24th skipped
    (EXAMPLE_SHIFTS, LEE, utc(2026, 12, 1), utc(2026, 12, 24, 14)),
    (EXAMPLE_SHIFTS, LEE, utc(2026, 12, 24, 14), None),  # the one-off has started
    (EXAMPLE_SHIFTS, 99, utc(2026, 12, 1), None),
    (ANA_AUTUMN, ANA, utc(2026, 11, 1, 5), utc(2026, 11, 1, 23)),  # 18:00 EST
    (
        (shift(datetime(2026, 12, 1, 9), time(13), "FREQ=DAILY;COUNT=2", peer=SAM),),
        SAM,
        utc(2026, 12, 2, 15),
        None,
    ),
]


@pytest.mark.parametrize(("shifts", "peer", "after", "expected"), NEXT_SHIFT_CASES)
def test_find_next_shift(
    shifts: tuple[ShiftRule, ...], peer: int, after: datetime, expected: datetime | None
) -> None:
    found = find_next_shift(EXAMPLE_LINE, shifts, peer, after)
    assert (found.start if found else None) == expected
    if found is not None:
        assert found.peer_id == peer and found.end > found.start


# --------------------------------------------------------------------------- line hours

CLOSED_SUNDAY = LineSchedule(1, NY, EXAMPLE_LINE.hours, frozenset({date(2026, 12, 25), date(2026, 12, 27)}))
LONDON_WEEKEND = LineSchedule(1, LONDON, (OpeningHours(WEEKEND, time(10), time(2)),))

HOURS_CASES = [
    # line, at, open?, next opening, close of the current opening
    (EXAMPLE_LINE, utc(2026, 12, 24, 17), True, utc(2026, 12, 24, 17), utc(2026, 12, 25, 4)),
    (EXAMPLE_LINE, utc(2026, 12, 24, 12, 59), False, utc(2026, 12, 24, 13), None),  # 07:59
    (EXAMPLE_LINE, utc(2026, 12, 25, 17), False, utc(2026, 12, 26, 15), None),  # closed date
    (EXAMPLE_LINE, utc(2026, 12, 26, 6), False, utc(2026, 12, 26, 15), None),  # Sat 01:00
    (EXAMPLE_LINE, utc(2026, 12, 27, 6, 30), True, utc(2026, 12, 27, 6, 30), utc(2026, 12, 27, 7)),
    (EXAMPLE_LINE, utc(2026, 12, 28, 6), True, utc(2026, 12, 28, 6), utc(2026, 12, 28, 7)),
    (EXAMPLE_LINE, utc(2026, 12, 28, 7), False, utc(2026, 12, 28, 13), None),  # Mon 02:00
    # A closed Sunday: Saturday's opening still runs to 02:00, Sunday never opens.
    (CLOSED_SUNDAY, utc(2026, 12, 27, 6, 30), True, utc(2026, 12, 27, 6, 30), utc(2026, 12, 27, 7)),
    (CLOSED_SUNDAY, utc(2026, 12, 27, 17), False, utc(2026, 12, 28, 13), None),
    # 24/7 with a closed date: the whole local day.
    (
        line_24_7(NY, (date(2026, 12, 25),)),
        utc(2026, 12, 25, 4, 59),
        True,
        utc(2026, 12, 25, 4, 59),
        utc(2026, 12, 25, 5),
    ),
    (line_24_7(NY, (date(2026, 12, 25),)), utc(2026, 12, 25, 5), False, utc(2026, 12, 26, 5), None),
    (line_24_7(NY), utc(2026, 12, 25, 5), True, utc(2026, 12, 25, 5), None),  # never closes
    # DST nights: the weekend opening ends at 02:00 local on the night's end date.
    (EXAMPLE_LINE, utc(2026, 11, 1, 6, 30), True, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 7)),
    (EXAMPLE_LINE, utc(2026, 11, 1, 7), False, utc(2026, 11, 1, 15), None),  # Sun 10:00 EST
    (EXAMPLE_LINE, utc(2026, 3, 8, 6, 59), True, utc(2026, 3, 8, 6, 59), utc(2026, 3, 8, 7)),  # gap edge
    (EXAMPLE_LINE, utc(2026, 3, 8, 7), False, utc(2026, 3, 8, 14), None),  # Sun 10:00 EDT
    (LONDON_WEEKEND, utc(2026, 3, 29, 0, 59), True, utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1)),
    (LONDON_WEEKEND, utc(2026, 3, 29, 1), False, utc(2026, 3, 29, 9), None),  # 10:00 BST
    (LONDON_WEEKEND, utc(2026, 10, 25, 1, 30), True, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2)),
    (LONDON_WEEKEND, utc(2026, 10, 26, 2), False, utc(2026, 10, 31, 10), None),  # Sat 10:00 GMT
]


@pytest.mark.parametrize(("line", "at", "is_open", "next_opening", "close"), HOURS_CASES)
def test_line_hours(
    line: LineSchedule,
    at: datetime,
    is_open: bool,
    next_opening: datetime,
    close: datetime | None,
) -> None:
    assert is_line_open(line, at) is is_open
    assert find_next_opening(line, at) == next_opening
    assert find_opening_close(line, at) == close


def test_next_opening_is_none_when_hours_name_no_day() -> None:
    never = LineSchedule(1, NY, (OpeningHours(frozenset(), time(9), time(17)),))
    assert find_next_opening(never, utc(2026, 12, 1)) is None
    assert not is_line_open(never, utc(2026, 12, 1, 15))


def test_list_line_openings_merges_touching_spans() -> None:
    line = LineSchedule(
        1,
        NY,
        (OpeningHours(WEEKDAYS, time(8), time(12)), OpeningHours(WEEKDAYS, time(12), time(23))),
    )
    openings = list_line_openings(line, utc(2026, 12, 1, 12), utc(2026, 12, 2, 12))
    assert [(s.start, s.end) for s in openings] == [
        (utc(2026, 12, 1, 13), utc(2026, 12, 2, 4)),
    ]


# --------------------------------------------------------------------------- coverage

TINY_LINE = LineSchedule(1, NY, (OpeningHours(WEEKDAYS, time(8), time(12)),))
TINY_ROSTER = (
    shift(datetime(2026, 12, 7, 8), time(10), "FREQ=DAILY", peer=1, shift_id=1),
    shift(datetime(2026, 12, 7, 9), time(11, 30), None, peer=2, shift_id=2),
    shift(datetime(2026, 12, 7, 10, 30), time(11), None, peer=3, shift_id=3),
    # The same peer twice at once counts once.
    shift(datetime(2026, 12, 7, 8), time(9), None, peer=1, shift_id=4),
)
MONDAY = (to_instant(datetime(2026, 12, 7), NY), to_instant(datetime(2026, 12, 8), NY))


@pytest.mark.parametrize(
    ("min_peers", "expected"),
    [
        (1, [(11, 0)]),
        (2, [(8, 1), (10, 1), (11, 0)]),
        (3, [(8, 1), (9, 2), (10, 1), (11, 0)]),
    ],
)
def test_find_coverage_gaps(min_peers: int, expected: list[tuple[int, int]]) -> None:
    gaps = find_coverage_gaps(TINY_LINE, TINY_ROSTER, *MONDAY, min_peers)
    assert [(g.local_start.hour, g.min_peers) for g in gaps] == expected
    assert all(g.local_start.date() == date(2026, 12, 7) for g in gaps)


def test_list_hour_coverage_counts_every_local_hour() -> None:
    hours = list_hour_coverage(TINY_LINE, TINY_ROSTER, *MONDAY)
    assert len(hours) == 24
    assert [(h.local_start.hour, h.min_peers, h.max_peers) for h in hours if h.max_peers] == [
        (8, 1, 1),
        (9, 2, 2),
        (10, 1, 2),
        (11, 0, 1),
    ]
    assert [h.local_start.hour for h in hours if h.is_open] == [8, 9, 10, 11]
    assert hours[8].start == utc(2026, 12, 7, 13) and hours[8].end == utc(2026, 12, 7, 14)


def test_coverage_over_fourteen_days_of_the_example_roster() -> None:
    start = to_instant(datetime(2026, 12, 21), NY)
    gaps = find_coverage_gaps(EXAMPLE_LINE, EXAMPLE_SHIFTS, start, start + timedelta(days=14), 1)
    by_day: dict[date, list[int]] = {}
    for gap in gaps:
        by_day.setdefault(gap.local_start.date(), []).append(gap.local_start.hour)
    weekday_gaps = [*range(8, 18)]  # Ana covers 18:00-23:00, and Sam Tue/Thu 09-13
    assert by_day[date(2026, 12, 21)] == [1, *weekday_gaps]  # Monday; Sun's 01-02 uncovered
    assert by_day[date(2026, 12, 22)] == [8, *range(13, 18)]  # Tuesday: Sam 09-13
    assert by_day[date(2026, 12, 24)] == [8, *range(13, 18)]  # Thursday: Lee covers Sam
    assert date(2026, 12, 25) not in by_day  # closed
    assert by_day[date(2026, 12, 26)] == [*range(10, 18)]  # Sat 10-02: Ana from 18 to 01
    assert by_day[date(2026, 12, 27)] == [1, *range(10, 18)]  # Sat's 01-02 uncovered
    assert by_day[date(2026, 12, 28)] == [1, *weekday_gaps]  # Sun's 01-02 uncovered


def test_coverage_slots_follow_local_hours_across_dst() -> None:
    # London spring-forward: local 01:00 does not exist, so the slot after 00:00 is 02:00 BST.
    shifts = (shift(datetime(2026, 3, 29, 0, 30), time(3)),)
    start, end = to_instant(datetime(2026, 3, 29), LONDON), to_instant(datetime(2026, 3, 29, 4), LONDON)
    hours = list_hour_coverage(line_24_7(LONDON), shifts, start, end)
    assert [(h.start, h.end, h.local_start.hour, h.min_peers) for h in hours] == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), 0, 0),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), 2, 1),
        (utc(2026, 3, 29, 2), utc(2026, 3, 29, 3), 3, 0),
    ]
    # New York fall-back: local 01:00 happens twice (EDT, then EST).
    shifts = (shift(datetime(2026, 11, 1, 1, 30), time(2, 30)),)
    start, end = to_instant(datetime(2026, 11, 1), NY), to_instant(datetime(2026, 11, 1, 3), NY)
    hours = list_hour_coverage(line_24_7(NY), shifts, start, end)
    assert [(h.start, h.local_start.hour, h.local_start.fold, h.min_peers, h.max_peers) for h in hours] == [
        (utc(2026, 11, 1, 4), 0, 0, 0, 0),
        (utc(2026, 11, 1, 5), 1, 0, 0, 1),
        (utc(2026, 11, 1, 6), 1, 1, 1, 1),
        (utc(2026, 11, 1, 7), 2, 0, 0, 1),
    ]
    gaps = find_coverage_gaps(line_24_7(NY), shifts, start, end, 1)
    assert [g.start for g in gaps] == [utc(2026, 11, 1, 4), utc(2026, 11, 1, 5), utc(2026, 11, 1, 7)]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=TU,TH",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        "FREQ=MONTHLY;BYDAY=1MO",
        "FREQ=DAILY;COUNT=10",
        "FREQ=DAILY;UNTIL=20261231",
        "FREQ=DAILY;UNTIL=20261231T235959Z",
        "RRULE:freq=weekly;byday=mo",
    ],
)
def test_validate_rrule_accepts(text: str) -> None:
    assert validate_rrule(text) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "one RRULE"),
        ("DTSTART=20260101T090000;FREQ=DAILY", "DTSTART"),
        ("FREQ=DAILY;EXDATE=20260102", "EXDATE"),
        ("BYDAY=MO", "FREQ is missing"),
        ("FREQ=FORTNIGHTLY", "not a valid RRULE"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("FREQ=DAILY;BOGUS=1", "not a valid RRULE"),
        ("every tuesday", "not a valid RRULE"),
        ("FREQ=HOURLY", "at most daily"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261201", "COUNT and UNTIL"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;UNTIL=2026-12-01", "UNTIL"),
        ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
    ],
)
def test_validate_rrule_rejects(text: str, words: str) -> None:
    error = validate_rrule(text)
    assert error is not None and words in error


def test_shift_rule_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at most daily"):
        shift(datetime(2026, 12, 1, 9), time(13), "FREQ=HOURLY")
    with pytest.raises(ValueError, match="naive"):
        shift(datetime(2026, 12, 1, 9, tzinfo=NY), time(13))
    with pytest.raises(ValueError, match="weekday"):
        OpeningHours(frozenset({7}), time(9), time(17))
