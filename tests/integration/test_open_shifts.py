"""Open shifts on real PostgreSQL and Redis: who hears first, once; covering a gap; the roster
file exports a taken swap as a skip plus a one-off and imports back to the same state."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from tests.support.workers import add_line, add_peer, add_shift
from warmline.models import Experience, OpenShift, Peer, Shift
from warmline.queues import QueueName
from warmline.roster.exporter import dump_roster, export_roster
from warmline.runtime import Runtime
from warmline.services.peers import open_shifts
from warmline.services.peers.dashboard import Refusal

# Wednesday 2 December 2026, 12:00 in New York; the shift is on Friday the 4th, 09:00-13:00.
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
FRIDAY = "2026-12-04"


def _team(runtime: Runtime) -> tuple[int, dict[str, int], int]:
    line = add_line(runtime)
    ids = {name: add_peer(runtime, name, f"+1555010{i:04d}")
           for i, name in enumerate(("Ria", "Bo", "Cy", "Dee"))}
    with runtime.sessions.begin() as session:
        exps = {key: Experience(key=key, label=key, digit=d, keyword=key.upper())
                for d, key in enumerate(("recovery", "veteran", "lgbtq"), start=1)}
        session.add_all(exps.values())
        for name, keys_ in {"Ria": ("recovery", "veteran"), "Bo": ("recovery",),
                            "Cy": ("veteran",), "Dee": ("lgbtq",)}.items():
            peer = session.get(Peer, ids[name])
            assert peer is not None
            peer.experiences = [exps[k] for k in keys_]
    series = add_shift(runtime, ids["Ria"], line, datetime(2026, 11, 6, 9, 0), time(13, 0),
                       rrule="FREQ=WEEKLY;BYDAY=FR")
    add_shift(runtime, ids["Bo"], line, datetime(2026, 12, 4, 8, 0), time(12, 0))  # overlaps
    add_shift(runtime, ids["Cy"], line, datetime(2026, 12, 7, 9, 0), time(13, 0))
    add_shift(runtime, ids["Dee"], line, datetime(2026, 12, 8, 9, 0), time(13, 0))
    return line, ids, series


def test_those_sharing_an_uncovered_experience_hear_first_and_nobody_twice(
    runtime: Runtime,
) -> None:
    _, ids, series = _team(runtime)
    open_id = open_shifts.offer_shift(runtime, ids["Ria"], series, FRIDAY, NOW)
    assert isinstance(open_id, int)
    # Bo is on shift then and covers recovery; veteran would be uncovered: Cy hears now,
    # Dee later, Bo not at all (busy then), Ria not (it is hers).
    now_ids = runtime.queue(QueueName.MESSAGES).get_job_ids()
    later = ScheduledJobRegistry(queue=runtime.queue(QueueName.MESSAGES)).get_job_ids()
    assert [j.split("-")[2] for j in now_ids] == [str(ids["Cy"])]
    assert [j.split("-")[2] for j in later] == [str(ids["Dee"])]
    # The dashboards say the same: Cy sees it now, Dee after the first dibs.
    seen = {name: [o.id for o in open_shifts.list_open_shifts(runtime, ids[name], NOW)]
            for name in ("Cy", "Dee", "Ria")}
    assert seen == {"Cy": [open_id], "Dee": [], "Ria": [open_id]}
    later_on = NOW + open_shifts.FIRST_DIBS
    assert [o.id for o in open_shifts.list_open_shifts(runtime, ids["Dee"], later_on)] == [open_id]
    again = open_shifts.offer_shift(runtime, ids["Ria"], series, FRIDAY, NOW)
    assert isinstance(again, Refusal) and "already" in again.message
    assert len(runtime.queue(QueueName.MESSAGES).get_job_ids()) == 1
    # A date that is not one of her occurrences, or is past, cannot be offered.
    assert isinstance(open_shifts.offer_shift(runtime, ids["Ria"], series, "2026-12-05", NOW),
                      Refusal)
    assert isinstance(open_shifts.offer_shift(runtime, ids["Ria"], series, "2026-11-27", NOW),
                      Refusal)


def test_a_taken_swap_exports_as_a_skip_and_a_one_off_and_imports_back(runtime: Runtime) -> None:
    from warmline.roster.importer import import_roster_text

    _, ids, series = _team(runtime)
    open_id = open_shifts.offer_shift(runtime, ids["Ria"], series, FRIDAY, NOW)
    assert isinstance(open_id, int)
    assert isinstance(open_shifts.take_open_shift(runtime, ids["Cy"], open_id, NOW), str)
    taken = open_shifts.take_open_shift(runtime, ids["Dee"], open_id, NOW)
    assert isinstance(taken, Refusal) and "first" in taken.message
    with runtime.sessions() as session:
        text = dump_roster(export_roster(session, runtime.keys))
        before = sorted((s.peer_id, s.start_local, s.rrule, tuple(s.skip_dates))
                        for s in session.scalars(select(Shift)))
        row = session.scalars(select(OpenShift)).one()
        assert (row.state, row.taken_by_peer_id) == ("taken", ids["Cy"])
    assert FRIDAY in text  # the series' skip
    with runtime.sessions() as session:
        import_roster_text(session, runtime.keys, text, prune=False, actor="test", user_id=None,
                           source="test", now=NOW)
        session.commit()
    with runtime.sessions() as session:
        after = sorted((s.peer_id, s.start_local, s.rrule, tuple(s.skip_dates))
                       for s in session.scalars(select(Shift)))
    assert after == before


def test_a_peer_covers_a_gap_the_coverage_report_shows(runtime: Runtime) -> None:
    line, ids, _ = _team(runtime)
    gaps = open_shifts.list_open_gaps(runtime, ids["Dee"], NOW)
    assert gaps and all(g.line_id == line for g in gaps)
    first = gaps[0]
    start = first.local_start.replace(tzinfo=None).isoformat(timespec="minutes")
    end = first.local_end.replace(tzinfo=None).isoformat(timespec="minutes")
    done = open_shifts.take_gap(runtime, ids["Dee"], line, start_text=start, end_text=end, now=NOW)
    assert isinstance(done, str) and "You cover" in done
    assert open_shifts.list_open_gaps(runtime, ids["Dee"], NOW)[0].local_start != first.local_start
    yesterday = NOW - timedelta(days=1)
    assert isinstance(open_shifts.take_gap(
        runtime, ids["Dee"], line, start_text=f"{yesterday:%Y-%m-%d}T09:00",
        end_text=f"{yesterday:%Y-%m-%d}T10:00", now=NOW), Refusal)
