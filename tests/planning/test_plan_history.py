"""`plan` from a line's history in the event log (real PostgreSQL): rates per hour of the week,
handle time, patience, peers needed against scheduled, uncovered experiences."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.support.planning import history_events, textbook_peers
from tests.support.services import TEST_REDIS_URL
from warmline.models import Line
from warmline.planning.command import main
from warmline.planning.history_command import format_plan
from warmline.planning.pool import PoolRates, peers_needed
from warmline.planning.refine import simulate_plan
from warmline.planning.week import plan_line
from warmline.roster.importer import import_roster_text
from warmline.runtime import Runtime

ZONE = ZoneInfo("America/New_York")
NUMBER = "+12125550100"
MONDAYS = [datetime(2026, 3, 2, tzinfo=ZONE) + timedelta(weeks=n) for n in range(4)]
NOW = datetime(2026, 3, 30, 0, 0, tzinfo=ZONE)  # the Monday after four weeks of history


def _roster() -> str:
    peers = [("sam", ["recovery"]), ("ana", ["recovery", "lgbtq"]), ("lee", ["veteran"])]
    return yaml.safe_dump({
        "version": 1,
        "lines": [{"number": NUMBER, "name": "Evening Line", "timezone": "America/New_York",
                   "wrap_up_seconds": 90,
                   "service_target": {"answer_within_seconds": 60, "share": 0.8}}],
        "experiences": [{"key": k, "label": k.title(), "digit": i + 1, "keyword": k.upper()}
                        for i, k in enumerate(["recovery", "lgbtq", "veteran", "grief"])],
        "peers": [{"email": f"{name}@example.org", "name": name.title(),
                   "phone": f"+1212555{201 + i:04d}", "experiences": exps}
                  for i, (name, exps) in enumerate(peers)],
        # Sam and Ana on Monday evenings, Lee only until 20:00.
        "shifts": [{"peer": "sam@example.org", "line": NUMBER, "start": "2026-03-02 18:00",
                    "end": "23:00", "repeat": "FREQ=WEEKLY;BYDAY=MO"},
                   {"peer": "ana@example.org", "line": NUMBER, "start": "2026-03-02 18:00",
                    "end": "23:00", "repeat": "FREQ=WEEKLY;BYDAY=MO"},
                   {"peer": "lee@example.org", "line": NUMBER, "start": "2026-03-02 18:00",
                    "end": "20:00", "repeat": "FREQ=WEEKLY;BYDAY=MO"}],
    })


@pytest.fixture
def line_id(runtime: Runtime) -> int:
    with runtime.sessions.begin() as session:
        import_roster_text(session, runtime.keys, _roster(), prune=True)
    with runtime.sessions.begin() as session:
        line = session.query(Line).one()
        # Every Monday 20:00-21:00: six calls of 10 minutes; one asks for grief, whom nobody shares.
        for week, monday in enumerate(MONDAYS):
            for n in range(6):
                arrived = monday + timedelta(hours=20, minutes=10 * n)
                session.add_all(history_events(line.id, f"w{week}-c{n}", arrived,
                                               "grief" if n == 0 else "recovery" if n % 2 else None,
                                               talk_minutes=10, wait_seconds=30))
        return line.id


def test_peers_needed_per_hour_from_history_against_the_roster(runtime: Runtime, line_id: int) -> None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        assert line is not None
        plan = plan_line(session, line, NOW, NOW, weeks=4, hours=24)
    assert plan.history.offered["voice"] == 24 and plan.history.patience_seconds is None
    assert plan.call_handle_seconds == pytest.approx(10 * 60 + 90)
    by_hour = {h.start.hour: h for h in plan.hours}
    evening = by_hour[20]
    assert evening.calls_per_hour == pytest.approx(6.0)
    # Patient callers on one pool: Erlang C's answer for 6 calls/h of 11.5 minutes, 80% in 60 s.
    assert evening.needed == textbook_peers(6, 11.5, 60, 0.8) == 3
    assert evening.scheduled == 2 and evening.gap == -1
    assert evening.uncovered == ("grief",)
    assert evening.answered_within is not None and evening.answered_within < 0.8
    assert by_hour[19].scheduled == 3 and by_hour[19].needed == 0  # nobody called at 19:00
    assert by_hour[3].scheduled == 0 and by_hour[3].uncovered == ()
    text = format_plan(plan)
    assert "Evening Line (+12125550100): target 80% answered within 60 s" in text
    assert "Mon 2026-03-30 20:00" in text and "grief" in text
    assert "short of peers in 1 of 24 open hours" in text


def test_hang_ups_give_the_patience_and_erlang_a_plans_for_it(runtime: Runtime, line_id: int) -> None:
    with runtime.sessions.begin() as session:
        # Two callers each Monday at 20:30 hang up after 2 minutes of waiting.
        for week, monday in enumerate(MONDAYS):
            for n in range(2):
                session.add_all(history_events(line_id, f"w{week}-gone{n}",
                                               monday + timedelta(hours=20, minutes=30),
                                               None, talk_minutes=None, wait_seconds=120))
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        assert line is not None
        plan = plan_line(session, line, NOW, NOW, weeks=4, hours=24)
    history = plan.history
    # 8 hang-ups over 24 x 30 s + 8 x 120 s of waiting: 210 s of patience on average.
    assert history.hang_ups == 8
    assert history.patience_seconds == pytest.approx((24 * 30 + 8 * 120) / 8)
    evening = next(h for h in plan.hours if h.start.hour == 20)
    assert evening.calls_per_hour == pytest.approx(8.0)
    assert evening.needed == peers_needed(PoolRates(8.0, 11.5, 60, 0.8, history.patience_seconds / 60))


def test_the_command_plans_every_line(runtime: Runtime, line_id: int, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    settings = runtime.settings
    for name, value in {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                        "WARMLINE_INSTANCE_DIR": settings.instance_dir}.items():
        monkeypatch.setenv(name, str(value))
    assert main(["--start", "2026-03-30", "--weeks", "4"]) == 0
    out = capsys.readouterr().out
    assert "Evening Line (+12125550100)" in out
    assert len([line for line in out.splitlines() if line.startswith("  Mon 2026-03-30")]) == 24
    assert "Sun 2026-04-05 23:00" in out


def test_the_simulation_checks_each_hour_with_the_rosters_split(runtime: Runtime, line_id: int) -> None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        assert line is not None
        plan = plan_line(session, line, NOW, NOW, weeks=4, hours=24)
        simulated = simulate_plan(session, line, plan, redis_url=TEST_REDIS_URL, seeds=2)
    assert [s.start for s in simulated] == [h.start for h in plan.hours]
    evening = simulated[20]
    # Six calls an hour in the history: two runs bring about twelve, each answered in time or not.
    assert evening.calls > 0 and evening.answered_within is not None
    assert all(s.calls == 0 and s.answered_within is None for s in simulated[:20])
    text = format_plan(plan, simulated)
    assert "simulated" in text.splitlines()[2]
    assert f"{evening.answered_within:.0%}" in next(
        row for row in text.splitlines() if "Mon 2026-03-30 20:00" in row)
    print(f"Monday 20:00, two peers for three needed: {evening.answered_within:.0%} answered in 60 s "
          f"in {evening.calls} simulated calls")
