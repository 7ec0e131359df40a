"""The live board (support alerts first, contacts without identity) and reports (aggregate, CSV)."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import load_example, sign_in_admin, text
from tests.support.dashboard import make_peer, sign_in
from warmline.domain.matching import ContactView
from warmline.models import ContactEvent, DailyAggregate, Line, Peer, SurveyTally
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.services.admin.reports import TRANSFER_LABELS, parse_range
from warmline.services.upkeep.aggregates import TRANSFER_KINDS
from warmline.voice.state import CallState


def _line(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalars(select(Line.id)).one()


def test_the_board_lists_alerts_first_then_waiting_contacts_without_identity(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    line_id = _line(runtime)
    make_peer(runtime, "robin@example.org", name="Robin", line_id=line_id, phone="+15005550111")
    robin = client.application.test_client()
    sign_in(robin, "robin@example.org")
    token = robin.get("/dashboard").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    robin.post("/dashboard/support", data={"csrf_token": token})
    sign_in_admin(client, runtime)  # first: hashing a password takes a while on a busy machine
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    calm, urgent = uuid.uuid4().hex, uuid.uuid4().hex
    engine.arrive(ContactView(calm, line_id, "voice", "veteran", "en", 0, now - 200), now)
    engine.arrive(ContactView(urgent, line_id, "sms", None, "en", 5, now - 20), now)
    page = text(client.get("/admin/board/live"))
    assert page.index("Need support") < page.index("Waiting now") < page.index('id="board-peers"')
    assert "Robin" in page.split('id="support-alerts"')[1].split("</ul>")[0]
    rows = page.split('id="waiting"')[1].split("</table>")[0]
    # Flagged first, then the longest wait; nothing that tells one caller from another.
    assert rows.index("flagged") < rows.index("Veteran")
    assert "Text" in rows and "Call" in rows
    # The wait counts on while the page is built (seconds, on a busy machine): at least 200 s.
    minutes, seconds = map(int, re.search(r"(\d+) min (\d+) s", rows).groups())  # type: ignore[union-attr]
    assert 60 * minutes + seconds >= 200
    assert calm not in page and urgent not in page
    assert 'hx-trigger="every 4s"' in page
    full = text(client.get("/admin/board"))
    assert 'id="live"' in full and "Robin" in full


def test_a_peer_looking_for_a_colleague_is_not_counted_as_a_caller_waiting(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    line_id = _line(runtime)
    sign_in_admin(client, runtime)
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    caller, in_call, linked = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    engine.arrive(ContactView(caller, line_id, "voice", "veteran", "en", 0, now - 30), now)
    # a peer in the call `in_call` asked for another peer: a linked contact in routing
    CallState(runtime.redis).link_transfer(in_call, linked)
    engine.arrive(ContactView(linked, line_id, "voice", "veteran", "en", 0, now - 10), now)
    page = text(client.get("/admin/board/live"))
    assert re.search(r'id="waiting-count">\s*1\s*<', page)
    assert page.count('class="waiting-row') == 1
    seeking = page.split('id="seeking"')[1].split("</ul>")[0]
    assert seeking.count('class="seeking-row"') == 1 and "Veteran" in seeking
    assert 'id="seeking-count">1<' in page
    assert linked not in page and in_call not in page


def test_reports_are_aggregate_with_a_csv_and_load_listed_by_name(
    client: FlaskClient, runtime: Runtime
) -> None:
    load_example(runtime)
    line_id = _line(runtime)
    day = date(2026, 12, 8)
    with runtime.sessions.begin() as session:
        peers = {p.name: p.id for p in session.scalars(select(Peer))}
        session.add_all([
            DailyAggregate(line_id=line_id, day=day, hour=10, channel="voice", experience_key="recovery",
                           offered=8, answered=6, abandoned=2, callbacks=1, transfers=3, mentored=1,
                           transfers_crisis_warm=1, transfers_crisis_keypad=1, transfers_admin=1,
                           repeat_contacts=2,
                           answer_seconds=[5, 10, 12, 20, 30, 60], duration_seconds_total=3600),
            DailyAggregate(line_id=line_id, day=day + timedelta(days=1), hour=20, channel="sms",
                           experience_key="", offered=2, answered=2, answer_seconds=[40, 50],
                           duration_seconds_total=600),
        ])
        session.add_all([SurveyTally(line_id=line_id, day=day, score=4, answers=3),
                         SurveyTally(line_id=line_id, day=day, score=2, answers=1),
                         SurveyTally(line_id=line_id, day=day - timedelta(days=30), score=1,
                                     answers=9)])  # outside the range
        at = datetime(2026, 12, 8, 16, tzinfo=UTC)
        for n, name in enumerate(["Sam", "Sam", "Ana"]):
            session.add(ContactEvent(event_key=f"k{n}", contact_id=f"c{n}", line_id=line_id, channel="voice",
                                     kind="bridged", peer_id=peers[name], at=at, detail={}))
    sign_in_admin(client, runtime)
    query = f"line={line_id}&start=2026-12-07&end=2026-12-13"
    page = text(client.get(f"/admin/reports?{query}"))
    assert '<dd id="fig-offered">10</dd>' in page and '<dd id="fig-answered">8</dd>' in page
    assert '<dd id="fig-mentored">1</dd>' in page
    # The transfers by where the call went, beside their total.
    by_kind = page.split('id="transfers-by-kind"')[1].split("</table>")[0]
    for row, label, count in (("crisis-warm", "Crisis line, brought in by the peer", 1),
                              ("crisis-keypad", "Crisis line, the caller pressed 9", 1),
                              ("peer", "Another peer", 0), ("admin", "The admin on shift", 1),
                              ("backup", "The backup line", 0)):
        assert f'<tr id="transfers-{row}"><td>{label}</td><td>{count}</td></tr>' in by_kind
    assert '<td id="transfers-total">3</td>' in by_kind
    assert "80.0%" in page and "2 (20.0%)" in page
    assert "Substance use recovery" in page and "Anyone" in page
    load = page.split('id="peer-load"')[1].split("</table>")[0]
    assert load.index("Ana") < load.index("Sam")  # by name, though Sam took more
    assert page.count("<svg") == 6 and "<script" not in page.split("<main")[1]
    # The after-call answers: counts per answer and their mean, nothing about who.
    survey = page.split('id="survey"')[1].split("</table>")[0]
    assert "<td>4</td><td>3</td>" in survey and "<td>1</td><td>0</td>" in survey
    assert "<td>3.5</td>" in survey
    voice_only = text(client.get(f"/admin/reports?{query}&channel=voice"))
    assert '<dd id="fig-offered">8</dd>' in voice_only
    csv_response = client.get(f"/admin/reports/report.csv?{query}")
    body = csv_response.get_data(as_text=True)
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    assert "offered,10" in body and "answer rate %,80.0" in body and "Sam,2,66.7" in body
    assert "2026-12-08,8,6,2" in body and "mentor joined,1" in body
    figures = {row[0]: row[1] for row in csv.reader(io.StringIO(body)) if len(row) == 2}
    assert figures["transfers"] == "3"
    assert figures["transfers: Crisis line, the caller pressed 9"] == "1"
    assert figures["transfers: Another peer"] == "0"
    assert figures["transfers: The admin on shift"] == "1"
    assert list(TRANSFER_LABELS) == list(TRANSFER_KINDS)  # every kind named, in the columns' order
    assert "coverage report" in page.lower() and 'id="coverage-report"' in page


def test_report_ranges_are_read_safely() -> None:
    today = date(2026, 12, 31)
    assert parse_range(None, None, today) == (date(2026, 12, 4), today)
    assert parse_range("2026-12-10", "2026-12-01", today) == (date(2026, 12, 1), date(2026, 12, 10))
    assert parse_range("nonsense", "2026-12-10", today) == (date(2026, 11, 13), date(2026, 12, 10))
    assert parse_range("2020-01-01", "2026-12-10", today)[0] == date(2025, 12, 10)


def test_board_and_reports_refuse_peers(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org")
    sign_in(client, "robin@example.org")
    for path in ("/admin/board/live", "/admin/reports/report.csv"):
        assert client.get(path).status_code == 403
