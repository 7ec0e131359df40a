"""The peer view: presence, live queue, wrap-up, callbacks, support, abuse reports, shifts, heartbeat."""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.dashboard import (
    form_csrf,
    make_line,
    make_peer,
    page_text,
    post_text,
    sign_in,
)
from warmline import keys
from warmline.domain.matching import ContactView, Presence
from warmline.models import AuditEntry, Block, CallbackRequest, Contact
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.services.peers import dashboard as service
from warmline.services.peers import support as support_service

CALLER = "+15005550199"


def _arrive(runtime: Runtime, line_id: int, *, channel: str = "voice",
            experience: str | None = None, waited: float = 30.0) -> str:
    contact_id = uuid.uuid4().hex
    now = time.time()
    RoutingEngine(runtime.redis).arrive(
        ContactView(contact_id, line_id, channel, experience, "en", 0, now - waited), now
    )
    return contact_id


def test_the_peer_view_says_what_presence_means_now(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    page = page_text(client, "/dashboard")
    assert "You're off" in page
    assert "You're on shift until" in page
    for choice in ("available", "break", "off"):
        assert f'id="presence-{choice}"' in page
    assert 'id="conversations"' in page  # the texts pane


def test_going_available_then_break_then_off(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    engine = RoutingEngine(runtime.redis)
    page = post_text(client, "/dashboard/presence", presence="available")
    assert engine.presence(peer_id) is Presence.AVAILABLE
    assert "You're available" in page
    assert re.search(r'id="presence-available"[^>]*aria-pressed="true"', page)
    post_text(client, "/dashboard/presence", presence="break")
    assert engine.presence(peer_id) is Presence.BREAK
    post_text(client, "/dashboard/presence", presence="off")
    assert engine.presence(peer_id) is Presence.OFF


def test_available_is_refused_outside_a_shift(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line, on_shift=False)
    sign_in(client, "robin@example.org")
    token = form_csrf(client, "/dashboard")
    response = client.post("/dashboard/presence", data={"csrf_token": token, "presence": "available"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "you're not on shift right now" in page and "next shift starts" in page
    assert "You're not on shift. Next shift" in page
    assert RoutingEngine(runtime.redis).presence(peer_id) in (None, Presence.OFF)


def test_the_live_queue_shows_counts_of_own_lines_only(client: FlaskClient, runtime: Runtime) -> None:
    mine = make_line(runtime)
    other = make_line(runtime, number="+15005550002", name="Other line")
    make_peer(runtime, "robin@example.org", line_id=mine)
    sign_in(client, "robin@example.org")
    post_text(client, "/dashboard/presence", presence="break")  # synced, not offered anything
    _arrive(runtime, mine, waited=75)
    _arrive(runtime, mine, waited=10)
    _arrive(runtime, mine, channel="sms")
    _arrive(runtime, other, waited=500)
    fragment = page_text(client, "/dashboard/live")
    assert "Main line" in fragment and "Other line" not in fragment
    assert "<td>2</td>" in fragment and "1 min 15 s" in fragment
    assert CALLER not in fragment and "+1500555" not in fragment


def test_wrap_up_shows_a_timer_and_i_need_more_time_extends_it(
    client: FlaskClient, runtime: Runtime
) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    post_text(client, "/dashboard/presence", presence="available")
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    contact_id = uuid.uuid4().hex
    arrival = engine.arrive(ContactView(contact_id, line, "voice", None, "en", 0, now), now)
    assert arrival.offers and arrival.offers[0].peer_id == peer_id
    assert engine.accept(arrival.offers[0].offer_id, now).accepted
    page = page_text(client, "/dashboard")
    assert "You're with a caller" in page and "End and report abuse" in page
    engine.complete(contact_id, time.time())
    before = service.read_presence(runtime, peer_id, datetime.now(UTC)).wrap_up_until
    page = page_text(client, "/dashboard")
    assert "Wrap-up ends at" in page and 'id="wrap-up-more"' in page
    post_text(client, "/dashboard/wrap-up/extend")
    after = service.read_presence(runtime, peer_id, datetime.now(UTC)).wrap_up_until
    assert before is not None and after is not None
    assert after >= before + service.WRAP_UP_EXTENSION - timedelta(seconds=1)


def test_end_and_report_abuse_blocks_the_caller_for_30_days(
    client: FlaskClient, runtime: Runtime
) -> None:
    line = make_line(runtime)
    peer_id, user_id = make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    post_text(client, "/dashboard/presence", presence="available")
    engine = RoutingEngine(runtime.redis)
    now = time.time()
    contact_id = uuid.uuid4().hex
    caller_hash = runtime.keys.keyed_hash(CALLER)
    with runtime.sessions.begin() as session:
        session.add(Contact(id=contact_id, line_id=line, channel="voice", caller_hash=caller_hash,
                            arrived_at=datetime.now(UTC)))
    arrival = engine.arrive(ContactView(contact_id, line, "voice", None, "en", 0, now), now)
    engine.accept(arrival.offers[0].offer_id, now)
    page = post_text(client, "/dashboard/report-abuse")
    assert "cannot reach the line for 30 days" in page
    with runtime.sessions() as session:
        block = session.scalars(select(Block)).one()
        assert block.caller_hash == caller_hash and block.line_id == line
        assert block.created_by_user_id == user_id
        days = (block.expires_at - block.created_at).days
        assert days == service.BLOCK_DAYS
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "block_created")).one()
        assert caller_hash not in json.dumps(audit.detail)
    assert peer_id


def test_report_abuse_without_a_contact_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    sign_in(client, "robin@example.org")
    assert "not with a caller" in post_text(client, "/dashboard/report-abuse")
    with runtime.sessions() as session:
        assert session.scalars(select(Block)).first() is None


def _callback(runtime: Runtime, line_id: int, experience: str | None = None) -> int:
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        row = CallbackRequest(
            contact_id=uuid.uuid4().hex, line_id=line_id,
            caller_hash=runtime.keys.keyed_hash(CALLER),
            number_encrypted=runtime.keys.encrypt(CALLER), experience_key=experience,
            window_start=now, window_end=now + timedelta(hours=2), expires_at=now + timedelta(days=1),
        )
        session.add(row)
        session.flush()
        return row.id


def test_pending_callbacks_can_be_taken_once(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    other_line = make_line(runtime, number="+15005550002", name="Other line")
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line)
    make_peer(runtime, "sam@example.org", name="Sam", phone="+15005550101", line_id=line)
    callback_id = _callback(runtime, line)
    _callback(runtime, other_line)
    sign_in(client, "robin@example.org")
    page = page_text(client, "/dashboard")
    assert f'id="take-callback-{callback_id}"' in page
    assert page.count('id="take-callback-') == 1  # only the peer's own line
    assert CALLER not in page
    assert "you'll be rung first" in post_text(client, f"/dashboard/callbacks/{callback_id}/take")
    with runtime.sessions() as session:
        row = session.get(CallbackRequest, callback_id)
        assert row is not None and row.peer_id == peer_id and row.status == "pending"
    sam = client.application.test_client()
    sign_in(sam, "sam@example.org")
    assert "already taken" in post_text(sam, f"/dashboard/callbacks/{callback_id}/take")
    assert f"take-callback-{callback_id}" not in page_text(sam, "/dashboard")


def test_need_support_alerts_the_admins_on_shift(client: FlaskClient, runtime: Runtime) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    admin_peer, _ = make_peer(runtime, "ada@example.org", name="Ada Admin", role="admin",
                              phone="+15005550102", line_id=line)
    sign_in(client, "robin@example.org")
    page = post_text(client, "/dashboard/support")
    assert "admins on shift have been told" in page
    alerts = support_service.list_support_alerts(runtime.redis, datetime.now(UTC))
    assert len(alerts) == 1 and alerts[0].admins_on_shift == (admin_peer,)
    with runtime.sessions() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "support_requested")
        ).one()
        assert audit.actor == "robin@example.org"
    admin = client.application.test_client()
    sign_in(admin, "ada@example.org")
    board = page_text(admin, "/admin/board")
    assert "Robin" in board and "Main line" in board


class RecordingNotifier:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []

    def notify_off_shift_admins(self, alert: support_service.SupportAlert, admin_peer_ids: object) -> None:
        self.calls.append((alert.id, list(admin_peer_ids)))  # type: ignore[call-overload]


def test_need_support_texts_admins_when_none_is_on_shift(
    client: FlaskClient, runtime: Runtime
) -> None:
    from warmline.web.dashboard import install_support_notifier

    notifier = RecordingNotifier()
    install_support_notifier(client.application, notifier)
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line)
    admin_peer, _ = make_peer(runtime, "ada@example.org", name="Ada Admin", role="admin",
                              phone="+15005550102", line_id=line, on_shift=False)
    sign_in(client, "robin@example.org")
    assert "being texted" in post_text(client, "/dashboard/support")
    assert [ids for _, ids in notifier.calls] == [[admin_peer]]


def test_upcoming_shifts_are_listed_and_the_calendar_link_is_made_on_demand(
    client: FlaskClient, runtime: Runtime
) -> None:
    line = make_line(runtime)
    make_peer(runtime, "robin@example.org", line_id=line, on_shift=False)
    sign_in(client, "robin@example.org")
    page = page_text(client, "/dashboard")
    assert "Main line" in page and 'id="calendar-create"' in page
    made = post_text(client, "/dashboard/calendar")
    found = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", made)
    assert found is not None
    token = found.group(1)
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    # Shown once: the next visit says there is a link, and offers a new one.
    page = page_text(client, "/dashboard")
    assert token not in page and 'id="calendar-renew"' in page
    renewed = post_text(client, "/dashboard/calendar", renew="1")
    found = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", renewed)
    assert found is not None and found.group(1) != token
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{found.group(1)}.ics").status_code == 200


def test_the_heartbeat_tells_whether_the_dashboard_is_open(
    client: FlaskClient, runtime: Runtime
) -> None:
    line = make_line(runtime)
    peer_id, _ = make_peer(runtime, "robin@example.org", line_id=line)
    assert not service.dashboard_is_open(runtime.redis, peer_id)
    sign_in(client, "robin@example.org")
    token = client.get("/api/csrf").get_json()["csrf_token"]  # type: ignore[index]
    assert client.post("/api/heartbeat", headers={"X-CSRFToken": token}).status_code == 200
    assert service.dashboard_is_open(runtime.redis, peer_id)
    ttl = runtime.redis.ttl(keys.dashboard_heartbeat(peer_id))
    assert 0 < ttl <= keys.HEARTBEAT_TTL_SECONDS
    client.post("/sign-out", data={"csrf_token": token})
    assert not service.dashboard_is_open(runtime.redis, peer_id)


def test_the_page_wires_the_heartbeat_and_polling(client: FlaskClient, runtime: Runtime) -> None:
    make_peer(runtime, "robin@example.org", line_id=make_line(runtime))
    sign_in(client, "robin@example.org")
    page = page_text(client, "/dashboard")
    assert 'data-heartbeat-url="/api/heartbeat"' in page
    assert 'hx-get="/dashboard/live"' in page and "every 4s" in page
    assert '<meta name="csrf-token"' in page
