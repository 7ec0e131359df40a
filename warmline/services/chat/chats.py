"""A web chat from the widget's side: the line's first words, starting, sending, reading and
"end and delete".

The conversation itself is a text conversation on channel `chat` (`services/texts/conversation`):
the same offers in the dashboard's texts pane, risk words, wait bound, inactivity close and
encrypted, expiring content. What differs is the door. A chatter has no number: they hold a
random token (kept in their page's sessionStorage, never a cookie), and the app keeps only its
digest. Their pseudonym (`caller_hash`) is the keyed hash of their client address, so blocks,
daily limits and flood limits apply to chats as they do to calls and texts, and no address is
stored in clear anywhere. Messages are numbered by their place in the conversation, so a widget
whose connection dropped asks for "everything after N" and misses or repeats nothing; a message
the widget resends carries its own id and is kept once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import select

from warmline import keys
from warmline.catalogs import SOURCE_LANGUAGE, locale_of, message, say
from warmline.models import Contact, EventKind, Experience, Line, Outcome
from warmline.routing import wait_status
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.chat.widget_words import WIDGET_WORDS, language_choices, widget_words
from warmline.services.contacts import (
    finish_contact,
    is_blocked,
    is_over_daily_limit,
    note_event,
    open_contact,
)
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import is_open
from warmline.services.texts import conversation as conv
from warmline.services.voice import floods
from warmline.texts import words
from warmline.texts.store import Conversation
from warmline.wording import N_, Wording, said_in

CHANNEL = "chat"
# One chat message; a peer's reply may be a text's 1,600 characters.
MESSAGE_MAX_CHARACTERS = 2000
# How long one read may wait for something new (a long poll), well inside proxies' timeouts.
LONGEST_WAIT_SECONDS = 25.0
POLL_STEP_SECONDS = 0.5
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ADDRESS_PURPOSE = "chat-address:"


@dataclass(frozen=True)
class ChatRefusal:
    message: str
    status: int


@dataclass(frozen=True)
class ChatLine:
    id: int
    name: str
    origins: tuple[str, ...]
    language: str  # the line's default
    languages: tuple[str, ...] = ()

    def chosen(self, wanted: str | None) -> str:
        """`wanted` if the line offers it, else the line's default."""
        return wanted if wanted in self.languages else self.language


@dataclass(frozen=True)
class Started:
    token: str
    state: str


@dataclass(frozen=True)
class Messages:
    messages: list[dict[str, Any]]
    state: str  # waiting | connected | closed | ended (nothing left: deleted or expired)


def digits_of(number: str) -> str:
    """A line's key in chat URLs and the snippet's data-line: its number's digits."""
    return re.sub(r"\D", "", number)


def find_chat_line(runtime: Runtime, line_key: str) -> ChatLine | None:
    """The active line with these digits that takes chats (has origins), or None."""
    wanted = digits_of(line_key)
    if not wanted:
        return None
    with runtime.sessions() as session:
        for line in session.scalars(select(Line).where(Line.active.is_(True),
                                                       Line.number == "+" + wanted)):
            if line.chat_origins:
                return ChatLine(line.id, line.name, tuple(line.chat_origins),
                                line.default_language, tuple(line.languages or [line.default_language]))
    return None


def allows_origin(line: ChatLine, origin: str | None) -> bool:
    return bool(origin) and (origin or "").strip().lower() in line.origins


def address_identity(runtime: Runtime, address: str) -> str:
    """The chatter's pseudonym: a keyed hash of their client address (never stored in clear)."""
    return runtime.keys.keyed_hash(_ADDRESS_PURPOSE + address)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _experiences(runtime: Runtime, language: str) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        found = session.scalars(select(Experience).where(Experience.active.is_(True))
                                .order_by(Experience.digit)).all()
        return [(e.key, e.label_for(language)) for e in found]


def describe_line(runtime: Runtime, line: ChatLine, now: datetime,
                  language: str | None = None) -> dict[str, Any]:
    """What the widget shows first, in `language` (one of the line's): who we are, not a crisis
    line, 988/911, the choices, and every word the widget shows or announces."""
    chosen = line.chosen(language)
    with runtime.sessions() as session:
        row = session.get(Line, line.id)
        open_now = row is not None and is_open(row, now)
    said = widget_words(chosen, line.name)
    return {
        "name": line.name,
        "language": chosen,
        "languages": language_choices(line.languages),
        "first_words": words.chat_first_words(line.name, chosen),
        "experiences": [{"key": key, "label": label}
                        for key, label in _experiences(runtime, chosen)],
        "anyone": said["anyone"],
        "words": said,
        "open": open_now,
    }


# --------------------------------------------------------------------------- starting


def _refuse(runtime: Runtime, contact: Contact, outcome: Outcome, now: datetime, *,
            line: ChatLine, why: Wording, status: int, language: str) -> ChatRefusal:
    finish_contact(runtime, contact, outcome, now)
    return ChatRefusal(words.chat_refusal(line.name, str(said_in(language, why)), language), status)


def start_chat(runtime: Runtime, line: ChatLine, address: str, experience: str | None,
               now: datetime, *, language: str | None = None) -> Started | ChatRefusal:
    """A new chat in `language` (one of the line's): checked like a text's first message, then
    queued on channel `chat`."""
    chosen = line.chosen(language)
    caller_hash = address_identity(runtime, address)
    labels = dict(_experiences(runtime, chosen))
    if experience is not None and experience not in labels:
        return ChatRefusal(str(said_in(chosen, N_("Choose one of the experiences offered, or anyone."))),
                           400)
    with runtime.sessions() as session:
        row = session.get(Line, line.id)
        if row is None:
            return ChatRefusal(str(said_in(chosen, N_("This line takes no chats."))), 404)
        session.expunge(row)
        contact = open_contact(runtime, session, line=row, channel=CHANNEL,
                               caller_hash=caller_hash, provider_sid=None, now=now,
                               language=chosen)
        session.commit()
        if is_blocked(session, caller_hash, line.id, now):
            return _refuse(runtime, contact, Outcome.BLOCKED, now, line=line,
                           why=N_("chats from here can't reach us right now."),
                           status=403, language=chosen)
        if is_over_daily_limit(session, row, caller_hash, now):
            return _refuse(runtime, contact, Outcome.OVER_LIMIT, now, line=line,
                           why=N_("you've reached today's limit of chats; please try again tomorrow."),
                           status=429, language=chosen)
        if not is_open(row, now):
            return _refuse(runtime, contact, Outcome.CLOSED_HOURS, now, line=line,
                           why=N_("we're closed right now."),
                           status=409, language=chosen)
        if floods.count_call(runtime, row, caller_hash, now, chat=True) is not None:
            return _refuse(runtime, contact, Outcome.OVER_LIMIT, now, line=line,
                           why=N_("we're getting more chats than we can take; please try again soon."),
                           status=429, language=chosen)
        contact.experience_key = experience
        contact.any_peer = experience is None
        session.commit()
        session.expunge(contact)
    token = secrets.token_urlsafe(32)
    store = conv.conversation_store(runtime)
    store.create(contact.id, line_id=line.id, caller_hash=caller_hash, number="",
                 experience=experience, now=now, label=f"Chatter {contact.id[:4].upper()}",
                 channel=CHANNEL, language=chosen)
    runtime.redis.set(keys.chat_token(_digest(token)), contact.id, ex=store.content_seconds)
    conv.start_wait_bound(runtime, contact.id, now, row.max_wait_seconds)
    note_event(runtime, contact, EventKind.MENU_CHOICE, now,
               detail={"choice": experience or "anyone"})
    refresh_line_routing(runtime, line.id, now)
    arrival = routing.contact_arrived(runtime, routing.arriving(
        contact_id=contact.id, line_id=line.id, channel=CHANNEL, experience=experience,
        language=chosen, priority=0, arrived_at=now,
        accepts_any_peer=experience is None,
    ), now)
    note_event(runtime, contact, EventKind.QUEUED, now)
    status = wait_status.wait_status(routing.routing_engine(runtime, now), contact.id)
    if status is not None and status.state == "waiting":
        said = words.waiting_reply(arrival.verdict.outlook.value, labels.get(experience or ""),
                                   status.position, False, all_talking=status.all_talking,
                                   language=chosen)
        conv.queue_text(runtime, contact.id, said or words.reply(chosen, "chat_free_soon"), now,
                        by="line")
    return Started(token, _state_of(store.get(contact.id)))


# --------------------------------------------------------------------------- the conversation


def _own(runtime: Runtime, line: ChatLine, token: str) -> Conversation | None:
    if not token:
        return None
    raw = runtime.redis.get(keys.chat_token(_digest(token)))
    if raw is None:
        return None
    contact_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    conversation = conv.conversation_store(runtime).get(contact_id)
    if conversation is None or conversation.line_id != line.id \
            or conversation.channel != CHANNEL:
        return None
    return conversation


def _state_of(conversation: Conversation | None) -> str:
    if conversation is None:
        return "ended"
    if not conversation.is_open:
        return "closed"
    return "connected" if conversation.accepted else "waiting"


# Why a message was not kept, in the chat's language; the widget's own words where it has them.
_TOO_LONG = message("chat_too_long", "A message can hold at most {characters} characters.")
_NO_ID = message("chat_no_message_id", "A message needs an id (letters, digits, - or _).")


def send_message(runtime: Runtime, line: ChatLine, token: str, *, message_id: str,
                 body: str, now: datetime, language: str | None = None) -> ChatRefusal | None:
    """The chatter's message, kept once (by the widget's id), in order, and read for risk.
    Refusals and replies are in the chat's language; `language` (the widget's) only says that
    a chat which is gone has ended."""
    conversation = _own(runtime, line, token)
    if conversation is None:
        return ChatRefusal(say(line.chosen(language), WIDGET_WORDS["ended"]), 404)
    chosen = conv.language_of(conversation, None)
    if not conversation.is_open:
        return ChatRefusal(say(chosen, WIDGET_WORDS["closed"]), 409)
    text = body.strip()
    if not text:
        return ChatRefusal(say(chosen, WIDGET_WORDS["write_first"]), 400)
    if len(text) > MESSAGE_MAX_CHARACTERS:
        most = format_decimal(MESSAGE_MAX_CHARACTERS, locale=locale_of(chosen))
        return ChatRefusal(say(chosen, _TOO_LONG, characters=most), 422)
    if not _MESSAGE_ID.fullmatch(message_id):
        return ChatRefusal(say(chosen, _NO_ID), 400)
    contact_id = conversation.contact_id
    store = conv.conversation_store(runtime)
    seen = keys.chat_seen(contact_id)
    if not runtime.redis.sadd(seen, message_id):
        return None  # the widget resent a message we already have
    runtime.redis.expire(seen, store.content_seconds)
    state = routing.routing_engine(runtime, now).contact_state(contact_id)
    if state is None and not conversation.accepted:
        # Routing lost it (Redis came back empty): nobody could answer it, so it ends.
        conv.close_conversation(runtime, contact_id, now, reason="lost")
        return ChatRefusal(say(chosen, WIDGET_WORDS["ended"]), 409)
    store.append(contact_id, {"dir": "in", "body": text}, now)
    conv.note(runtime, conversation, EventKind.MESSAGE_IN, now, detail={"media": False})
    store.touch(contact_id, now)
    runtime.redis.expire(keys.chat_token(_digest(token)), store.content_seconds)
    if words.has_risk_words(text, conv.text_policy(runtime).risk_words) \
            and conv.raise_risk(runtime, conversation, now):
        conv.queue_text(runtime, contact_id, words.reply(chosen, "risk"), now, by="line")
    if not conversation.accepted and state == "waiting":
        _waiting_choice(runtime, conversation, text, chosen, now)
    return None


def _waiting_choice(runtime: Runtime, conversation: Conversation, text: str, language: str,
                    now: datetime) -> None:
    """ANY or WAIT typed while waiting, as a texter may (the wait bound's words offer them), in
    English or the chat's language, and answered in it."""
    if words.keyword_in(language, text, "keyword_any") and conversation.experience is not None:
        routing.choose_any(runtime, conversation.contact_id, now)
        conv.note(runtime, conversation, EventKind.MENU_CHOICE, now, detail={"choice": "anyone"})
        conv.queue_text(runtime, conversation.contact_id, words.reply(language, "chat_any_ok"),
                        now, by="line")
    elif words.keyword_in(language, text, "keyword_wait"):
        conv.note(runtime, conversation, EventKind.MENU_CHOICE, now, detail={"choice": "wait"})
        label = dict(_experiences(runtime, language)).get(conversation.experience or "")
        said = (words.reply(language, "keep_waiting_match", label=label) if label
                else words.reply(language, "keep_waiting"))
        conv.queue_text(runtime, conversation.contact_id, said, now, by="line")


def read_messages(runtime: Runtime, line: ChatLine, token: str, after: int) -> Messages:
    """Everything after the widget's last message id, and the conversation's state."""
    conversation = _own(runtime, line, token)
    if conversation is None:
        return Messages([], "ended")
    store = conv.conversation_store(runtime)
    found: list[dict[str, Any]] = []
    for number, entry in enumerate(store.entries(conversation.contact_id), start=1):
        if number <= after or entry.get("dir") == "note":
            continue
        who = "you" if entry.get("dir") == "in" else str(entry.get("by") or "line")
        found.append({"id": number, "from": who, "body": str(entry.get("body", ""))})
    return Messages(found, _state_of(conversation))


def wait_for_messages(runtime: Runtime, line: ChatLine, token: str, *, after: int,
                      known_state: str, wait_seconds: float, clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> Messages:
    """A long poll: answers as soon as there is a new message or a new state, or at the end of
    the wait with nothing new."""
    deadline = clock() + min(max(wait_seconds, 0.0), LONGEST_WAIT_SECONDS)
    while True:
        found = read_messages(runtime, line, token, after)
        if found.messages or found.state != known_state or clock() >= deadline:
            return found
        sleep(POLL_STEP_SECONDS)


# What a chatter reads when a rate limit holds them back, by the API call that was held.
_TOO_MANY = {
    "chat.start": N_("Too many chats have started from here; please try again later."),
    "chat.send": N_("That's a lot of messages at once; wait a moment and send again."),
    "chat.receive": N_("Too many reads; wait a moment."),
    "chat.text_me": N_("We've sent enough texts from here for now; please try again later."),
}


def too_many_words(line: ChatLine | None, language: str | None, endpoint: str) -> str:
    chosen = line.chosen(language) if line else SOURCE_LANGUAGE
    why = str(said_in(chosen, _TOO_MANY.get(endpoint, _TOO_MANY["chat.send"])))
    return words.chat_refusal(line.name, why, chosen) if line else why


def end_and_delete(runtime: Runtime, line: ChatLine, token: str, now: datetime) -> bool:
    """The chatter's "end and delete": the chat ends and its content is erased at once."""
    conversation = _own(runtime, line, token)
    if conversation is None:
        return False
    contact_id = conversation.contact_id
    if conversation.is_open:
        conv.close_conversation(runtime, contact_id, now, reason="deleted")
    conv.conversation_store(runtime).erase_conversation(contact_id)
    runtime.redis.delete(keys.chat_token(_digest(token)), keys.chat_seen(contact_id))
    return True
