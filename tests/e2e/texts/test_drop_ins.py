"""Drop-ins end to end: a peer off shift asks on the dashboard, the admin on shift is texted and
answers "YES n" from their phone, the peer is available at once and is set off by itself when
the drop-in ends; a decline on the live board is final."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.support.dashboard import form_csrf
from tests.support.text_world import LINE_NAME, LINE_NUMBER, TextWorld, new_number
from warmline import epoch
from warmline.domain.matching import Presence
from warmline.models import AuditEntry, Peer, User
from warmline.routing.engine import RoutingEngine
from warmline.services import routing


def _admin(world: TextWorld, key: str, number: str) -> int:
    admin_id = world.add_peer(key, phone=number, name=key.title())
    with world.runtime.sessions.begin() as session:
        session.execute(update(Peer).where(Peer.id == admin_id).values(role="admin"))
        session.execute(update(User).where(User.peer_id == admin_id).values(role="admin"))
    return admin_id


def _ask(world: TextWorld, key: str, minutes: str) -> str:
    client = world.clients[key]
    token = form_csrf(client, "/dashboard")
    response = client.post("/dashboard/drop-in", data={
        "csrf_token": token, "line": str(world.line_id), "minutes": minutes},
        follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def test_a_drop_in_approved_by_text_makes_the_peer_available_and_ends_at_its_time(
    world: TextWorld,
) -> None:
    ria_number, lee_number = new_number(), new_number()
    ria_id = world.add_peer("ria", phone=ria_number, on_shift=False, name="Ria")
    _admin(world, "lee", lee_number)
    ria_phone, lee_phone = world.standin.peer_phone(ria_number), world.standin.peer_phone(lee_number)
    page = _ask(world, "ria", "30")
    assert "Asked." in page
    asked_at = datetime.now(UTC)

    ask = world.wait_text(lee_phone, "asks to drop in")
    assert f"Ria asks to drop in on {LINE_NAME} for 30 minutes" in ask
    found = re.search(r"Reply (YES \d+) to approve", ask)
    assert found is not None
    lee_phone.text(LINE_NUMBER, found.group(1).lower())  # any case
    world.wait_text(lee_phone, "Approved: Ria works")
    engine = RoutingEngine(world.runtime.redis)
    assert engine.presence(ria_id) is Presence.AVAILABLE
    approved = world.wait_text(ria_phone, "is approved until")
    assert "You're available now" in approved
    lee_phone.text(LINE_NUMBER, found.group(1))  # a second answer changes nothing
    world.wait_text(lee_phone, "was already answered")

    ends = max(engine.drop_in_lines(ria_id, asked_at.timestamp()).values())
    assert ends >= (asked_at + timedelta(minutes=30)).timestamp()  # 30 minutes from the yes
    routing.sweep(world.runtime, epoch.moment(ends - 1))
    assert engine.presence(ria_id) is Presence.AVAILABLE
    routing.sweep(world.runtime, epoch.moment(ends + 1))
    assert engine.presence(ria_id) is Presence.OFF
    world.wait_text(ria_phone, "you're off now")
    with world.runtime.sessions() as session:
        assert "drop_in_approved" in session.scalars(select(AuditEntry.action)).all()


def test_a_drop_in_declined_from_the_board_is_final(world: TextWorld) -> None:
    ria_number = new_number()
    ria_id = world.add_peer("ria", phone=ria_number, on_shift=False, name="Ria")
    _admin(world, "lee", new_number())
    _ask(world, "ria", "60")
    lee = world.clients["lee"]
    board = html.unescape(lee.get("/admin/board").get_data(as_text=True))
    found = re.search(r'id="drop-in-no-(\d+)"', board)
    assert found is not None and "Ria asks to drop in" in board
    token = form_csrf(lee, "/admin/board")
    response = lee.post(f"/admin/board/drop-ins/{found.group(1)}",
                        data={"csrf_token": token, "answer": "no"}, follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Declined: Ria is told." in page and 'id="drop-in-no-' not in page
    world.wait_text(world.standin.peer_phone(ria_number), "wasn't approved this time")
    assert RoutingEngine(world.runtime.redis).presence(ria_id) in (None, Presence.OFF)
