"""The coverage report: the hours in the next 14 days when a line is open with too few peers on shift."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from warmline import keys
from warmline.domain.schedule import find_coverage_gaps
from warmline.runtime import Runtime
from warmline.services.notifications import AdminNotifier
from warmline.services.schedules import active_lines, line_schedule, load_shift_rules

DEFAULT_MIN_PEERS = 2
DEFAULT_DAYS = 14


@dataclass(frozen=True)
class CoverageGap:
    """One local hour of a line that is open with fewer than the wanted number of peers."""

    line_id: int
    line_name: str
    timezone: str
    local_start: datetime
    """Aware, in the line's zone (``fold`` tells a repeated fall-back hour)."""
    local_end: datetime
    peers: int
    """Fewest peers on shift at any open instant of the hour."""


@dataclass(frozen=True)
class CoverageReport:
    generated_at: datetime
    start: datetime
    end: datetime
    min_peers: int
    gaps: tuple[CoverageGap, ...]


def build_coverage_report(
    runtime: Runtime, now: datetime, *, days: int = DEFAULT_DAYS, min_peers: int = DEFAULT_MIN_PEERS
) -> CoverageReport:
    """Every active line's uncovered hours from `now` for `days` days (active peers' shifts only)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now + timedelta(days=days)
    gaps: list[CoverageGap] = []
    with runtime.sessions() as session:
        lines = list(active_lines(session))
        rules = load_shift_rules(session, [line.id for line in lines])
    for line in lines:
        schedule = line_schedule(line)
        for hour in find_coverage_gaps(schedule, rules, now, end, min_peers):
            gaps.append(
                CoverageGap(
                    line_id=line.id,
                    line_name=line.name,
                    timezone=line.timezone,
                    local_start=hour.local_start,
                    local_end=hour.end.astimezone(schedule.timezone),
                    peers=hour.min_peers,
                )
            )
    return CoverageReport(generated_at=now, start=now, end=end, min_peers=min_peers, gaps=tuple(gaps))


def _peers_label(count: int) -> str:
    return "nobody on shift" if count == 0 else f"{count} peer{'s' if count != 1 else ''} on shift"


def _merge_runs(gaps: Sequence[CoverageGap]) -> list[tuple[datetime, datetime, int]]:
    """Consecutive hours with the same staffing, as one span."""
    runs: list[tuple[datetime, datetime, int]] = []
    for gap in gaps:
        if runs and runs[-1][1] == gap.local_start and runs[-1][2] == gap.peers:
            runs[-1] = (runs[-1][0], gap.local_end, gap.peers)
        else:
            runs.append((gap.local_start, gap.local_end, gap.peers))
    return runs


def render_coverage_report(report: CoverageReport) -> str:
    """The report as plain text: per line, per local day, the spans of thin hours."""
    header = (
        f"Coverage for the next {round((report.end - report.start) / timedelta(days=1))} days: "
        f"hours open with fewer than {report.min_peers} peers on shift."
    )
    if not report.gaps:
        return header + "\nEvery open hour is covered."
    lines = [header]
    for (line_id, name, zone), line_gaps in groupby(
        report.gaps, key=lambda g: (g.line_id, g.line_name, g.timezone)
    ):
        lines.append("")
        lines.append(f"{name} (line {line_id}, {zone})")
        for day, day_gaps in groupby(line_gaps, key=lambda g: g.local_start.date()):
            spans = ", ".join(
                f"{start:%H:%M}-{end:%H:%M} ({_peers_label(peers)})"
                for start, end, peers in _merge_runs(list(day_gaps))
            )
            lines.append(f"  {day:%a %d %b}: {spans}")
    return "\n".join(lines)


def send_coverage_report(
    runtime: Runtime, now: datetime, notifier: AdminNotifier, *, min_peers: int = DEFAULT_MIN_PEERS
) -> CoverageReport | None:
    """Build and send the report, once per UTC day (a retried or repeated job sends nothing twice)."""
    marker = keys.coverage_report_sent(now.astimezone(UTC).date())
    if runtime.redis.exists(marker):
        return None
    report = build_coverage_report(runtime, now, min_peers=min_peers)
    subject = (
        f"Coverage: {len(report.gaps)} thin hour{'s' if len(report.gaps) != 1 else ''} in the next 14 days"
    )
    notifier.send_coverage_report(subject=subject, body=render_coverage_report(report))
    runtime.redis.set(marker, "1", ex=keys.ONCE_MARKER_TTL_SECONDS)
    return report
