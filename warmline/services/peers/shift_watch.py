"""Shift boundaries: peers whose shift ended go off (through the routing engine), reminders before a shift.

Both run every minute and look back (or ahead) over a window wider than a minute, so a run
missed while the worker restarted is caught up; a Redis marker per shift occurrence makes each
one happen once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from warmline import epoch, keys
from warmline.domain.schedule import find_peers_on_shift, list_shift_occurrences
from warmline.runtime import Runtime
from warmline.services.notifications import PeerNotifier, ShiftEndHook
from warmline.services.routing_sync import refresh_all_lines
from warmline.services.schedules import active_lines, line_schedule, load_shift_rules

END_LOOKBACK = timedelta(minutes=10)
REMINDER_LEAD = timedelta(minutes=30)
_INSTANT = timedelta(seconds=1)


def handle_shift_ends(runtime: Runtime, now: datetime, hook: ShiftEndHook) -> list[tuple[int, int, datetime]]:
    """Hand every shift that ended in the last END_LOOKBACK to `hook`, once; returns them.

    A peer whose next shift on the line starts as this one ends is still on shift: not ended.
    """
    ended: list[tuple[int, int, datetime]] = []
    with runtime.sessions() as session:
        lines = list(active_lines(session))
        rules = load_shift_rules(session, [line.id for line in lines])
    for line in lines:
        schedule = line_schedule(line)
        own = [r for r in rules if r.line_id == line.id]
        on_now = find_peers_on_shift(schedule, own, now)
        for rule in own:
            for occurrence in list_shift_occurrences(
                rule, schedule.timezone, now - END_LOOKBACK, now + _INSTANT
            ):
                if not (now - END_LOOKBACK < occurrence.end <= now) or occurrence.peer_id in on_now:
                    continue
                marker = keys.shift_end_handled(
                    occurrence.peer_id, line.id, int(epoch.seconds(occurrence.end))
                )
                if runtime.redis.exists(marker):
                    continue
                hook.end_shift(peer_id=occurrence.peer_id, line_id=line.id, ended_at=occurrence.end)
                runtime.redis.set(marker, "1", ex=keys.ONCE_MARKER_TTL_SECONDS)
                ended.append((occurrence.peer_id, line.id, occurrence.end))
    return ended


def send_shift_reminders(
    runtime: Runtime, now: datetime, notifier: PeerNotifier
) -> list[tuple[int, int, datetime]]:
    """Remind each peer whose shift starts within REMINDER_LEAD, once per occurrence; returns them.

    A shift that continues one the peer is already on (back to back) gets no reminder.
    """
    reminded: list[tuple[int, int, datetime]] = []
    with runtime.sessions() as session:
        lines = list(active_lines(session))
        rules = load_shift_rules(session, [line.id for line in lines])
    for line in lines:
        schedule = line_schedule(line)
        own = [r for r in rules if r.line_id == line.id]
        for rule in own:
            for occurrence in list_shift_occurrences(
                rule, schedule.timezone, now, now + REMINDER_LEAD + _INSTANT
            ):
                if not (now < occurrence.start <= now + REMINDER_LEAD):
                    continue
                if occurrence.peer_id in find_peers_on_shift(schedule, own, occurrence.start - _INSTANT):
                    continue
                marker = keys.shift_reminder_sent(rule.shift_id, int(epoch.seconds(occurrence.start)))
                if runtime.redis.exists(marker):
                    continue
                notifier.send_shift_reminder(
                    peer_id=occurrence.peer_id, line_id=line.id, starts_at=occurrence.start
                )
                runtime.redis.set(marker, "1", ex=keys.ONCE_MARKER_TTL_SECONDS)
                reminded.append((occurrence.peer_id, line.id, occurrence.start))
    return reminded


def check_shift_boundaries(runtime: Runtime, now: datetime, hook: ShiftEndHook) -> None:
    """The minute job: shifts that ended go to `hook` (once each), then routing's on-shift sets
    are brought in step with the roster (peers whose shift starts become eligible)."""
    handle_shift_ends(runtime, now, hook)
    refresh_all_lines(runtime, now)
