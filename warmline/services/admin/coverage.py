"""The coverage report: the hours in the next 14 days when a line is open with too few peers on shift."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import groupby

from babel.dates import format_date

from warmline import epoch, keys
from warmline.catalogs import SOURCE_LANGUAGE, locale_of
from warmline.domain.schedule import find_coverage_gaps
from warmline.models import Line
from warmline.runtime import Runtime
from warmline.services.admin.notices import NoticeKind, post_notice
from warmline.services.notifications import AdminNotifier
from warmline.services.peers.support import admins_of
from warmline.services.schedules import active_lines, line_schedule, load_shift_rules
from warmline.wording import N_, Joined, LocalMoment, Wording, said_in

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


def _peers_words(count: int) -> Wording:
    if count == 0:
        return N_("nobody on shift")
    return N_("1 peer on shift") if count == 1 else N_("%(count)s peers on shift", count=count)


def _merge_runs(gaps: Sequence[CoverageGap]) -> list[tuple[datetime, datetime, int]]:
    """Consecutive hours with the same staffing, as one span."""
    runs: list[tuple[datetime, datetime, int]] = []
    for gap in gaps:
        if runs and runs[-1][1] == gap.local_start and runs[-1][2] == gap.peers:
            runs[-1] = (runs[-1][0], gap.local_end, gap.peers)
        else:
            runs.append((gap.local_start, gap.local_end, gap.peers))
    return runs


def render_coverage_report(report: CoverageReport, language: str = SOURCE_LANGUAGE) -> str:
    """The report as plain text in `language`: per line, per local day, the spans of thin hours."""
    header = said_in(language, N_(
        "Coverage for the next %(days)s days: hours open with fewer than %(peers)s peers on shift.",
        days=round((report.end - report.start) / timedelta(days=1)), peers=report.min_peers))
    if not report.gaps:
        return f"{header}\n{said_in(language, N_('Every open hour is covered.'))}"
    lines = [str(header)]
    for (line_id, name, zone), line_gaps in groupby(
        report.gaps, key=lambda g: (g.line_id, g.line_name, g.timezone)
    ):
        lines.append("")
        lines.append(str(said_in(language, N_("%(name)s (line %(id)s, %(zone)s)", name=name, id=line_id,
                                             zone=zone))))
        for day, day_gaps in groupby(line_gaps, key=lambda g: g.local_start.date()):
            spans = ", ".join(
                f"{start:%H:%M}-{end:%H:%M} ({said_in(language, _peers_words(peers))})"
                for start, end, peers in _merge_runs(list(day_gaps))
            )
            when = format_date(day, "EEE d MMM", locale=locale_of(language))
            lines.append(f"  {when}: {spans}")
    return "\n".join(lines)


# A notice names the first few days; the roster week shows every hour.
NOTICE_DAYS_NAMED = 3


def _spans_text(gaps: Sequence[CoverageGap]) -> Joined:
    """The gaps' days and hours, kept as days, times and messages: each admin reads them in their
    own language on the board."""
    days: list[object] = []
    for day, day_gaps in groupby(gaps, key=lambda g: g.local_start.date()):
        spans = Joined(", ", [Joined("", [f"{start:%H:%M}-{end:%H:%M} (", _peers_words(peers), ")"])
                              for start, end, peers in _merge_runs(list(day_gaps))])
        days.append(Joined(" ", [LocalMoment(datetime.combine(day, time(12)), "EEE d MMM"), spans]))
    if len(days) > NOTICE_DAYS_NAMED:
        more = len(days) - NOTICE_DAYS_NAMED
        days = [*days[:NOTICE_DAYS_NAMED],
                N_("and 1 more day (the roster week shows every hour)") if more == 1 else
                N_("and %(count)s more days (the roster week shows every hour)", count=more)]
    return Joined("; ", days)


def _claim_new_gaps(runtime: Runtime, gaps: Sequence[CoverageGap]) -> list[CoverageGap]:
    """The gaps nobody was told about yet, claimed atomically (SET NX) so none is told twice."""
    pipe = runtime.redis.pipeline(transaction=False)
    for gap in gaps:
        pipe.set(keys.coverage_gap_noticed(gap.line_id, int(epoch.seconds(gap.local_start))), "1",
                 nx=True, ex=keys.COVERAGE_GAP_MARKER_TTL_SECONDS)
    return [gap for gap, claimed in zip(gaps, pipe.execute(), strict=True) if claimed]


@dataclass(frozen=True)
class GapNotice:
    line_id: int
    hours: int
    first_start: datetime
    admin_peer_ids: tuple[int, ...]


def send_coverage_gap_notices(
    runtime: Runtime, now: datetime, notifier: AdminNotifier, *, min_peers: int = DEFAULT_MIN_PEERS
) -> list[GapNotice]:
    """The daily notice: each line's newly found thin hours, on the admins' board and by text.

    Every gap (one local hour of one line) is told once: a gap still open tomorrow is not told
    again, a new one is. A retried or repeated run therefore sends nothing twice.
    """
    report = build_coverage_report(runtime, now, min_peers=min_peers)
    sent: list[GapNotice] = []
    for line_id, line_gaps in groupby(report.gaps, key=lambda g: g.line_id):
        new = _claim_new_gaps(runtime, list(line_gaps))
        if not new:
            continue
        first = new[0]
        hours = len(new)
        values = {"line": first.line_name, "hours": hours, "days": DEFAULT_DAYS,
                  "peers": min_peers, "spans": _spans_text(new)}
        post_notice(
            runtime.redis, NoticeKind.COVERAGE_GAP,
            N_("%(line)s: %(hours)d hour in the next %(days)d days with fewer than %(peers)d "
               "peers on shift: %(spans)s.", **values) if hours == 1 else
            N_("%(line)s: %(hours)d hours in the next %(days)d days with fewer than %(peers)d "
               "peers on shift: %(spans)s.", **values),
            now, line_id=line_id,
        )
        with runtime.sessions() as session:
            line = session.get(Line, line_id)
            admins = tuple(admins_of(session, [line])) if line is not None else ()
        notifier.send_coverage_gaps(line_id=line_id, admin_peer_ids=admins, hours=hours,
                                    first_start=first.local_start)
        sent.append(GapNotice(line_id, hours, first.local_start, admins))
    return sent
