"""Keywords (STOP family, START/UNSTOP, HELP, DELETE) and peer commands, through the stand-in."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from tests.support.privacy import assert_absent, number_forms, redis_dump, sql_dump
from tests.support.text_world import LINE_NAME, LINE_NUMBER, TextWorld, new_number
from warmline.models import Contact, OptOut
from warmline.texts.words import STOP_WORDS


def _opt_outs(world: TextWorld) -> int:
    with world.runtime.sessions() as session:
        return len(session.scalars(select(OptOut.id)).all())


@pytest.mark.parametrize("word", sorted(STOP_WORDS))
def test_every_stop_word_records_an_opt_out_and_we_send_nothing(world: TextWorld,
                                                                 word: str) -> None:
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, f"  {word.lower()} ")
    world.settle(lambda: _opt_outs(world) == 1, what="the opt-out row")
    with world.runtime.sessions() as session:
        row = session.scalars(select(OptOut)).one()
        assert len(row.caller_hash) == 64 and row.line_id == world.line_id
    second = texter.text(LINE_NUMBER, "hello, is anyone there?")
    world.settle(lambda: world.standin.events("webhook", second.sid),
                 what="the app's answer to the text after STOP")
    world.run_jobs()
    # Only Twilio's own confirmation reached the phone; nothing from the app.
    bodies = world.bodies(texter)
    assert len(bodies) == 1 and "unsubscribed" in bodies[0]


def test_stop_closes_an_open_conversation_and_start_opts_back_in(world: TextWorld) -> None:
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "hi")
    contact_id = world.accept_next("ria")
    texter.text(LINE_NUMBER, "STOP")
    world.settle(lambda: world.conversation("ria", contact_id) is None, what="closed")
    assert _opt_outs(world) == 1
    status, _ = world.api("ria", "POST", f"/api/texts/{contact_id}/messages", {"body": "still?"})
    assert status == 404
    texter.text(LINE_NUMBER, "unstop")
    world.settle(lambda: _opt_outs(world) == 0, what="opted back in")
    texter.text(LINE_NUMBER, "hello again")
    world.wait_text(texter, "not a crisis line")


def test_help_says_who_we_are_the_hours_and_crisis_numbers(world: TextWorld) -> None:
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "help")
    reply = world.wait_text(texter, "peer support by text")
    assert LINE_NAME in reply and "988" in reply and "911" in reply and "24/7" in reply
    with world.runtime.sessions() as session:
        assert session.scalars(select(Contact.id)).all() == []  # HELP opens no contact


def test_stop_with_more_words_is_an_ordinary_text(world: TextWorld) -> None:
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "please stop it")
    world.wait_text(texter, "not a crisis line")
    assert _opt_outs(world) == 0


def test_delete_leaves_no_trace_of_the_texter(world: TextWorld,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    number = new_number()
    secret = "my sister Juniper Okafor keeps calling me"
    texter = world.texter(number)
    texter.text(LINE_NUMBER, secret)
    contact_id = world.accept_next("ria")
    status, _ = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                          {"body": "Tell me about Juniper"})
    assert status == 202
    world.wait_text(texter, "Tell me about Juniper")
    with world.runtime.sessions() as session:
        caller_hash = session.get(Contact, contact_id).caller_hash  # type: ignore[union-attr]
    assert secret in redis_dump(world.runtime, decrypt=True)  # the scan can see content
    texter.text(LINE_NUMBER, "DELETE")
    world.wait_text(texter, "we're deleting everything")

    def erased_at_twilio() -> bool:
        with world.standin.net.cond:
            mine = [m for m in world.standin.net.messages.values()
                    if number in (m.to, m.from_) and "deleting everything" not in m.body]
        return bool(mine) and all(m.body == "" for m in mine)

    world.settle(erased_at_twilio, what="message bodies redacted at Twilio")
    world.settle(lambda: world.conversation("ria", contact_id) is None, what="closed")
    world.run_jobs()
    needles = [*number_forms(number), secret, "Juniper", caller_hash]
    assert_absent(redis_dump(world.runtime, decrypt=True), needles, "Redis")
    assert_absent(sql_dump(world.runtime), needles, "SQL")
    # RQ logs job descriptions, which name the event writer's pseudonym (never a number).
    assert_absent(caplog.text, needles[:-1], "the logs")


def test_peer_commands_from_a_registered_phone(world: TextWorld) -> None:
    phone_number = new_number()
    world.add_peer("ria", phone=phone_number)
    phone = world.standin.peer_phone(phone_number)
    phone.text(LINE_NUMBER, "  on ")
    on = world.wait_text(phone, "You're available on")
    assert on.startswith(f"You're available on {LINE_NAME} until ") and len(on.splitlines()) == 1
    phone.text(LINE_NUMBER, "BREAK")
    world.wait_text(phone, "You're on a break on")
    phone.text(LINE_NUMBER, "status")
    world.settle(lambda: len(world.bodies(phone)) == 3)
    assert world.bodies(phone)[-1].startswith("You're on a break on")
    phone.text(LINE_NUMBER, "Off")
    world.wait_text(phone, "You're off on")
    # Anything else from a peer's phone is an ordinary text to the line.
    phone.text(LINE_NUMBER, "rough shift, can someone talk?")
    world.wait_text(phone, "not a crisis line")


def test_peer_commands_off_shift_and_from_an_unregistered_phone(world: TextWorld) -> None:
    phone_number = new_number()
    world.add_peer("sam", phone=phone_number, on_shift=False)
    phone = world.standin.peer_phone(phone_number)
    phone.text(LINE_NUMBER, "ON")
    reply = world.wait_text(phone, "You're not on shift now; next shift ")
    assert len(reply.splitlines()) == 1
    stranger = world.texter(new_number())
    stranger.text(LINE_NUMBER, "ON")
    world.wait_text(stranger, "not a crisis line")  # a texter, not a peer
