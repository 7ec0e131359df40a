"""The private calendar feed: RFC 5545 text, UTC instants, no caller data, only with the token."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.support.dashboard import make_line, make_peer
from warmline.runtime import Runtime
from warmline.services.peers import calendar as service
from warmline.services.peers.dashboard import UpcomingShift


def test_the_feed_lists_shifts_in_utc(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line, on_shift=False)
    token = service.issue_calendar_token(runtime, peer_id)
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    text = response.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 1
    start = next(line for line in text.split("\r\n") if line.startswith("DTSTART:"))
    assert start.endswith("Z") and len(start) == len("DTSTART:20260101T090000Z")
    assert "SUMMARY:Warmline shift: Main line" in text
    assert "+1500" not in text  # no phone number of anyone


def test_an_unknown_token_is_404(client: FlaskClient, runtime: Runtime) -> None:
    assert client.get("/calendar/nope.ics").status_code == 404


def test_an_inactive_peer_has_no_feed(client: FlaskClient, runtime: Runtime) -> None:
    from warmline.models import Peer

    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=make_line(runtime))
    token = service.issue_calendar_token(runtime, peer_id)
    with runtime.sessions.begin() as session:
        peer = session.get(Peer, peer_id)
        assert peer is not None
        peer.active = False
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_long_lines_are_folded_and_text_is_escaped() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    shift = UpcomingShift(1, "Line, with; commas " + "é" * 60, "UTC", now, now + timedelta(hours=2))
    text = service.render_calendar(7, [shift], now)
    for physical in text.split("\r\n"):
        assert len(physical.encode()) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Warmline shift: Line\\, with\\; commas " in unfolded
    assert "DTSTART:20260301T120000Z" in unfolded and "DTEND:20260301T140000Z" in unfolded


def test_the_token_is_stored_only_hashed_and_a_new_one_ends_the_old_link(
    client: FlaskClient, runtime: Runtime,
) -> None:
    from sqlalchemy import text

    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=make_line(runtime))
    token = service.issue_calendar_token(runtime, peer_id)
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM peers")).mappings().all()
    assert not any(token in str(value) for row in rows for value in row.values())
    assert rows[0]["calendar_token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    # The hash itself is no link.
    assert client.get(f"/calendar/{rows[0]['calendar_token_hash']}.ics").status_code == 404
    newer = service.issue_calendar_token(runtime, peer_id)
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{newer}.ics").status_code == 200


def test_a_lone_carriage_return_is_escaped_too() -> None:
    assert service.escape_text("a\rb\r\nc\nd") == "a\\nb\\nc\\nd"
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    shift = UpcomingShift(1, "Night\rline", "UTC", now, now + timedelta(hours=2))
    text = service.render_calendar(7, [shift], now)
    assert "\r" not in text.replace("\r\n", "")
    assert "SUMMARY:Warmline shift: Night\\nline" in text
