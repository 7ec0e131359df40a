"""The report and aggregate queries over a year of events use indexes (EXPLAIN on PostgreSQL).

A year of twenty lines' events (about 165,000) and two lines' aggregates is written with
generate_series and analyzed; each query the reports and the nightly aggregates run for a month
(or a day) of one line must reach its table through an index, never by reading the whole year.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Select, func, select, text

from warmline.models import ContactEvent, DailyAggregate
from warmline.runtime import Runtime
from warmline.services.admin.reports import _load_query

YEAR_START = date(2025, 1, 1)
CONTACTS_PER_DAY = 150
LINES = 20  # a state network's lines share the event log
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
LINE_KIND_AT = "ix_contact_events_line_kind_at"  # migration 0008


@pytest.fixture
def a_year_of_events(runtime: Runtime) -> Iterator[Runtime]:
    with runtime.engine.begin() as conn:
        # Writing the year takes longer than the app's statement timeout allows any statement.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(text("""
            INSERT INTO contact_events (event_key, contact_id, line_id, caller_hash, channel, kind,
                                        experience_key, peer_id, outcome, at, detail)
            SELECT md5(c::text || k.kind), 'c' || c, 1 + c % CAST(:lines AS int),
                   md5((c % 5000)::text),
                   CASE WHEN c % 4 = 0 THEN 'sms' ELSE 'voice' END, k.kind, 'recovery',
                   CASE WHEN k.kind IN ('accepted', 'bridged') THEN 1 + c % 40 END,
                   CASE WHEN k.kind = 'ended' THEN 'connected' END,
                   CAST(:start AS timestamptz) + c * interval '1 day' / CAST(:per_day AS int)
                       + k.after,
                   '{}'::json
            FROM generate_series(0, CAST(:days AS int) * CAST(:per_day AS int) - 1) AS c,
                 (VALUES ('arrived', interval '0'), ('accepted', interval '40 s'),
                         ('ended', interval '20 min')) AS k(kind, after)
        """), {"start": datetime.combine(YEAR_START, datetime.min.time(), UTC),
               "per_day": CONTACTS_PER_DAY, "days": 365, "lines": LINES})
        conn.execute(text("""
            INSERT INTO daily_aggregates (line_id, day, hour, channel, experience_key, offered,
                                          answered, abandoned, callbacks, transfers,
                                          repeat_contacts, answer_seconds, duration_seconds_total)
            SELECT l, CAST(:start AS date) + d, h, ch, e, 3, 2, 1, 0, 0, 0, '[30, 45]'::json, 600
            FROM generate_series(1, 2) AS l, generate_series(0, 364) AS d,
                 generate_series(0, 23) AS h, unnest(ARRAY['voice', 'sms']) AS ch,
                 unnest(ARRAY['', 'recovery', 'veteran']) AS e
        """), {"start": YEAR_START})
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET statement_timeout = 0"))
        conn.execute(text("ANALYZE contact_events"))
        conn.execute(text("ANALYZE daily_aggregates"))
        conn.execute(text("RESET statement_timeout"))  # the pool hands this connection on
    yield runtime


def _plan(runtime: Runtime, query: Select[Any]) -> dict[str, Any]:
    compiled = query.compile(dialect=runtime.engine.dialect,
                             compile_kwargs={"render_postcompile": True})
    with runtime.engine.connect() as conn:
        raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return plan[0]["Plan"]  # type: ignore[no-any-return]


def _scans(node: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(node type, relation, index) of every scan in the plan."""
    found = []
    if "Scan" in node["Node Type"]:
        found.append((node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", "")))
    for child in node.get("Plans", []):
        found.extend(_scans(child))
    return found


def _assert_indexed(runtime: Runtime, query: Select[Any], table: str,
                    index: str | None = None) -> None:
    """No full read of `table`; an index of it used (that one, when named)."""
    scans = _scans(_plan(runtime, query))
    assert not [s for s in scans if s[:2] == ("Seq Scan", table)], scans
    used = {name for kind, _, name in scans if kind in INDEX_NODES}
    assert (index in used) if index else any(n.startswith(("ix_" + table, table)) for n in used), \
        scans


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo("America/New_York")
    return (datetime.combine(first, datetime.min.time(), zone),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), zone))


def test_the_report_queries_of_a_month_use_indexes(a_year_of_events: Runtime) -> None:
    runtime = a_year_of_events
    first, last = date(2025, 6, 1), date(2025, 6, 30)
    # build_report: per-day sums, and read_report's rows, from the aggregates
    per_day = select(DailyAggregate.day, func.sum(DailyAggregate.offered)).where(
        DailyAggregate.line_id == 1, DailyAggregate.day >= first, DailyAggregate.day <= last,
        DailyAggregate.channel == "voice").group_by(DailyAggregate.day)
    _assert_indexed(runtime, per_day, "daily_aggregates")
    rows = select(DailyAggregate).where(DailyAggregate.line_id == 1, DailyAggregate.day >= first,
                                        DailyAggregate.day <= last)
    _assert_indexed(runtime, rows, "daily_aggregates")
    # build_report: each peer's load, from the events
    for channel in (None, "voice"):
        _assert_indexed(runtime, _load_query(1, ZoneInfo("America/New_York"), first, last, channel),
                        "contact_events", LINE_KIND_AT)


def test_the_aggregate_queries_of_a_day_use_indexes(a_year_of_events: Runtime) -> None:
    runtime = a_year_of_events
    start, end = _bounds(date(2025, 6, 15), date(2025, 6, 15))
    arrivals = select(ContactEvent).where(
        ContactEvent.line_id == 1, ContactEvent.kind == "arrived", ContactEvent.at >= start,
        ContactEvent.at < end).order_by(ContactEvent.at, ContactEvent.id)
    # a day: the planner may walk `at` in order (no sort) or take the line's rows (0008); both
    # read one day, never the year
    _assert_indexed(runtime, arrivals, "contact_events")
    of_contacts = select(ContactEvent).where(ContactEvent.contact_id.in_(["c10", "c11", "c12"]))
    _assert_indexed(runtime, of_contacts, "contact_events")
    repeats = select(ContactEvent.caller_hash, ContactEvent.at).where(
        ContactEvent.line_id == 1, ContactEvent.kind == "arrived",
        ContactEvent.caller_hash.in_(["a" * 32, "b" * 32]),
        ContactEvent.at >= start - timedelta(days=30), ContactEvent.at < end)
    _assert_indexed(runtime, repeats, "contact_events")
    first_event = select(func.min(ContactEvent.at)).where(
        ContactEvent.line_id == 1, ContactEvent.kind == "arrived",
        ContactEvent.at >= start - timedelta(days=60))
    # the earliest match: walking `at` in order and stopping at the first is as good here
    _assert_indexed(runtime, first_event, "contact_events")


def test_every_statement_has_the_timeout_the_settings_give(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        shown = conn.execute(text("SHOW statement_timeout")).scalar()
    assert shown == f"{runtime.settings.db_statement_timeout_ms // 1000}s"
    assert runtime.engine.pool.size() == runtime.settings.db_pool_size  # type: ignore[attr-defined]
