"""Peers told by text: set off after two missed offers, and the reminder before a shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.text_world import LINE_NAME, LINE_NUMBER, TextWorld, new_number
from warmline.routing.engine import RoutingEngine
from warmline.services.texts.peer_texts import TextPeerNotifier


def test_two_declined_texts_set_the_peer_off_and_they_are_told_by_text(world: TextWorld) -> None:
    number = new_number()
    world.add_peer("ria", phone=number)
    phone = world.standin.peer_phone(number)
    world.go_available("ria")
    world.texter(new_number()).text(LINE_NUMBER, "hi")
    for _ in range(2):
        offer = world.wait_offer("ria")
        status, _ = world.api("ria", "POST", f"/api/texts/offers/{offer['offer_id']}/decline")
        assert status == 200
    assert RoutingEngine(world.runtime.redis).presence(world.peers["ria"]).value == "off"
    notice = world.wait_text(phone, "missed two offers")
    assert notice.startswith("Warmline:")


def test_the_shift_reminder_goes_by_text(world: TextWorld) -> None:
    number = new_number()
    peer_id = world.add_peer("ria", phone=number)
    phone = world.standin.peer_phone(number)
    starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    notifier = TextPeerNotifier(world.runtime)
    notifier.send_shift_reminder(peer_id=peer_id, line_id=world.line_id, starts_at=starts)
    notifier.send_shift_reminder(peer_id=peer_id, line_id=world.line_id, starts_at=starts)
    world.wait_text(phone, f"your shift on {LINE_NAME} starts at")
    world.run_jobs()
    assert len(world.bodies(phone)) == 1  # once, however often it is asked
