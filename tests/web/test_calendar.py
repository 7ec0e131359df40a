"""The private calendar feed: RFC 5545 text, UTC instants, no caller data, only with the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.web.test_dashboard_helpers import make_line, make_peer
from warmline.runtime import Runtime
from warmline.services import calendar as service
from warmline.services.dashboard import UpcomingShift


def test_the_feed_lists_shifts_in_utc(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line, on_shift=False)
    token = service.ensure_calendar_token(runtime, peer_id)
    assert service.ensure_calendar_token(runtime, peer_id) == token  # made once
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
    token = service.ensure_calendar_token(runtime, peer_id)
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
