"""The coverage report names exactly the uncovered hours of a roster built for the test."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from tests.support.workers import add_line, add_peer, add_shift
from warmline.models import Peer
from warmline.runtime import Runtime
from warmline.services.admin.coverage import (
    build_coverage_report,
    render_coverage_report,
    send_coverage_gap_notices,
)
from warmline.services.admin.notices import NoticeKind, list_notices
from warmline.services.notifications import LoggingNotifier
from warmline.wording import said_in

# London is on GMT until 29 March 2026, so local hours are UTC hours in this window... except
# the last two days, after the clocks go forward: the report must still speak local time.
NOW = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _roster(runtime: Runtime) -> int:
    line_id = add_line(
        runtime,
        name="Test Line",
        timezone="Europe/London",
        hours=[{"days": EVERY_DAY, "open": "09:00", "close": "13:00"}],
        closed_dates=["2026-03-20"],
    )
    ana, ben, cy = (add_peer(runtime, n, f"+4477009000{i}") for i, n in enumerate(("Ana", "Ben", "Cy")))
    add_shift(runtime, ana, line_id, datetime(2026, 3, 1, 9, 0), time(13, 0), rrule="FREQ=DAILY")
    # Ben: weekdays 09-11, but not on Wednesday the 18th.
    add_shift(
        runtime,
        ben,
        line_id,
        datetime(2026, 3, 2, 9, 0),
        time(11, 0),
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        skip_dates=["2026-03-18"],
    )
    # Cy covers 11:00-13:00 once, on Tuesday the 17th.
    add_shift(runtime, cy, line_id, datetime(2026, 3, 17, 11, 0), time(13, 0))
    return line_id


def _expected() -> list[tuple[date, int, int]]:
    gaps: list[tuple[date, int, int]] = []
    for offset in range(14):
        day = date(2026, 3, 16) + timedelta(days=offset)
        if day == date(2026, 3, 20):
            continue  # closed
        weekday = day.weekday() < 5
        for hour in (9, 10, 11, 12):
            peers = (
                1
                + (weekday and hour < 11 and day != date(2026, 3, 18))
                + (day == date(2026, 3, 17) and hour >= 11)
            )
            if peers < 2:
                gaps.append((day, hour, peers))
    return gaps


def test_the_report_names_exactly_the_uncovered_hours(runtime: Runtime) -> None:
    line_id = _roster(runtime)
    report = build_coverage_report(runtime, NOW, min_peers=2)
    found = [(g.local_start.date(), g.local_start.hour, g.peers) for g in report.gaps]
    assert found == _expected()
    assert {g.line_id for g in report.gaps} == {line_id}
    assert all(g.local_end - g.local_start == timedelta(hours=1) for g in report.gaps)
    # After the clocks go forward (29 March) the hours are still 09:00-13:00 local.
    assert (date(2026, 3, 29), 9, 1) in found
    text = render_coverage_report(report)
    assert "Test Line" in text
    assert "  Mon 16 Mar: 11:00-13:00 (1 peer on shift)" in text
    assert "  Wed 18 Mar: 09:00-13:00 (1 peer on shift)" in text
    assert "Tue 17 Mar" not in text and "Fri 20 Mar" not in text
    assert "  Sat 21 Mar: 09:00-13:00 (1 peer on shift)" in text


def test_with_one_peer_wanted_only_empty_hours_are_named(runtime: Runtime) -> None:
    _roster(runtime)
    assert build_coverage_report(runtime, NOW, min_peers=1).gaps == ()
    assert "Every open hour is covered." in render_coverage_report(
        build_coverage_report(runtime, NOW, min_peers=1)
    )
    three = build_coverage_report(runtime, NOW, min_peers=3)
    assert len(three.gaps) == 13 * 4  # every open hour of the 13 open days


def test_the_daily_notice_tells_each_gap_once_on_the_board(runtime: Runtime) -> None:
    line_id = _roster(runtime)
    admin = add_peer(runtime, "Lee", "+447700900777")
    with runtime.sessions.begin() as session:
        peer = session.get(Peer, admin)
        assert peer is not None
        peer.role = "admin"
    # Only the first week is in the window today: the second run, a day later, finds a new day.
    notifier = LoggingNotifier()
    first = send_coverage_gap_notices(runtime, NOW, notifier, min_peers=2)
    expected = _expected()
    assert [(n.line_id, n.hours, n.admin_peer_ids) for n in first] == [
        (line_id, len(expected), (admin,))]
    assert first[0].first_start.hour == 11  # Mon 16 Mar 11:00, London
    notices = list_notices(runtime.redis, NOW)
    assert [n.kind for n in notices] == [NoticeKind.COVERAGE_GAP]
    assert "Test Line" in notices[0].text and "Mon 16 Mar 11:00-13:00 (1 peer on shift)" in notices[0].text
    # Its days and words are kept as such: an admin who reads Spanish reads them in Spanish.
    spanish = str(said_in("es", notices[0].text))
    assert re.search(r"lun\.? 16 mar\.? 11:00-13:00 \(1 compañero de turno\)", spanish), spanish
    assert "Mon" not in spanish and "peer on shift" not in spanish
    # The same gaps again (a retried job, the next run): nothing is told twice.
    assert send_coverage_gap_notices(runtime, NOW + timedelta(hours=2), notifier) == []
    later = send_coverage_gap_notices(runtime, NOW + timedelta(days=1), notifier)
    # Only Mon 30 Mar came into the 14-day window: Ben covers 09-11, so 11:00-13:00 is thin.
    assert [n.hours for n in later] == [2]
    assert len(list_notices(runtime.redis, NOW + timedelta(days=1))) == 2
    assert [kind for kind, _ in notifier.sent] == ["coverage_gaps", "coverage_gaps"]
