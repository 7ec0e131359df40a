"""Reports for admins: a line's aggregate figures over a range of days, and per-peer load.

Everything here is aggregate. The figures come from the daily aggregates (what survives
retention); per-peer load counts contacts per peer from the event log, so it covers only the
line's retention window, and it is listed by name, never ranked: it is there for fairness and care.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, func, select

from warmline.models import ContactEvent, DailyAggregate, EventKind, Experience, Line, Peer
from warmline.runtime import Runtime
from warmline.services.upkeep.aggregates import (
    TRANSFER_KINDS,
    ReportTotals,
    local_day_bounds,
    read_report,
)
from warmline.wording import N_

DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 366
# Where a transferred call went, as the reports page and the CSV name it.
TRANSFER_LABELS = {
    "crisis_warm": N_("Crisis line, brought in by the peer"),
    "crisis_keypad": N_("Crisis line, the caller pressed 9"),
    "peer": N_("Another peer"),
    "admin": N_("The admin on shift"),
    "backup": N_("The backup line"),
}
# A peer "took" a contact when a call was bridged to them or they accepted a text conversation.
_TAKEN = (EventKind.BRIDGED.value, EventKind.ACCEPTED.value)


@dataclass(frozen=True)
class DayFigures:
    day: date
    offered: int
    answered: int
    abandoned: int

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.offered if self.offered else None


@dataclass(frozen=True)
class PeerLoad:
    name: str
    contacts: int
    share: float | None


@dataclass(frozen=True)
class Report:
    line_id: int
    line_name: str
    start: date
    end: date
    channel: str | None
    totals: ReportTotals
    days: list[DayFigures]
    by_hour: list[tuple[int, int]]  # all 24 local hours
    by_experience: list[tuple[str, int]]
    peer_load: list[PeerLoad]
    retention_days: int


def parse_range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    """The chosen local days (inclusive); the last four weeks when missing or malformed."""
    try:
        end = date.fromisoformat(end_text) if end_text else today
    except ValueError:
        end = today
    try:
        start = date.fromisoformat(start_text) if start_text else end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    except ValueError:
        start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        start, end = end, start
    if (end - start).days >= MAX_RANGE_DAYS:
        start = end - timedelta(days=MAX_RANGE_DAYS - 1)
    return start, end


def build_report(
    runtime: Runtime, line_id: int, start: date, end: date, channel: str | None
) -> Report | None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            return None
        name, zone, retention = line.name, ZoneInfo(line.timezone), line.retention_days
        labels = {row.key: row.label for row in session.execute(select(Experience.key, Experience.label))}
        query = select(DailyAggregate.day, func.sum(DailyAggregate.offered),
                       func.sum(DailyAggregate.answered), func.sum(DailyAggregate.abandoned)).where(
            DailyAggregate.line_id == line_id, DailyAggregate.day >= start, DailyAggregate.day <= end)
        if channel is not None:
            query = query.where(DailyAggregate.channel == channel)
        per_day = {row[0]: row for row in session.execute(query.group_by(DailyAggregate.day))}
        load = _peer_load(session.execute(_load_query(line_id, zone, start, end, channel)).all())
    totals = read_report(runtime, line_id=line_id, start=start, end=end, channel=channel)
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        found = per_day.get(day)
        days.append(DayFigures(day, int(found[1]) if found else 0, int(found[2]) if found else 0,
                               int(found[3]) if found else 0))
    return Report(
        line_id=line_id, line_name=name, start=start, end=end, channel=channel, totals=totals,
        days=days,
        by_hour=[(hour, totals.offered_by_hour.get(hour, 0)) for hour in range(24)],
        by_experience=sorted(((labels.get(k, k) if k else "Anyone", n)
                              for k, n in totals.offered_by_experience.items()), key=lambda i: i[0]),
        peer_load=load, retention_days=retention,
    )


def _load_query(
    line_id: int, zone: ZoneInfo, start: date, end: date, channel: str | None
) -> Select[str, int]:
    lo = local_day_bounds(zone, start)[0]
    hi = local_day_bounds(zone, end)[1]
    query = (
        select(Peer.name, func.count(func.distinct(ContactEvent.contact_id)))
        .join(Peer, Peer.id == ContactEvent.peer_id)
        .where(ContactEvent.line_id == line_id, ContactEvent.kind.in_(_TAKEN),
               ContactEvent.at >= lo, ContactEvent.at < hi)
        .group_by(Peer.name)
    )
    if channel is not None:
        query = query.where(ContactEvent.channel == channel)
    return query


def _peer_load(found: Sequence[Row[str, int]]) -> list[PeerLoad]:
    rows = [(str(name), int(count)) for name, count in found]
    total = sum(count for _, count in rows)
    # By name, never by count: this is not a league table.
    return [PeerLoad(name, count, count / total if total else None) for name, count in sorted(rows)]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


# A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(...)` in a
# peer's name); tab and carriage return start one too in some of them (OWASP's CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading `'`; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _FormulaSafeWriter:
    """csv.writer whose text cells pass through `csv_cell` (names and labels are typed by admins)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def report_csv(report: Report) -> str:
    """The report as CSV: one section per table, each with its own header row."""
    out = io.StringIO()
    writer = _FormulaSafeWriter(out)
    t = report.totals
    writer.writerow(["line", report.line_name, "from", report.start.isoformat(), "to", report.end.isoformat(),
                     "channel", report.channel or "all"])
    writer.writerow([])
    writer.writerow(["figure", "value"])
    for label, value in (
        ("offered", t.offered), ("answered", t.answered), ("answer rate %", _pct(t.answer_rate)),
        ("abandoned", t.abandoned), ("abandonment %", _pct(t.abandon_rate)),
        ("time to answer p50 (s)", "" if t.answer_seconds_p50 is None else t.answer_seconds_p50),
        ("time to answer p90 (s)", "" if t.answer_seconds_p90 is None else t.answer_seconds_p90),
        ("mean duration (s)", "" if t.mean_duration_seconds is None else round(t.mean_duration_seconds)),
        ("callbacks", t.callbacks), ("transfers", t.transfers),
        *((f"transfers: {TRANSFER_LABELS[kind]}", t.transfers_by_kind.get(kind, 0))
          for kind in TRANSFER_KINDS),
        ("mentor joined", t.mentored),
        ("repeat contacts", t.repeat_contacts), ("repeat share %", _pct(t.repeat_share)),
    ):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(["day", "offered", "answered", "abandoned", "answer rate %"])
    for day in report.days:
        writer.writerow([day.day.isoformat(), day.offered, day.answered, day.abandoned,
                         _pct(day.answer_rate)])
    writer.writerow([])
    writer.writerow(["local hour", "offered"])
    writer.writerows(report.by_hour)
    writer.writerow([])
    writer.writerow(["experience", "offered"])
    writer.writerows(report.by_experience)
    writer.writerow([])
    writer.writerow(["peer", "contacts taken", "share %"])
    for load in report.peer_load:
        writer.writerow([load.name, load.contacts, _pct(load.share)])
    return out.getvalue()
