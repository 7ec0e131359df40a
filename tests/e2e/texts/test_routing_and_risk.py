"""Texts and routing: risk words jump the queue, capacity (max_texts), closed dashboards, 21610,
media, duplicates, signatures, and a scan of SQL and logs for bodies and numbers."""

from __future__ import annotations

import logging

import pytest
import requests
from sqlalchemy import select

from tests.support.privacy import assert_absent, number_forms, sql_dump
from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from warmline.models import Contact
from warmline.routing.engine import RoutingEngine
from warmline.standin import sign


def test_a_risk_word_jumps_the_queue_ahead_of_earlier_texters(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    early = [world.texter(new_number()) for _ in range(2)]
    for n, texter in enumerate(early):
        texter.text(LINE_NUMBER, f"hello {n}")
        world.wait_text(texter, "not a crisis line")
    risky = world.texter(new_number())
    risky.text(LINE_NUMBER, "hi")
    world.wait_text(risky, "not a crisis line")
    risky.text(LINE_NUMBER, "I have 30 pills and I want to end it")
    world.wait_text(risky, "call or text 988 now")
    risky.text(LINE_NUMBER, "overdose")
    world.run_jobs()
    assert sum("988 now" in b for b in world.bodies(risky)) == 1  # crisis numbers once
    world.go_available("ria")
    offer = world.wait_offer("ria")
    assert offer["risk"] is True
    contact_id = world.accept_next("ria")
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.risk_flagged and contact.priority > 0
    conversation = world.conversation("ria", contact_id)
    assert conversation is not None and conversation["risk"] is True
    assert [m["body"] for m in conversation["messages"] if m["direction"] == "in"][-1] == \
        "overdose"
    world.wait_text(risky, "has joined")
    assert all("has joined" not in b for t in early for b in world.bodies(t))


def test_two_peers_with_max_texts_2_and_five_texters(world: TextWorld) -> None:
    for key in ("ria", "vic"):
        world.add_peer(key, phone=new_number(), max_texts=2)
        world.go_available(key)
    engine = RoutingEngine(world.runtime.redis)
    texters = [world.texter(new_number()) for _ in range(5)]
    held: dict[str, list[str]] = {"ria": [], "vic": []}

    def check_capacity() -> None:
        for key in held:
            assert engine.load(world.peers[key]).texts <= 2

    for texter in texters:
        texter.text(LINE_NUMBER, "hi there")
        world.wait_text(texter, "not a crisis line")
    for _ in range(4):
        offers = {k: world.texts(k)["offers"] for k in held}
        key = next((k for k, o in offers.items() if o), None)
        if key is None:
            key = "ria" if len(held["ria"]) < 2 else "vic"
        held[key].append(world.accept_next(key))
        check_capacity()
    world.run_jobs()
    assert sorted(len(v) for v in held.values()) == [2, 2]
    assert world.texts("ria")["offers"] == [] and world.texts("vic")["offers"] == []
    waiting = [c for c in engine.waiting_contact_ids()]
    assert len(waiting) == 1
    check_capacity()
    world.api("vic", "POST", f"/api/texts/{held['vic'][0]}/close")
    # vic still holds one text, so vic stays available and takes the fifth.
    fifth = world.accept_next("vic")
    assert fifth == waiting[0]
    check_capacity()
    assert engine.waiting_contact_ids() == []


def test_no_text_is_offered_to_a_closed_dashboard(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    world.runtime.redis.delete(f"wl:dash:open:{world.peers['ria']}")  # the tab was closed
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    world.wait_text(texter, "not a crisis line")
    world.run_jobs()
    engine = RoutingEngine(world.runtime.redis)
    assert engine.waiting_contact_ids() != []  # waiting, not offered to a closed dashboard
    assert engine.presence(world.peers["ria"]).value == "available"  # and not counted a miss
    world.wait_offer("ria")  # the pane polls again (dashboard open): now it is offered


def test_a_21610_from_twilio_closes_the_conversation(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    number = new_number()
    texter = world.texter(number)
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    world.wait_text(texter, "has joined")
    with world.standin.net.cond:  # opted out at Twilio without the app seeing the STOP
        world.standin.net.optouts.add((number, LINE_NUMBER))
    world.api("ria", "POST", f"/api/texts/{contact_id}/messages", {"body": "are you there?"})
    world.settle(lambda: world.conversation("ria", contact_id) is None, what="closed on 21610")
    assert RoutingEngine(world.runtime.redis).presence(world.peers["ria"]).value == "wrap_up"


def _signed_post(world: TextWorld, params: dict[str, str], *, bad: bool = False) -> requests.Response:
    url = world.url + "/twilio/sms"
    signature = sign(world.standin.config.auth_token, url, params)
    return requests.post(url, data=params, timeout=60,
                         headers={"X-Twilio-Signature": "x" + signature if bad else signature})


def test_media_is_not_stored_duplicates_are_dropped_and_signatures_checked(
        world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    params = {"MessageSid": "SM" + "a" * 32, "From": texter.number, "To": LINE_NUMBER,
              "Body": "", "NumMedia": "1", "MediaUrl0": "http://127.0.0.1:9/secret.jpg"}
    assert _signed_post(world, params, bad=True).status_code == 403
    first = _signed_post(world, params)
    again = _signed_post(world, params)  # Twilio's retry of the same MessageSid
    assert first.status_code == again.status_code == 200
    assert "<Response" in first.text and "<Message" not in again.text
    conversation = world.conversation("ria", contact_id)
    assert conversation is not None
    notes = [m for m in conversation["messages"] if m["direction"] == "note"]
    assert [n["body"] for n in notes] == ["The texter sent an image."]
    assert "secret.jpg" not in str(conversation)


def test_sql_and_logs_hold_no_body_and_no_number(world: TextWorld,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    numbers = [new_number() for _ in range(2)]
    said = ["my landlord Bartholomew is evicting me", "I feel alone since the funeral"]
    phones = [world.texter(number) for number in numbers]
    for phone, body in zip(phones, said, strict=True):
        phone.text(LINE_NUMBER, body)
        world.wait_text(phone, "not a crisis line")
    a = world.accept_next("ria")
    status, answer = world.api("ria", "POST", f"/api/texts/{a}/messages",
                               {"body": "That sounds so hard, Quill"})
    assert status == 202, answer
    world.wait_text(phones[0], "Quill")
    world.api("ria", "POST", f"/api/texts/{a}/close")
    world.run_jobs()
    with world.runtime.sessions() as session:
        assert len(session.scalars(select(Contact.id)).all()) == 2
    needles = [n for number in numbers for n in number_forms(number)]
    needles += ["Bartholomew", "funeral", "Quill"]
    assert_absent(sql_dump(world.runtime), needles, "SQL")
    assert_absent(caplog.text, needles, "the logs")
