"""Shift boundaries: a reminder 30 minutes before a shift, and the end of a shift handed on, once each."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.support.workers import add_line, add_peer, add_shift
from warmline.runtime import Runtime
from warmline.services.notifications import LoggingNotifier
from warmline.services.peers.shift_watch import handle_shift_ends, send_shift_reminders


def _roster(runtime: Runtime) -> tuple[int, int, int]:
    line_id = add_line(runtime, timezone="Europe/London")
    ana, ben = add_peer(runtime, "Ana", "+447700900001"), add_peer(runtime, "Ben", "+447700900002")
    add_shift(runtime, ana, line_id, datetime(2026, 3, 1, 9, 0), time(13, 0), rrule="FREQ=DAILY")
    add_shift(runtime, ben, line_id, datetime(2026, 3, 1, 9, 0), time(11, 0), rrule="FREQ=DAILY")
    # Ben goes on straight after 11:00 on the 5th: no end then, and no reminder for the second shift.
    add_shift(runtime, ben, line_id, datetime(2026, 3, 5, 11, 0), time(12, 0))
    return line_id, ana, ben


def test_reminders_go_once_30_minutes_before(runtime: Runtime) -> None:
    line_id, ana, ben = _roster(runtime)
    notifier = LoggingNotifier()
    early = datetime(2026, 3, 4, 8, 20, tzinfo=UTC)
    assert send_shift_reminders(runtime, early, notifier) == []
    at = datetime(2026, 3, 4, 8, 31, tzinfo=UTC)
    reminded = send_shift_reminders(runtime, at, notifier)
    assert sorted(reminded) == sorted(
        [(ana, line_id, at.replace(hour=9, minute=0)), (ben, line_id, at.replace(hour=9, minute=0))]
    )
    assert send_shift_reminders(runtime, at + timedelta(minutes=1), notifier) == []
    back_to_back = datetime(2026, 3, 5, 10, 45, tzinfo=UTC)
    assert send_shift_reminders(runtime, back_to_back, notifier) == []
    assert [kind for kind, _ in notifier.sent] == ["shift_reminder", "shift_reminder"]


def test_a_shift_end_is_handed_to_the_routing_hook_once(runtime: Runtime) -> None:
    line_id, ana, ben = _roster(runtime)
    hook = LoggingNotifier()
    assert handle_shift_ends(runtime, datetime(2026, 3, 4, 10, 59, tzinfo=UTC), hook) == []
    after = datetime(2026, 3, 4, 11, 0, 40, tzinfo=UTC)
    assert handle_shift_ends(runtime, after, hook) == [(ben, line_id, after.replace(second=0))]
    assert handle_shift_ends(runtime, after + timedelta(minutes=1), hook) == []
    # A missed minute is caught up (the worker restarted), still once.
    ana_end = datetime(2026, 3, 4, 13, 6, tzinfo=UTC)
    assert handle_shift_ends(runtime, ana_end, hook) == [(ana, line_id, ana_end.replace(minute=0))]
    # On the 5th Ben goes on until 12:00: nothing at 11:00.
    assert handle_shift_ends(runtime, datetime(2026, 3, 5, 11, 1, tzinfo=UTC), hook) == []
    assert handle_shift_ends(runtime, datetime(2026, 3, 5, 12, 1, tzinfo=UTC), hook)[0][0] == ben
