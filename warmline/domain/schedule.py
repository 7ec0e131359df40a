"""Shift rosters and line hours in a line's local time: who is on shift, when a line is open.

Pure and clock-free: every instant is a parameter and must be timezone-aware; results are aware
UTC datetimes unless a field says otherwise. Rules and hours are written in the line's local wall
time (naive ``datetime``/``time`` values) and resolved to instants with the rules below.

Local time to instant (DST)
    * A local time that does not exist (the spring-forward gap) is moved forward by the length of
      the gap: 02:30 on 2026-03-08 in America/New_York is 03:30 EDT (07:30 UTC). This is
      RFC 5545's rule (the UTC offset from before the gap), what calendar apps do, and PEP 495's
      ``fold=0``. A start or close at exactly the gap's edge (02:00) lands on the first valid
      instant (03:00).
    * A local time that happens twice (the fall-back overlap) means its first occurrence
      (``fold=0``, still summer time): 01:30 on 2026-11-01 in New York is 05:30 UTC.
    * A shift (or an opening) ends at its local end time on its end date, resolved the same way.
      So an overnight shift across fall-back lasts one hour longer in real time and one across
      spring-forward one hour shorter. A span whose resolved end is not after its resolved start
      (only possible when it starts inside the gap and ends less than the gap's length after
      it, e.g. 02:30-03:00 on the spring-forward night) is empty: it never happens.

Shifts
    * ``start_local`` is the first occurrence's local start; its time of day is every
      occurrence's start time. ``end_local`` earlier than or equal to that time means the next
      day, so a shift lasts more than 0 and at most 24 hours of wall time (25 real hours at most,
      across fall-back).
    * A recurring shift expands its RRULE in naive local time (so "every day 09:00" stays 09:00
      local across DST), then each occurrence is localised. As in dateutil, ``start_local`` is
      the anchor: occurrences are the rule's dates on or after it, and a start that the rule
      does not produce (e.g. a Wednesday for ``BYDAY=TU``) is not itself an occurrence.
    * ``UNTIL`` may be a local date (inclusive: occurrences starting on that date still happen),
      a local date-time, or a UTC date-time (``...Z``, first read as the line's wall time); an
      occurrence happens when its naive local start is on or before it. ``COUNT`` counts
      occurrences before skips, as RFC 5545 counts them before ``EXDATE``.
    * ``skip_dates`` removes every occurrence whose *local start date* is listed, so skipping the
      date of an overnight shift removes the whole night, including its hours after midnight.
    * A rule repeats at most daily (no ``HOURLY``/``MINUTELY``/``SECONDLY``) and takes its time of
      day from ``start_local`` (no ``BYHOUR``/``BYMINUTE``/``BYSECOND``), so there is at most one
      occurrence per local date and a skip date names exactly one occurrence.

Line hours
    * No opening hours at all (an empty ``hours`` tuple) means open 24/7.
    * An opening's ``close`` earlier than or equal to ``open`` runs past midnight into the next
      day (equal: 24 hours).
    * A closed date is a local date on which the line does not *open*: an overnight opening that
      began the day before still runs to its close (Saturday 10:00-02:00 still ends at 02:00 on a
      closed Sunday). On a 24/7 line a closed date closes the whole local day, 00:00 to 24:00.
    * Spans are half-open ``[start, end)``: a shift ending at 13:00 is over at 13:00, and a peer
      whose shift starts at 13:00 is on from 13:00.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from warmline.domain.numbers import parse_whole_number

MAX_SHIFT_WALL = timedelta(hours=24)
"""A shift lasts at most 24 hours of local wall time (its end is given as a time of day)."""

# Real-time slack around a wall-clock search: an occurrence's instant may differ from the naive
# reading of its local time by one DST shift (an hour almost everywhere, two at most in history).
_DST_SLACK = timedelta(hours=2)

OPEN_SEARCH_DAYS = 400
"""How far ahead the next opening or the current opening's close is looked for."""

_SUB_DAILY = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
_FORBIDDEN_LINES = ("DTSTART", "EXDATE", "RDATE", "EXRULE")


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class TimeSpan:
    """A half-open span of time ``[start, end)`` between two aware instants."""

    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class ShiftRule:
    """A shift as the roster states it: a one-off (``rrule`` None) or a recurring series."""

    shift_id: int
    peer_id: int
    line_id: int
    start_local: datetime
    """Naive, in the line's local time: the first occurrence's start and every one's time of day."""
    end_local: time
    """Local end time; earlier than or equal to the start's time means the next day."""
    rrule: str | None = None
    """An RFC 5545 RRULE without DTSTART, e.g. ``FREQ=WEEKLY;BYDAY=TU,TH``; None for a one-off."""
    skip_dates: frozenset[date] = frozenset()
    """Local dates whose occurrence (by its start date) does not happen."""

    def __post_init__(self) -> None:
        if self.start_local.tzinfo is not None or self.end_local.tzinfo is not None:
            raise ValueError("shift start and end are naive local times of the line")
        if self.rrule is not None:
            error = validate_rrule(self.rrule)
            if error is not None:
                raise ValueError(error)


@dataclass(frozen=True)
class ShiftOccurrence:
    """One occurrence of a shift, as real instants (aware UTC)."""

    shift_id: int
    peer_id: int
    line_id: int
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class OpeningHours:
    """The line opens at ``open`` on each weekday in ``days`` (0 = Monday) and closes at ``close``.

    ``close`` earlier than or equal to ``open`` is on the next day (past midnight).
    """

    days: frozenset[int]
    open: time
    close: time

    def __post_init__(self) -> None:
        if not self.days <= frozenset(range(7)):
            raise ValueError("opening days are weekday numbers 0 (Monday) to 6 (Sunday)")
        if self.open.tzinfo is not None or self.close.tzinfo is not None:
            raise ValueError("opening hours are naive local times of the line")


@dataclass(frozen=True)
class LineSchedule:
    """What the schedule needs to know about a line: its zone, hours and closed dates."""

    line_id: int
    timezone: ZoneInfo
    hours: tuple[OpeningHours, ...] = ()
    """Empty: open 24/7."""
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    """Local dates on which the line does not open."""


@dataclass(frozen=True)
class HourCoverage:
    """Staffing of one local hour of a line (a slot from one local o'clock to the next)."""

    start: datetime
    """Aware UTC."""
    end: datetime
    """Aware UTC."""
    local_start: datetime
    """The same instant as ``start``, aware in the line's zone (``fold`` tells a repeated hour)."""
    is_open: bool
    """The line is open at some instant of the hour."""
    min_peers: int
    """Fewest distinct peers on shift at any instant of the hour when the line is open (over the
    whole hour when it is closed throughout)."""
    max_peers: int
    """Most distinct peers on shift at any instant of the hour."""


# --------------------------------------------------------------------------- RRULEs


def validate_rrule(text: str) -> str | None:
    """Return why ``text`` is not a usable shift RRULE, or None when it is."""
    if not text or not text.strip():
        return "the rule is empty"
    upper = text.strip().upper()
    if "\n" in upper or "\r" in upper:
        return "one RRULE only; put the first date in the shift's start and exceptions in skip"
    if any(name in upper for name in _FORBIDDEN_LINES):
        return (
            "DTSTART, RDATE, EXDATE and EXRULE do not belong in the rule: the shift's start gives"
            " the first date and time, skip lists the dates that do not happen"
        )
    try:
        parts = _split_rule(upper)
    except ValueError as exc:
        return f"not a valid RRULE: {exc}"
    freq = parts.get("FREQ")
    if freq is None:
        return "not a valid RRULE: FREQ is missing"
    if freq in _SUB_DAILY:
        return f"FREQ={freq} is not supported: a shift repeats at most daily"
    if "COUNT" in parts and "UNTIL" in parts:
        return "COUNT and UNTIL cannot both be set"
    interval = parts.get("INTERVAL", "1")
    if (parse_whole_number(interval, maximum=999) or 0) < 1:
        return f"INTERVAL={interval} is not a positive whole number"
    if used := sorted(_TIME_PARTS & parts.keys()):
        return f"{', '.join(used)} not supported: the time of day comes from the shift's start"
    try:
        _build_rrule(_normalise_rule(parts, ZoneInfo("UTC")), datetime(2026, 1, 1))
    except ValueError as exc:
        return f"not a valid RRULE: {exc}"
    return None


def _split_rule(upper: str) -> dict[str, str]:
    body = upper.removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in body.split(";"):
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{item!r} is not NAME=VALUE")
        if name in parts:
            raise ValueError(f"{name} is given twice")
        parts[name] = value
    return parts


def _normalise_rule(parts: dict[str, str], zone: ZoneInfo) -> str:
    # dateutil refuses a UTC UNTIL with a naive start and reads a date UNTIL as midnight; the
    # expansion runs in naive local time, so UNTIL is turned into an inclusive local date-time.
    rebuilt = dict(parts)
    until = parts.get("UNTIL")
    if until is not None:
        rebuilt["UNTIL"] = _local_until(until, zone).strftime("%Y%m%dT%H%M%S")
    return ";".join(f"{name}={value}" for name, value in rebuilt.items())


def _local_until(value: str, zone: ZoneInfo) -> datetime:
    try:
        if len(value) == 8:
            return datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time.max)
        if value.endswith("Z"):
            instant = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return instant.astimezone(zone).replace(tzinfo=None, fold=0)
        return datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError:
        raise ValueError(f"UNTIL={value} is not a date or date-time") from None


def _build_rrule(normalised: str, dtstart: datetime) -> rrule:
    built = rrulestr(normalised, dtstart=dtstart)
    if not isinstance(built, rrule):  # only a multi-line text gives an rruleset
        raise ValueError("one RRULE only")
    return built


@lru_cache(maxsize=1024)
def _parsed(text: str, zone: ZoneInfo) -> tuple[str, dict[str, str]]:
    parts = _split_rule(text.strip().upper())
    return _normalise_rule(parts, zone), parts


@lru_cache(maxsize=8192)
def _recurrence(normalised: str, dtstart: datetime) -> rrule:
    return _build_rrule(normalised, dtstart)


def _anchored_rule(shift: ShiftRule, rule_text: str, zone: ZoneInfo, lo: datetime) -> rrule:
    """The shift's rule, started as late as possible before ``lo`` without changing its dates.

    dateutil always iterates from DTSTART, so a daily shift begun years ago would be walked day
    by day on every lookup. A DAILY or WEEKLY rule without COUNT repeats exactly every
    INTERVAL days or weeks, so moving DTSTART forward by whole periods yields the same
    occurrences from the new start on (BYxxx filters are absolute, and the week grid and
    time of day are kept). The new start moves in steps of about four weeks so the parsed rule
    is reused from the cache between lookups.
    """
    normalised, parts = _parsed(rule_text, zone)
    freq = parts["FREQ"]
    start = shift.start_local
    if "COUNT" in parts or freq not in ("DAILY", "WEEKLY") or lo <= start:
        return _recurrence(normalised, start)
    interval = int(parts.get("INTERVAL", "1"))
    period_days = interval * (1 if freq == "DAILY" else 7)
    periods = math.floor((lo - start) / timedelta(days=period_days))
    step = max(1, 28 // period_days)
    periods -= periods % step
    return _recurrence(normalised, start + timedelta(days=periods * period_days))


# --------------------------------------------------------------------------- shifts


def list_shift_occurrences(
    shift: ShiftRule, zone: ZoneInfo, start: datetime, end: datetime
) -> list[ShiftOccurrence]:
    """Occurrences of ``shift`` (in a line of ``zone``) overlapping ``[start, end)``, by start."""
    start, end = _utc(start), _utc(end)
    lo = _wall(start, zone) - MAX_SHIFT_WALL - _DST_SLACK
    hi = _wall(end, zone) + _DST_SLACK
    found = [
        occurrence
        for occurrence in _occurrences_starting(shift, zone, lo, hi)
        if occurrence.start < end and occurrence.end > start
    ]
    return sorted(found, key=lambda occurrence: occurrence.start)


def find_peers_on_shift(line: LineSchedule, shifts: Iterable[ShiftRule], at: datetime) -> frozenset[int]:
    """Ids of the peers on shift for ``line`` at the instant ``at`` (line hours not considered)."""
    return frozenset(occ.peer_id for occ in _covering(line, shifts, _utc(at)))


def find_shift_end(
    line: LineSchedule, shifts: Iterable[ShiftRule], peer_id: int, at: datetime
) -> datetime | None:
    """When the peer's time on shift for ``line`` that covers ``at`` ends; None if off shift.

    Back-to-back or overlapping shifts count as one stretch ("on shift until 17:00", not 13:00).
    """
    own = [s for s in shifts if s.peer_id == peer_id and s.line_id == line.line_id]
    covering = _covering(line, own, _utc(at))
    if not covering:
        return None
    until = max(occ.end for occ in covering)
    # A stretch is at most a few shifts long; the bound only guards against a pathological roster.
    for _ in range(64):
        following = _covering(line, own, until)
        if not following:
            break
        until = max(occ.end for occ in following)
    return until


def find_next_shift(
    line: LineSchedule, shifts: Iterable[ShiftRule], peer_id: int, after: datetime
) -> ShiftOccurrence | None:
    """The peer's first occurrence on ``line`` starting strictly after ``after``; None if none."""
    after = _utc(after)
    zone = line.timezone
    lo = _wall(after, zone) - _DST_SLACK
    best: ShiftOccurrence | None = None
    for shift in shifts:
        if shift.peer_id != peer_id or shift.line_id != line.line_id:
            continue
        for occurrence in _occurrences_from(shift, zone, lo):
            if occurrence.start > after:
                if best is None or occurrence.start < best.start:
                    best = occurrence
                break
    return best


def _covering(line: LineSchedule, shifts: Iterable[ShiftRule], at: datetime) -> list[ShiftOccurrence]:
    zone = line.timezone
    wall = _wall(at, zone)
    # Only an occurrence that started at most one shift length before ``at`` can cover it.
    lo, hi = wall - MAX_SHIFT_WALL - _DST_SLACK, wall + _DST_SLACK
    return [
        occurrence
        for shift in shifts
        if shift.line_id == line.line_id
        for occurrence in _occurrences_starting(shift, zone, lo, hi)
        if occurrence.contains(at)
    ]


def _occurrences_starting(
    shift: ShiftRule, zone: ZoneInfo, lo: datetime, hi: datetime
) -> Iterator[ShiftOccurrence]:
    """Occurrences whose naive local start lies in ``[lo, hi]`` (skips and empty ones left out)."""
    if shift.rrule is None:
        starts: Iterable[datetime] = [shift.start_local] if lo <= shift.start_local <= hi else []
    else:
        starts = _anchored_rule(shift, shift.rrule, zone, lo).between(lo, hi, inc=True)
    for local_start in starts:
        occurrence = _occurrence_at(shift, zone, local_start)
        if occurrence is not None:
            yield occurrence


def _occurrences_from(shift: ShiftRule, zone: ZoneInfo, lo: datetime) -> Iterator[ShiftOccurrence]:
    """Occurrences whose naive local start is at or after ``lo``, in order; ends with the rule."""
    if shift.rrule is None:
        starts: Iterable[datetime] = [shift.start_local] if shift.start_local >= lo else []
    else:
        starts = _anchored_rule(shift, shift.rrule, zone, lo).xafter(lo, inc=True)
    for local_start in starts:
        occurrence = _occurrence_at(shift, zone, local_start)
        if occurrence is not None:
            yield occurrence


def _occurrence_at(shift: ShiftRule, zone: ZoneInfo, local_start: datetime) -> ShiftOccurrence | None:
    if local_start.date() in shift.skip_dates:
        return None
    span = _local_span(zone, local_start, shift.end_local)
    if span is None:
        return None
    return ShiftOccurrence(shift.shift_id, shift.peer_id, shift.line_id, span.start, span.end)


# --------------------------------------------------------------------------- line hours


def list_line_openings(line: LineSchedule, start: datetime, end: datetime) -> list[TimeSpan]:
    """When ``line`` is open, as merged spans overlapping ``[start, end)`` (not clipped to it)."""
    start, end = _utc(start), _utc(end)
    first = _wall(start, line.timezone).date() - timedelta(days=1)
    last = _wall(end, line.timezone).date() + timedelta(days=1)
    spans = [
        span
        for offset in range((last - first).days + 1)
        for span in _day_openings(line, first + timedelta(days=offset))
    ]
    return [span for span in _merge(spans) if span.start < end and span.end > start]


def is_line_open(line: LineSchedule, at: datetime) -> bool:
    """Whether ``line`` takes contacts at the instant ``at`` (hours and closed dates)."""
    return _opening_at(line, _utc(at)) is not None


def find_next_opening(line: LineSchedule, at: datetime) -> datetime | None:
    """``at`` itself when the line is open then, else when it next opens; None if not within
    ``OPEN_SEARCH_DAYS`` (e.g. hours that name no day)."""
    at = _utc(at)
    if _opening_at(line, at) is not None:
        return at
    first = _wall(at, line.timezone).date() - timedelta(days=1)
    # Openings of later dates start later (dates are a day apart, DST moves them an hour at
    # most), so the first week holding one holds the answer.
    for week in range(0, OPEN_SEARCH_DAYS, 7):
        starts = [
            span.start
            for offset in range(week, week + 7)
            for span in _day_openings(line, first + timedelta(days=offset))
            if span.start > at
        ]
        if starts:
            return min(starts)
    return None


def find_opening_close(line: LineSchedule, at: datetime) -> datetime | None:
    """When the opening that covers ``at`` closes (openings that touch or overlap count as one).

    None when the line is closed at ``at``, or stays open for all of ``OPEN_SEARCH_DAYS`` (a
    24/7 line with no closed date ahead).
    """
    at = _utc(at)
    current = _opening_at(line, at)
    if current is None:
        return None
    until = current.end
    for _ in range(OPEN_SEARCH_DAYS):
        following = _opening_at(line, until)
        if following is None:
            return until
        until = following.end
    return None


def _opening_at(line: LineSchedule, at: datetime) -> TimeSpan | None:
    """The opening covering ``at`` that lasts longest, if any."""
    day = _wall(at, line.timezone).date()
    covering = [
        span
        for offset in (-1, 0, 1)
        for span in _day_openings(line, day + timedelta(days=offset))
        if span.contains(at)
    ]
    return max(covering, key=lambda span: span.end, default=None)


def _day_openings(line: LineSchedule, day: date) -> list[TimeSpan]:
    """The openings that begin on the local date ``day``."""
    if day in line.closed_dates:
        return []
    zone = line.timezone
    if not line.hours:
        span = _local_span(zone, datetime.combine(day, time()), time())
        return [] if span is None else [span]
    spans: list[TimeSpan] = []
    for hours in line.hours:
        if day.weekday() in hours.days:
            span = _local_span(zone, datetime.combine(day, hours.open), hours.close)
            if span is not None:
                spans.append(span)
    return spans


# --------------------------------------------------------------------------- coverage


def list_hour_coverage(
    line: LineSchedule, shifts: Iterable[ShiftRule], start: datetime, end: datetime
) -> list[HourCoverage]:
    """Peers on shift for every local hour of ``line`` overlapping ``[start, end)``.

    Hours are aligned to the line's local o'clock; a repeated fall-back hour appears twice
    (``local_start.fold`` tells them apart) and a skipped spring-forward hour not at all.
    """
    slots = _hour_slots(line.timezone, _utc(start), _utc(end))
    if not slots:
        return []
    window_start, window_end = slots[0].start, slots[-1].end
    line_shifts = [s for s in shifts if s.line_id == line.line_id]
    occurrences = [
        occ
        for shift in line_shifts
        for occ in list_shift_occurrences(shift, line.timezone, window_start, window_end)
    ]
    openings = list_line_openings(line, window_start, window_end)
    return [_slot_coverage(line.timezone, slot, occurrences, openings) for slot in slots]


def find_coverage_gaps(
    line: LineSchedule,
    shifts: Iterable[ShiftRule],
    start: datetime,
    end: datetime,
    min_peers: int,
) -> list[HourCoverage]:
    """The local hours in ``[start, end)`` when ``line`` is open with fewer than ``min_peers``
    peers on shift at some instant (``min_peers`` of each hour says how few)."""
    return [
        hour
        for hour in list_hour_coverage(line, shifts, start, end)
        if hour.is_open and hour.min_peers < min_peers
    ]


def _hour_slots(zone: ZoneInfo, start: datetime, end: datetime) -> list[TimeSpan]:
    local = start.astimezone(zone)
    slot_start = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    slots: list[TimeSpan] = []
    while slot_start < end:
        slot_end = slot_start + timedelta(hours=1)
        # Zones with a half-hour DST shift (Lord Howe) put o'clock off the UTC hour grid.
        misaligned = slot_end.astimezone(zone)
        slot_end -= timedelta(minutes=misaligned.minute, seconds=misaligned.second)
        if slot_end <= slot_start:
            slot_end = slot_start + timedelta(hours=1)
        slots.append(TimeSpan(slot_start, slot_end))
        slot_start = slot_end
    return slots


def _slot_coverage(
    zone: ZoneInfo,
    slot: TimeSpan,
    occurrences: list[ShiftOccurrence],
    openings: list[TimeSpan],
) -> HourCoverage:
    inside = [occ for occ in occurrences if occ.start < slot.end and occ.end > slot.start]
    open_spans = [span for span in openings if span.start < slot.end and span.end > slot.start]
    # Staffing and hours only change at these instants, so checking each piece's first instant
    # checks the whole piece.
    cuts = {slot.start}
    edges = [(o.start, o.end) for o in inside] + [(o.start, o.end) for o in open_spans]
    for edge in edges:
        for instant in edge:
            if slot.start < instant < slot.end:
                cuts.add(instant)
    open_counts: list[int] = []
    all_counts: list[int] = []
    for instant in sorted(cuts):
        count = len({occ.peer_id for occ in inside if occ.contains(instant)})
        all_counts.append(count)
        if any(span.contains(instant) for span in open_spans):
            open_counts.append(count)
    return HourCoverage(
        start=slot.start,
        end=slot.end,
        local_start=slot.start.astimezone(zone),
        is_open=bool(open_counts),
        min_peers=min(open_counts or all_counts),
        max_peers=max(all_counts),
    )


# --------------------------------------------------------------------------- local time


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return at.astimezone(UTC)


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall time of an instant."""
    return at.astimezone(zone).replace(tzinfo=None, fold=0)


def to_instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time of ``zone`` as an aware UTC instant, by the module's DST rules."""
    # fold=0 is exactly the documented rule: the earlier reading of a repeated time, and the
    # pre-transition offset (i.e. moved forward by the gap) for a time inside a gap.
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local_span(zone: ZoneInfo, local_start: datetime, end: time) -> TimeSpan | None:
    end_date = local_start.date()
    if end <= local_start.time():
        end_date += timedelta(days=1)
    start_at = to_instant(local_start, zone)
    end_at = to_instant(datetime.combine(end_date, end), zone)
    return TimeSpan(start_at, end_at) if end_at > start_at else None


def _merge(spans: Iterable[TimeSpan]) -> list[TimeSpan]:
    merged: list[TimeSpan] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = TimeSpan(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged
