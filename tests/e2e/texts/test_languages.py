"""A texter's language: from a keyword or from what they wrote; every reply in it, and only a peer
who reads it is offered the conversation."""

from __future__ import annotations

from sqlalchemy import update

from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from warmline.models import Contact, Line, User

SPANISH_FIRST = "Hola, necesito hablar con alguien esta noche, por favor"


def _offer_spanish(world: TextWorld) -> None:
    with world.runtime.sessions.begin() as session:
        session.execute(update(Line).values(languages=["en", "es"]))


def test_a_texter_who_writes_in_spanish_reads_spanish_and_reaches_a_peer_who_reads_it(
        world: TextWorld) -> None:
    _offer_spanish(world)
    world.add_peer("ann", phone=new_number())  # English only, available first
    world.go_available("ann")
    world.add_peer("sol", phone=new_number(), languages=("en", "es"))
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, SPANISH_FIRST)
    world.wait_text(texter, "apoyo entre pares por texto, no una línea de crisis")
    world.wait_text(texter, "¿En peligro ahora? Llame o envíe un texto al 988")
    world.run_jobs()
    assert world.texts("ann")["offers"] == []  # Ann does not read Spanish

    texter.text(LINE_NUMBER, "esperar")
    world.wait_text(texter, "De acuerdo, seguiremos esperando al próximo compañero.")
    world.go_available("sol")
    offer = world.wait_offer("sol")
    assert offer["language"] == {"code": "es", "name": "español"}
    contact_id = world.accept_next("sol")
    world.wait_text(texter, "Un compañero se ha unido y le escribirá por aquí.")
    assert world.conversation("sol", contact_id)["language"]["code"] == "es"
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.language == "es" and contact.peer_id == \
            world.peers["sol"]
    status, body = world.api("sol", "POST", f"/api/texts/{contact_id}/close")
    assert status in (200, 204), body
    world.wait_text(texter, "Gracias por escribirnos. Esta conversación ya está cerrada")
    world.run_jobs()
    english = ("peer support", "Reply", "A peer", "Thanks", "In crisis", "text you")
    for reply in world.bodies(texter):
        assert not any(words in reply for words in english), reply
    assert world.texts("ann")["offers"] == []


def test_a_language_keyword_and_the_spanish_help(world: TextWorld) -> None:
    _offer_spanish(world)
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "Español")
    world.wait_text(texter, "Responda RECOVERY, VETERAN para hablar con un compañero")
    texter.text(LINE_NUMBER, "AYUDA")
    world.wait_text(texter, "apoyo entre pares por texto, de personas con experiencia vivida")
    english_only = world.texter(new_number())
    english_only.text(LINE_NUMBER, "hello, I would like to talk with someone please")
    world.wait_text(english_only, "peer support by text, not a crisis line")


def test_a_line_that_does_not_offer_spanish_answers_in_its_own_language(world: TextWorld) -> None:
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, SPANISH_FIRST)
    world.wait_text(texter, "peer support by text, not a crisis line")


def test_a_texter_switches_language_by_keyword_mid_conversation(world: TextWorld) -> None:
    _offer_spanish(world)
    world.add_peer("sol", phone=new_number(), languages=("en", "es"))
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, "I just need someone to talk to tonight, please")
    world.wait_text(texter, "peer support by text, not a crisis line")
    texter.text(LINE_NUMBER, "español")
    world.wait_text(texter, "De acuerdo: desde ahora le escribiremos en español.")
    texter.text(LINE_NUMBER, "esperar")  # a keyword in the new language, answered in it
    world.wait_text(texter, "De acuerdo, seguiremos esperando al próximo compañero.")
    world.go_available("sol")
    offer = world.wait_offer("sol")
    assert offer["language"] == {"code": "es", "name": "español"}
    contact_id = world.accept_next("sol")
    world.wait_text(texter, "Un compañero se ha unido y le escribirá por aquí.")
    texter.text(LINE_NUMBER, "ENGLISH")  # and back: the English keyword is every line's
    world.wait_text(texter, "OK: we'll text you in English from now on.")
    status, body = world.api("sol", "POST", f"/api/texts/{contact_id}/close")
    assert status in (200, 204), body
    world.wait_text(texter, "Thanks for texting. This conversation is closed now")
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.language == "en"


def test_a_peers_commands_are_answered_in_the_peers_language(world: TextWorld) -> None:
    phone_number = new_number()
    world.add_peer("sol", phone=phone_number, languages=("en", "es"))
    with world.runtime.sessions.begin() as session:
        session.execute(update(User).where(User.email == "sol@example.org").values(language="es"))
    phone = world.standin.peer_phone(phone_number)
    phone.text(LINE_NUMBER, "on")
    on = world.wait_text(phone, "Está disponible en")
    assert len(on.splitlines()) == 1 and "until" not in on and " hasta las " in on
    phone.text(LINE_NUMBER, "BREAK")
    world.wait_text(phone, "Envíe ON cuando esté listo.")
    phone.text(LINE_NUMBER, "STATUS")
    world.settle(lambda: len(world.bodies(phone)) == 3)
    assert world.bodies(phone)[-1].startswith("Está en descanso en")
    phone.text(LINE_NUMBER, "off")
    world.wait_text(phone, "Está fuera en")
    assert not any("You're" in body for body in world.bodies(phone))


def test_a_waiting_texter_who_switches_language_is_matched_in_it(world: TextWorld) -> None:
    _offer_spanish(world)
    world.add_peer("ann", phone=new_number())  # English only, available from the start
    world.go_available("ann")
    texter = world.texter(new_number())
    texter.text(LINE_NUMBER, SPANISH_FIRST)
    world.wait_text(texter, "apoyo entre pares por texto, no una línea de crisis")
    world.run_jobs()
    assert world.texts("ann")["offers"] == []  # Ann does not read Spanish: the texter waits
    texter.text(LINE_NUMBER, "ENGLISH")
    world.wait_text(texter, "OK: we'll text you in English from now on.")
    offer = world.wait_offer("ann")  # the same conversation, now in a language Ann reads
    assert offer["language"]["code"] == "en"
    contact_id = world.accept_next("ann")
    world.wait_text(texter, "A peer has joined")
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.language == "en" and contact.peer_id == world.peers["ann"]
