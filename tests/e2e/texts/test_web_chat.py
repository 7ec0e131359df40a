"""Web chat through its HTTP API: first words, choosing, routing to the texts pane on channel
`chat`, messages both ways in order with ids (no loss, no repeats), CORS only for the line's
origins, no cookies, risk words, rate limits, blocks, end and delete, and the privacy scans."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.privacy import assert_absent, redis_dump, sql_dump
from tests.support.text_world import LINE_NUMBER, TextWorld, new_number
from warmline.clock import utc_now
from warmline.models import Block, Contact, Line
from warmline.routing.engine import RoutingEngine
from warmline.services.chat import chats
from warmline.texts import words
from warmline.web import chat_limits

ORIGIN = "https://peerwarmline.example.org"
ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (ChatTestAgent/7.1)"
API = "/chat/lines/" + LINE_NUMBER.lstrip("+")


class Chatter:
    """The widget's side, through Flask's test client: Origin, address and agent on each call."""

    def __init__(self, client: FlaskClient, *, origin: str = ORIGIN, address: str = ADDRESS,
                 forwarded_for: str | None = None) -> None:
        self.client, self.origin, self.address = client, origin, address
        self.forwarded_for = forwarded_for
        self.token = ""
        self.after = 0
        self.seen: list[dict[str, Any]] = []

    def call(self, method: str, path: str = "", json: Any = None) -> tuple[int, Any, Any]:
        headers = {"Origin": self.origin, "User-Agent": AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        response = self.client.open(API + path, method=method, json=json, headers=headers,
                                    environ_base={"REMOTE_ADDR": self.address})
        assert "Set-Cookie" not in response.headers  # no cookie, ever
        return response.status_code, response.get_json(silent=True), response.headers

    def start(self, experience: str | None = None,
              language: str | None = None) -> tuple[int, Any]:
        asked: dict[str, Any] = {"experience": experience}
        if language:
            asked["language"] = language
        status, body, _ = self.call("POST", "/conversations", asked)
        if status == 201:
            self.token = body["token"]
        return status, body

    def send(self, body: str, message_id: str) -> int:
        status, _, _ = self.call("POST", "/messages", {"id": message_id, "body": body})
        return status

    def read(self) -> dict[str, Any]:
        status, body, _ = self.call("GET", f"/messages?after={self.after}&wait=0")
        assert status == 200, body
        for message in body["messages"]:
            assert message["id"] == self.after + 1  # in order, none missing, none repeated
            self.after = message["id"]
            self.seen.append(message)
        result: dict[str, Any] = body
        return result

    def bodies(self) -> list[str]:
        return [f"{m['from']}: {m['body']}" for m in self.seen]


def allow_chat(world: TextWorld, **line: Any) -> None:
    with world.runtime.sessions.begin() as session:
        row = session.get(Line, world.line_id)
        assert row is not None
        row.chat_origins = [ORIGIN]
        for name, value in line.items():
            setattr(row, name, value)


@pytest.fixture
def chatter(world: TextWorld) -> Chatter:
    allow_chat(world)
    return Chatter(world.app.test_client())


def wait_until(world: TextWorld, chatter: Chatter, contains: str) -> None:
    world.settle(lambda: (chatter.read(), any(contains in b for b in chatter.bodies()))[1],
                 what=f"the chatter reads {contains!r}")


def test_first_words_then_a_peer_who_shares_it_and_messages_both_ways_in_order(
        world: TextWorld, chatter: Chatter) -> None:
    status, line, headers = chatter.call("GET")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "not a crisis line" in line["first_words"]
    assert "988" in line["first_words"] and "911" in line["first_words"]
    assert [e["key"] for e in line["experiences"]] == ["recovery", "veteran"]
    assert line["anyone"] and line["open"] is True
    world.add_peer("vic", phone=new_number())  # shares nothing
    world.add_peer("ria", phone=new_number(), experiences=("recovery",))
    world.go_available("vic")
    world.go_available("ria")
    assert chatter.start("recovery")[0] == 201
    assert world.texts("vic")["offers"] == []
    offer = world.wait_offer("ria")
    assert offer["channel"] == "chat" and offer["experience"] == "recovery"
    contact_id = world.accept_next("ria")
    wait_until(world, chatter, "has joined and will chat with you here")
    assert chatter.read()["state"] == "connected"

    assert chatter.send("first from the chatter", "m-1") == 202
    assert chatter.send("first from the chatter", "m-1") == 202  # resent after a drop: kept once
    status, body = world.api("ria", "POST", f"/api/texts/{contact_id}/messages",
                             {"body": "first from the peer"})
    assert status == 202, body
    assert chatter.send("second from the chatter", "m-2") == 202
    world.api("ria", "POST", f"/api/texts/{contact_id}/messages", {"body": "second from the peer"})
    chatter.read()
    assert chatter.bodies()[-4:] == [
        "you: first from the chatter", "peer: first from the peer",
        "you: second from the chatter", "peer: second from the peer"]
    assert chatter.read()["messages"] == []  # nothing again after the last id
    pane = world.conversation("ria", contact_id)
    assert pane is not None and pane["channel"] == "chat" and pane["label"].startswith("Chatter")
    assert [m["body"] for m in pane["messages"] if m["direction"] == "in"] == [
        "first from the chatter", "second from the chatter"]
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.channel == "chat"
    assert RoutingEngine(world.runtime.redis).load(world.peers["ria"]).texts == 1

    world.api("ria", "POST", f"/api/texts/{contact_id}/close")
    wait_until(world, chatter, "Thanks for chatting")
    assert chatter.read()["state"] == "closed"
    assert chatter.send("too late", "m-3") == 409


def test_only_the_lines_origins_may_call_and_a_line_without_chat_has_none(
        world: TextWorld) -> None:
    client = world.app.test_client()
    assert Chatter(client).call("GET")[0] == 404  # no origins: the line takes no chats
    allow_chat(world)
    for origin in ("https://evil.example", ""):
        status, _, headers = Chatter(client, origin=origin).call("GET")
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, _, headers = Chatter(client).call("OPTIONS", "/messages")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers
    assert Chatter(client, origin="https://evil.example").call("OPTIONS", "/messages")[0] == 403
    script = client.get("/chat/widget.js")
    assert script.status_code == 200 and script.headers["Cross-Origin-Resource-Policy"] == \
        "cross-origin"
    assert "Set-Cookie" not in script.headers and b"sessionStorage" in script.data
    assert client.get("/chat/lines/15550009999", headers={"Origin": ORIGIN}).status_code == 404


def test_risk_words_raise_the_chat_ahead_and_flag_it(world: TextWorld, chatter: Chatter) -> None:
    early = Chatter(world.app.test_client(), address="203.0.113.1")
    assert early.start()[0] == 201
    assert chatter.start()[0] == 201
    assert chatter.send("I have 30 pills tonight", "r-1") == 202
    wait_until(world, chatter, "988 now")
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    offer = world.wait_offer("ria")
    assert offer["risk"] is True and offer["channel"] == "chat"
    contact_id = world.accept_next("ria")
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.risk_flagged and contact.priority > 0
    wait_until(world, chatter, "has joined")
    early.read()
    assert not any("has joined" in b for b in early.bodies())


def test_limits_per_token_and_per_address_and_blocks_apply(world: TextWorld) -> None:
    allow_chat(world, daily_contact_limit=0)
    client = world.app.test_client()
    first = Chatter(client)
    assert first.start()[0] == 201
    sent = [first.send(f"message {n}", f"t-{n}")
            for n in range(chat_limits.MESSAGES_PER_TOKEN_PER_MINUTE + 1)]
    assert sent[:-1] == [202] * chat_limits.MESSAGES_PER_TOKEN_PER_MINUTE and sent[-1] == 429
    # The limit is the token's: another chat from the same address still sends.
    second = Chatter(client)
    assert second.start()[0] == 201 and second.send("hello", "u-1") == 202
    starts = [Chatter(client).start()[0] for _ in range(chat_limits.CHATS_PER_ADDRESS_PER_HOUR - 1)]
    assert starts[:-1] == [201] * (chat_limits.CHATS_PER_ADDRESS_PER_HOUR - 2) and starts[-1] == 429
    # X-Forwarded-For is not believed with WARMLINE_PROXY_HOPS=0: still the same address.
    assert Chatter(client, forwarded_for="198.51.100.9").start()[0] == 429

    blocked = "203.0.113.200"
    now = utc_now()
    with world.runtime.sessions.begin() as session:
        session.add(Block(caller_hash=chats.address_identity(world.runtime, blocked),
                          line_id=world.line_id, created_at=now,
                          expires_at=now + timedelta(days=1)))
    status, body = Chatter(client, address=blocked).start()
    assert status == 403 and "988" in body["error"]
    world.run_jobs()  # the event writer sets the outcome
    with world.runtime.sessions() as session:
        outcomes = session.scalars(select(Contact.outcome).where(
            Contact.caller_hash == chats.address_identity(world.runtime, blocked))).all()
    assert outcomes == ["blocked"]


def test_the_address_is_the_proxys_client_with_proxy_hops(world: TextWorld) -> None:
    from warmline.app import create_app

    allow_chat(world, daily_contact_limit=0)
    settings = dataclasses.replace(world.runtime.settings, proxy_hops=1)
    client = create_app(settings=settings, runtime=world.runtime).test_client()
    proxy = "10.0.0.2"
    for n in range(chat_limits.CHATS_PER_ADDRESS_PER_HOUR):
        assert Chatter(client, address=proxy, forwarded_for="198.51.100.1").start()[0] == 201, n
    assert Chatter(client, address=proxy, forwarded_for="198.51.100.1").start()[0] == 429
    assert Chatter(client, address=proxy, forwarded_for="198.51.100.2").start()[0] == 201


def test_a_limit_is_a_clear_429_per_token_and_per_address_behind_the_proxies(world: TextWorld) -> None:
    """Flask-Limiter keeps the chat's counts; with WARMLINE_PROXY_HOPS=1 the address is the
    client the proxy names, so chatters behind one proxy do not share a limit."""
    from warmline.app import create_app

    allow_chat(world, daily_contact_limit=0)
    settings = dataclasses.replace(world.runtime.settings, proxy_hops=1)
    client = create_app(settings=settings, runtime=world.runtime).test_client()
    proxy = "10.0.0.2"

    def chatter(client_address: str) -> Chatter:
        found = Chatter(client, address=proxy, forwarded_for=client_address)
        assert found.start()[0] == 201
        return found

    # Per token: one chat's 21st message in a minute.
    one = chatter("198.51.100.1")
    for n in range(chat_limits.MESSAGES_PER_TOKEN_PER_MINUTE):
        assert one.send(f"m {n}", f"a-{n}") == 202
    status, body, headers = one.call("POST", "/messages", {"id": "a-x", "body": "one more"})
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert "wait a moment and send again" in body["error"] and "988" in body["error"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN  # the page can read why
    # Per address: that client's other chats share its 60 a minute, whatever their tokens (the
    # message held back by its token's limit was one of them too).
    others = [chatter("198.51.100.1") for _ in range(2)]
    left = chat_limits.MESSAGES_PER_ADDRESS_PER_MINUTE - chat_limits.MESSAGES_PER_TOKEN_PER_MINUTE - 1
    sent = [others[n // 20].send(f"m {n}", f"b-{n}") for n in range(left)]
    assert sent == [202] * left
    assert others[1].send("over the address's limit", "b-x") == 429
    # Another client behind the same proxy has its own count.
    assert chatter("198.51.100.2").send("hello", "c-1") == 202
    # Reads, per token.
    reads = [one.call("GET", "/messages?after=0&wait=0")[0]
             for _ in range(chat_limits.READS_PER_TOKEN_PER_MINUTE + 1)]
    assert reads[:-1] == [200] * chat_limits.READS_PER_TOKEN_PER_MINUTE and reads[-1] == 429


def test_end_and_delete_leaves_no_trace_in_redis_sql_or_logs(
        world: TextWorld, chatter: Chatter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world.add_peer("ria", phone=new_number())
    world.go_available("ria")
    assert chatter.start()[0] == 201
    contact_id = world.accept_next("ria")
    secret, reply = "my sister's name is Quillane", "thank you for telling me Quillane"
    assert chatter.send(secret, "s-1") == 202
    world.api("ria", "POST", f"/api/texts/{contact_id}/messages", {"body": reply})
    wait_until(world, chatter, reply)
    token = chatter.token
    assert chatter.call("POST", "/end")[0] == 200
    world.run_jobs()
    assert world.conversation("ria", contact_id) is None
    assert chatter.read()["state"] == "ended"
    needles = [secret, reply, "Quillane", token, ADDRESS, AGENT]
    assert_absent(redis_dump(world.runtime, decrypt=True), needles, "Redis")
    assert_absent(sql_dump(world.runtime), needles, "SQL")
    assert_absent(caplog.text, needles, "the logs")
    with world.runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.outcome == "connected"
    assert RoutingEngine(world.runtime.redis).load(world.peers["ria"]).texts == 0


def test_a_long_poll_answers_at_once_when_something_is_new(world: TextWorld,
                                                           chatter: Chatter) -> None:
    assert chatter.start()[0] == 201
    status, body, _ = chatter.call("GET", "/messages?after=0&wait=20&state=")
    assert status == 200 and body["state"] == "waiting" and body["messages"]
    status, body, _ = chatter.call("GET", f"/messages?after={len(body['messages'])}&wait=1"
                                          "&state=waiting")
    assert status == 200 and body == {"messages": [], "state": "waiting"}
    assert Chatter(world.app.test_client()).call("GET", "/messages")[0] == 401


def test_a_read_beyond_the_long_polls_a_process_holds_answers_at_once(
        world: TextWorld, chatter: Chatter) -> None:
    from warmline.web import chat as chat_web

    assert chatter.start()[0] == 201
    slots = world.app.extensions["warmline.chat.long_poll_slots"]
    threads = world.runtime.settings.web_threads
    held = [slots.acquire(blocking=False) for _ in range(chat_web.long_polls_per_process(threads))]
    try:
        assert all(held)
        status, body, _ = chatter.call("GET", "/messages?after=99&wait=20&state=waiting")
        assert status == 200 and body["messages"] == [] and body["state"] == "waiting"
        assert body["retry_after"] == chat_web.SHORT_POLL_RETRY_SECONDS
    finally:
        for _ in held:
            slots.release()


def test_the_widget_speaks_the_chosen_language_of_the_line(world: TextWorld, chatter: Chatter) -> None:
    allow_chat(world, languages=["en", "es"])
    status, spanish, _ = chatter.call("GET", "?lang=es-MX")
    assert status == 200 and spanish["language"] == "es"
    assert spanish["languages"] == [{"code": "en", "name": "English"}, {"code": "es", "name": "español"}]
    # Its first words are the first text reply's, in the same language (the keywords are buttons).
    first_text = words.first_reply(spanish["name"], ["RECOVERY", "VETERAN"], "es").split("\n")
    assert spanish["first_words"].split("\n") == [first_text[0], first_text[2]]
    assert spanish["anyone"] == "Cualquiera que esté libre"
    assert spanish["words"]["waiting"] == "Esperando a un compañero. Puede escribir mientras espera."
    assert spanish["words"]["crisis"] == \
        "En crisis, llame o envíe un texto al 988. En una emergencia, llame al 911."
    # No language asked: the browser's, among the line's; one it does not offer: the default.
    _, browser, _ = chatter.call("GET")
    assert browser["language"] == "en"
    response = chatter.client.get(API, headers={"Origin": ORIGIN, "Accept-Language": "es;q=0.9"})
    assert response.get_json()["language"] == "es"
    _, french, _ = chatter.call("GET", "?lang=fr")
    assert french["language"] == "en"

    status, _, _ = chatter.call("POST", "/conversations", {"experience": None, "language": "es"})
    assert status == 201
    with world.runtime.sessions() as session:
        contact = session.scalars(select(Contact).where(Contact.channel == "chat")).one()
        assert contact.language == "es"


def test_a_spanish_chat_is_answered_and_understood_in_spanish(world: TextWorld,
                                                            chatter: Chatter) -> None:
    """Risk words, the wait's keywords and every refusal in the chat's language, as for a text."""
    allow_chat(world, languages=["en", "es"])
    # On shift, reads Spanish, shares nothing: the chat is told its choices.
    world.add_peer("ria", phone=new_number(), languages=("en", "es"))
    assert chatter.start("recovery", language="es")[0] == 201
    wait_until(world, chatter, "Responda CUALQUIERA para el próximo compañero, o ESPERAR")

    assert chatter.send("esperar", "e-1") == 202
    wait_until(world, chatter, words.reply("es", "keep_waiting_match", label="recovery"))
    assert chatter.send("Tengo 30 pills esta noche", "e-2") == 202
    wait_until(world, chatter, words.reply("es", "risk"))
    assert chatter.send("Cualquiera", "e-3") == 202
    wait_until(world, chatter, "De acuerdo: el próximo compañero que esté libre le responderá aquí.")
    world.go_available("ria")
    assert world.wait_offer("ria")["risk"] is True  # anyone now, and ahead for its risk words

    status, body, _ = chatter.call("POST", "/messages", {"id": "e-4", "body": "   "})
    assert (status, body["error"]) == (400, "Escriba primero un mensaje.")
    status, body, _ = chatter.call("POST", "/messages", {
        "id": "e-5", "body": "x" * (chats.MESSAGE_MAX_CHARACTERS + 1)})
    assert (status, body["error"]) == (422, "Un mensaje puede tener como máximo 2,000 caracteres.")
    status, body, _ = chatter.call("POST", "/messages", {"id": "not an id", "body": "hola"})
    assert status == 400 and body["error"].startswith("Un mensaje necesita un identificador")
    english = ("Reply", "OK", "peer", "If you're", "characters", "Write a message")
    for said in [b for b in chatter.bodies() if b.startswith("line:")]:
        assert not any(word in said for word in english), said

    assert chatter.call("POST", "/end")[0] == 200
    status, body, _ = chatter.call("POST", "/messages", {"id": "e-6", "body": "hola",
                                                         "language": "es"})
    assert (status, body["error"]) == (404, "Este chat terminó.")


def test_text_me_instead_opens_a_text_conversation_from_the_lines_number(
        world: TextWorld, chatter: Chatter, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    number = new_number()
    phone = world.texter(number)
    world.add_peer("ria", phone=new_number())
    refused, body, _ = chatter.call("POST", "/text-me", {"number": number, "consent": False})
    assert refused == 400 and "Tick the box" in body["error"]
    status, body, headers = chatter.call("POST", "/text-me", {"number": number, "consent": True})
    assert status == 201 and body["said"] == "We'll text you at that number."
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    first = world.wait_text(phone, "peer support by text, not a crisis line")
    assert any(e.data.get("from_") == LINE_NUMBER for e in world.standin.events("text_received")
               if e.data.get("number") == number), "sent from the line's own number"
    assert "988" in world.bodies(phone)[-1] or "988" in first
    # A texts conversation like any other: a peer takes it in the pane, the reply reaches the phone.
    world.go_available("ria")
    offer = world.wait_offer("ria")
    assert offer["channel"] == "sms"
    contact_id = world.accept_next("ria")
    world.wait_text(phone, "has joined")
    phone.text(LINE_NUMBER, "thanks for texting me")
    world.settle(lambda: any(m["body"] == "thanks for texting me"
                             for m in world.conversation("ria", contact_id)["messages"]),
                 what="the texter's own text in the same conversation")
    # Asking again while it is open sends nothing new.
    again, _, _ = chatter.call("POST", "/text-me", {"number": number, "consent": True})
    assert again == 200
    # The number is never in clear: not in SQL, not in Redis unencrypted, not in the logs.
    needles = [number, number.lstrip("+"), number[-7:]]
    assert_absent(redis_dump(world.runtime, decrypt=False), needles, "Redis")
    assert_absent(sql_dump(world.runtime), needles, "SQL")
    assert_absent(caplog.text, needles, "the logs")


def test_text_me_instead_is_limited_per_address(world: TextWorld, chatter: Chatter) -> None:
    statuses = [chatter.call("POST", "/text-me", {"number": "12", "consent": True})[0]
                for _ in range(chat_limits.TEXT_ME_PER_ADDRESS_PER_HOUR + 1)]
    assert statuses[:-1] == [400] * chat_limits.TEXT_ME_PER_ADDRESS_PER_HOUR
    assert statuses[-1] == 429
