"""Texts end to end through the stand-in: experience match, ANY/WAIT, the conversation, closing."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

from sqlalchemy import select

from config.text_policy import TextPolicy
from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from warmline.models import Contact
from warmline.routing.engine import RoutingEngine
from warmline.services.texts import conversation as texts_conversation


def test_a_texter_who_chooses_an_experience_is_answered_by_a_matching_peer(
        world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number(), experiences=("recovery",), name="Ria Stone")
    world.add_peer("vic", phone=new_number(), experiences=("veteran",))
    world.go_available("ria")
    world.go_available("vic")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, " recovery ")
    first = world.wait_text(texter, "not a crisis line")
    assert len(first.splitlines()) <= 3 and "988" in first and "RECOVERY" in first
    contact_id = world.accept_next("ria")
    assert world.texts("vic")["offers"] == []
    world.wait_text(texter, "A peer has joined")  # the line does not share first names
    status, body = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                             {"body": "Hi, I'm here. What's on your mind?"})
    assert status == 202 and body["segments"] == 1
    world.wait_text(texter, "What's on your mind?")
    texter.text(LINE_NUMBER, "Thanks for answering")

    def delivered_and_read() -> bool:
        found = world.conversation("ria", contact_id)
        if not found:
            return False
        mine = [m for m in found["messages"] if m["by"] == "peer"]
        theirs = [m for m in found["messages"] if m["direction"] == "in"]
        return bool(mine and mine[-1]["status"] == "delivered"
                    and theirs[-1]["body"] == "Thanks for answering")

    world.settle(delivered_and_read, what="delivery state and the texter's answer on the pane")
    status, _ = world.api("ria", "POST", f"/api/texts/{contact_id}/close")
    assert status == 200
    world.wait_text(texter, "This conversation is closed")
    assert RoutingEngine(world.runtime.redis).presence(world.peers["ria"]).value == "wrap_up"
    assert world.conversation("ria", contact_id) is None

    def ended() -> Contact | None:
        with world.runtime.sessions() as session:
            contact = session.get(Contact, contact_id)
            return contact if contact is not None and contact.outcome else None

    contact = world.settle(ended, what="the outcome in SQL")
    assert contact.outcome == "connected" and contact.channel == "sms"
    assert contact.experience_key == "recovery" and contact.peer_id == world.peers["ria"]


def test_the_first_name_is_shared_only_where_the_line_allows(world: TextWorld) -> None:
    from warmline.models import Line

    with world.runtime.sessions.begin() as session:
        line = session.get(Line, world.line_id)
        assert line is not None
        line.share_peer_first_name = True
    world.add_peer("ria", phone=new_number(), name="Ria Stone")
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hello?")
    world.accept_next("ria")
    world.wait_text(texter, "Ria, a peer, has joined")
    assert "Stone" not in " ".join(world.bodies(texter))


def test_any_and_wait_when_no_peer_with_that_experience_is_on(world: TextWorld) -> None:
    world.add_peer("vic", phone=new_number(), experiences=("veteran",))
    world.go_available("vic")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "RECOVERY")
    honest = world.wait_text(texter, "isn't on now")
    assert "reply ANY" in honest.replace("Reply", "reply") and "WAIT" in honest
    assert "CALLBACK" in honest  # the line offers callbacks
    assert world.texts("vic")["offers"] == []
    texter.text(LINE_NUMBER, "wait")
    world.wait_text(texter, "keep waiting for a peer who shares recovery")
    assert world.texts("vic")["offers"] == []
    texter.text(LINE_NUMBER, "Any")
    offer = world.wait_offer("vic")
    assert offer["experience"] == "recovery"


def test_a_texter_is_told_peers_are_with_someone_only_when_they_are(world: TextWorld) -> None:
    """The wait's honesty, by text: the only peer on shift is on a break, talking to nobody, so
    the texter is not told peers are with someone."""
    world.add_peer("bo", phone=new_number())
    world.api("bo", "POST", "/api/heartbeat")
    status, body = world.api("bo", "PUT", "/api/presence", {"presence": "break"})
    assert status == 200, body
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hello")
    honest = world.wait_text(texter, "as soon as one is free")
    assert "with someone" not in " ".join(world.bodies(texter))
    assert "number 1 in line" in honest


def test_a_reply_over_1600_characters_is_refused_and_segments_are_counted(
        world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    status, body = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                             {"body": "a" * 1601})
    assert status == 422 and "1,600" in body["error"]
    status, body = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                             {"body": "é" * 10 + "😊" * 40})
    assert status == 202 and body["segments"] == 2  # UCS-2: 90 code units, 67 a part
    status, body = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                             {"body": "b" * 161})
    assert status == 202 and body["segments"] == 2  # GSM-7: 153 a part
    world.wait_text(texter, "b" * 161)


def test_replies_go_out_in_order_and_once(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    world.wait_text(texter, "has joined")
    for n in range(5):
        world.api("ria", "POST", f"/api/texts/{contact_id}/messages", {"body": f"part {n}"})
    world.run_jobs()
    world.run_jobs()  # a second run of every job finds nothing left to send
    world.wait_text(texter, "part 4")
    parts = [b for b in world.bodies(texter) if b.startswith("part ")]
    assert parts == [f"part {n}" for n in range(5)]


def test_inactivity_closes_the_conversation_with_a_goodbye(world: TextWorld) -> None:
    world.runtime.settings = dataclasses.replace(world.runtime.settings,
                                                 text_policy=TextPolicy(inactivity_seconds=1.0))
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    world.wait_text(texter, "has joined")
    time.sleep(1.2)  # the texter's silence itself; the goodbye is then waited on, not assumed
    world.wait_text(texter, "haven't heard from you")
    assert world.conversation("ria", contact_id) is None
    assert RoutingEngine(world.runtime.redis).presence(world.peers["ria"]).value == "wrap_up"
    with world.runtime.sessions() as session:
        assert session.scalars(select(Contact.id)).all() == [contact_id]


def test_a_close_while_the_database_is_down_changes_nothing_and_the_retry_records_the_outcome(
        world: TextWorld) -> None:
    """Found by the soak: the close read SQL after closing in Redis, so a database outage at
    that moment left the conversation closed with no outcome, and every retry a no-op."""
    import dataclasses
    import socket

    import pytest
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    world.wait_text(texter, "has joined")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    down = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/warmline")
    outage = dataclasses.replace(world.runtime, engine=down, sessions=sessionmaker(down))
    peer_id = world.peers["ria"]
    with pytest.raises(OperationalError):
        texts_conversation.close_by_peer(outage, peer_id, contact_id, datetime.now(UTC))
    assert world.conversation("ria", contact_id) is not None  # still open: nothing changed
    assert texts_conversation.close_by_peer(world.runtime, peer_id, contact_id,
                                           datetime.now(UTC)) is None
    world.wait_text(texter, "This conversation is closed")

    def ended() -> str | None:
        world.run_jobs()
        with world.runtime.sessions() as session:
            contact = session.get(Contact, contact_id)
            return contact.outcome if contact is not None else None

    assert world.settle(ended, what="the outcome in SQL") == "connected"
    down.dispose()
