"""An incoming text: a peer's command, a keyword, the first message of a conversation, or the
next message of one (DESIGN.md "Texts, in one breath")."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from warmline import jobs
from warmline.catalogs import clock_24h, short_weekday
from warmline.domain.phone import InvalidPhoneNumberError, to_e164
from warmline.models import (
    CallbackRequest,
    Contact,
    EventKind,
    Experience,
    Line,
    OptOut,
    Outcome,
    Peer,
)
from warmline.routing import wait_status
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import (
    finish_contact,
    is_blocked,
    is_over_daily_limit,
    note_event,
    open_contact,
)
from warmline.services.peers import drop_ins
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import is_open, next_opening
from warmline.services.texts import conversation as conv
from warmline.services.texts.peer_texts import handle_peer_command
from warmline.services.texts.seen_messages import first_sighting
from warmline.services.voice.common import caller_identity
from warmline.telephony import messaging_twiml
from warmline.texts import words
from warmline.texts.forms import TextForm
from warmline.texts.language import texter_language
from warmline.texts.store import Conversation

log = logging.getLogger(__name__)

# A texter who asks for a call back is called within this window (the workers place the call).
TEXT_CALLBACK_WINDOW = timedelta(hours=4)


def _hours_words(line: Line, language: str, now: datetime) -> str:
    if not line.hours:
        return words.reply(language, "open_always")
    if is_open(line, now):
        return words.reply(language, "open_now")
    opening = next_opening(line, now)
    if opening is None:
        return words.reply(language, "closed_for_now")
    local = opening.astimezone(ZoneInfo(line.timezone))
    return words.reply(language, "closed_until", day=short_weekday(language, local.date()),
                       time=clock_24h(language, local))


def _asked_keyword(line: Line, body: str, key: str) -> str | None:
    """The line language whose word for `key` (HELP, DELETE) is the whole message, if any."""
    return next((lang for lang in line.languages if words.keyword_in(lang, body, key)), None)


def _experiences(runtime: Runtime) -> dict[str, Experience]:
    with runtime.sessions() as session:
        found = session.scalars(select(Experience).where(Experience.active.is_(True))
                                .order_by(Experience.digit)).all()
        session.expunge_all()
    return {e.keyword.strip().upper(): e for e in found if e.keyword}


def handle_incoming_text(runtime: Runtime, form: TextForm, now: datetime) -> str:
    store = conv.conversation_store(runtime)
    if form.message_sid and not first_sighting(runtime, form.message_sid, now):
        return messaging_twiml.empty()  # a retry, duplicate or replay of a text we already took
    caller_hash = caller_identity(runtime.keys, form.from_number, form.message_sid)
    with runtime.sessions() as session:
        line = session.scalars(
            select(Line).where(Line.number == form.to_number, Line.active.is_(True))).first()
        if line is None:
            log.warning("a text reached a number that is no active line; run `twilio configure`")
            return messaging_twiml.empty()
        session.expunge(line)
        command = words.peer_command_of(form.body)
        peer_id = session.scalars(select(Peer.id).where(
            Peer.phone_hash == caller_hash, Peer.active.is_(True))).first() if command else None
        opted_out = session.scalars(select(OptOut.id).where(
            OptOut.caller_hash == caller_hash, OptOut.line_id == line.id)).first() is not None
    if command is not None and peer_id is not None:
        answer = words.drop_in_answer_of(command)
        if answer is not None:
            approve, request_id = answer
            return messaging_twiml.reply(drop_ins.answer_by_text(
                runtime, peer_id, request_id, approve=approve, now=now))
        return messaging_twiml.reply(handle_peer_command(runtime, peer_id, command, line, now))
    keyword = words.keyword_of(form.body)
    contact_id = store.find_open(line.id, caller_hash)
    conversation = store.get(contact_id) if contact_id else None
    # A keyword is answered in the language it was asked in, or the open conversation's.
    language = conversation.language if conversation and conversation.language else \
        line.default_language
    asked_help = _asked_keyword(line, form.body, "keyword_help")
    asked_delete = _asked_keyword(line, form.body, "keyword_delete")
    # (The English words are everyone's: asked in English, the language stays as it was.)
    if keyword is None and asked_delete:
        keyword, language = words.Keyword.DELETE, asked_delete
    if keyword is None and asked_help:
        keyword, language = words.Keyword.HELP, asked_help
    if keyword is words.Keyword.STOP:
        return _stop(runtime, line, caller_hash, now)
    if keyword is words.Keyword.START:
        _start(runtime, line, caller_hash)
        return messaging_twiml.empty()  # Twilio sends its own confirmation
    if keyword is words.Keyword.DELETE:
        return _delete(runtime, caller_hash, form.from_number, language, now)
    if opted_out:
        return messaging_twiml.empty()  # nothing is sent to a number that opted out
    if keyword is words.Keyword.HELP:
        return messaging_twiml.reply(
            words.help_reply(line.name, _hours_words(line, language, now), language))
    if conversation is not None and conversation.is_open:
        state = routing.routing_engine(runtime, now).contact_state(conversation.contact_id)
        if state is not None or conversation.accepted:
            return _next_message(runtime, line, conversation, state, form, now=now)
        conv.close_conversation(runtime, conversation.contact_id, now, reason="lost")
    return _first_message(runtime, line, caller_hash, form, now)


# --------------------------------------------------------------------------- keywords


def _stop(runtime: Runtime, line: Line, caller_hash: str, now: datetime) -> str:
    try:
        with runtime.sessions.begin() as session:
            exists = session.scalars(select(OptOut.id).where(
                OptOut.caller_hash == caller_hash, OptOut.line_id == line.id)).first()
            if exists is None:
                session.add(OptOut(caller_hash=caller_hash, line_id=line.id, created_at=now))
    except IntegrityError:
        pass  # a concurrent STOP recorded it
    store = conv.conversation_store(runtime)
    contact_id = store.find_open(line.id, caller_hash)
    if contact_id:
        conv.close_conversation(runtime, contact_id, now, reason="opted_out")
    return messaging_twiml.empty()


def _start(runtime: Runtime, line: Line, caller_hash: str) -> None:
    with runtime.sessions.begin() as session:
        session.execute(delete(OptOut).where(OptOut.caller_hash == caller_hash,
                                             OptOut.line_id == line.id))


def _delete(runtime: Runtime, caller_hash: str, from_number: str, language: str,
            now: datetime) -> str:
    """Close what is open, drop the content and number from Redis now, erase the rest in a job."""
    store = conv.conversation_store(runtime)
    with runtime.sessions() as session:
        line_ids = list(session.scalars(select(Line.id)).all())
    for line_id in line_ids:
        contact_id = store.find_open(line_id, caller_hash)
        if contact_id:
            conv.close_conversation(runtime, contact_id, now, reason="deleted")
    store.erase_texter(caller_hash, line_ids)
    try:
        number = to_e164(from_number)
    except InvalidPhoneNumberError:
        number = from_number.strip()
    # The number rides only encrypted; the job record is dropped once it has run.
    jobs.ERASE_PERSON.enqueue(runtime, caller_hash, runtime.keys.encrypt(number))
    return messaging_twiml.reply(words.with_crisis_numbers(language, words.reply(language, "deleted")))


# --------------------------------------------------------------------------- a new conversation


def _refuse(runtime: Runtime, contact: Contact, outcome: Outcome, now: datetime, text: str) -> str:
    finish_contact(runtime, contact, outcome, now)
    return messaging_twiml.reply(text)


def _label(contact_id: str) -> str:
    return f"Texter {contact_id[:4].upper()}"


def _first_message(runtime: Runtime, line: Line, caller_hash: str, form: TextForm,
                   now: datetime) -> str:
    experiences = _experiences(runtime)
    language = texter_language(form.body, line.languages or [line.default_language])
    with runtime.sessions() as session:
        contact = open_contact(runtime, session, line=line, channel="sms",
                               caller_hash=caller_hash, provider_sid=form.message_sid, now=now,
                               language=language)
        session.commit()
        if is_blocked(session, caller_hash, line.id, now):
            return _refuse(runtime, contact, Outcome.BLOCKED, now, words.with_crisis_numbers(
                language, words.reply(language, "text_blocked", line=line.name)))
        if is_over_daily_limit(session, line, caller_hash, now):
            return _refuse(runtime, contact, Outcome.OVER_LIMIT, now, words.with_crisis_numbers(
                language, words.reply(language, "text_over_limit", line=line.name)))
        if not is_open(line, now):
            return _refuse(runtime, contact, Outcome.CLOSED_HOURS, now, words.with_crisis_numbers(
                language, f"{line.name}: {_hours_words(line, language, now)}"))
        chosen = experiences.get(words.normalize(form.body))
        experience = chosen.key if chosen else None
        contact.experience_key = experience
        contact.any_peer = experience is None
        session.commit()
        session.expunge(contact)
    try:
        number = to_e164(form.from_number)
    except InvalidPhoneNumberError:
        number = form.from_number.strip()
    store = conv.conversation_store(runtime)
    store.create(contact.id, line_id=line.id, caller_hash=caller_hash, number=number,
                 experience=experience, now=now, label=_label(contact.id), language=language)
    conversation = store.get(contact.id)
    assert conversation is not None  # just made
    conv.start_wait_bound(runtime, contact.id, now, line.max_wait_seconds)
    _store_inbound(runtime, conversation, form, now)
    note_event(runtime, contact, EventKind.MENU_CHOICE, now,
               detail={"choice": experience or "anyone"})
    risky = words.has_risk_words(form.body, conv.text_policy(runtime).risk_words)
    refresh_line_routing(runtime, line.id, now)
    arrival = routing.contact_arrived(runtime, routing.arriving(
        contact_id=contact.id, line_id=line.id, channel="sms", experience=experience,
        language=contact.language, priority=conv.RISK_PRIORITY if risky else 0,
        arrived_at=now, accepts_any_peer=experience is None,
    ), now)
    note_event(runtime, contact, EventKind.QUEUED, now)
    replies = [words.first_reply(line.name, list(experiences), language)]
    if risky and conv.raise_risk(runtime, conversation, now):
        replies.append(words.reply(language, "risk"))
    replies.append(_wait_words(runtime, line, contact.id, arrival.verdict.outlook.value,
                               chosen.label_for(language) if chosen else None,
                               language=language, now=now) or "")
    return messaging_twiml.reply(*replies)


def _wait_words(runtime: Runtime, line: Line, contact_id: str, outlook: str,
                label: str | None, *, language: str, now: datetime) -> str | None:
    status = wait_status.wait_status(routing.routing_engine(runtime, now), contact_id)
    if status is None or status.state != "waiting":
        return None
    return words.waiting_reply(outlook, label, status.position, line.callbacks,
                               all_talking=status.all_talking, language=language)


def _store_inbound(runtime: Runtime, conversation: Conversation, form: TextForm,
                   now: datetime) -> None:
    store = conv.conversation_store(runtime)
    if form.body.strip():
        store.append(conversation.contact_id, {"dir": "in", "body": form.body}, now)
    if form.num_media:
        # Media is never fetched or stored: the peer only learns that it was sent.
        store.append(conversation.contact_id, {"dir": "note", "body": conv.MEDIA_NOTE}, now)
    conv.note(runtime, conversation, EventKind.MESSAGE_IN, now,
              detail={"media": form.num_media > 0})


# --------------------------------------------------------------------------- the next message


def _next_message(runtime: Runtime, line: Line, conversation: Conversation, state: str | None,
                  form: TextForm, *, now: datetime) -> str:
    store = conv.conversation_store(runtime)
    _store_inbound(runtime, conversation, form, now)
    store.touch(conversation.contact_id, now)
    replies: list[str] = []
    asked = words.language_keyword_of(form.body, line.languages or [line.default_language])
    switched = asked is not None and asked != conv.language_of(conversation, line)
    if asked is not None and switched:
        conversation = conv.switch_language(runtime, conversation, asked, now)
        replies.append(words.reply(asked, "language_set"))
    if words.has_risk_words(form.body, conv.text_policy(runtime).risk_words) \
            and conv.raise_risk(runtime, conversation, now):
        replies.append(words.reply(conv.language_of(conversation, line), "risk"))
    if not conversation.accepted and state == "waiting" and not switched:
        replies.append(_waiting_choice(runtime, line, conversation, form, now) or "")
    return messaging_twiml.reply(*replies)


def _waiting_choice(runtime: Runtime, line: Line, conversation: Conversation, form: TextForm,
                    now: datetime) -> str | None:
    """ANY, WAIT, CALLBACK or an experience keyword from a texter still waiting."""
    word = words.normalize(form.body)
    language = conv.language_of(conversation, line)
    engine = routing.routing_engine(runtime, now)
    experiences = _experiences(runtime)
    label = next((e.label_for(language) for e in experiences.values()
                  if e.key == conversation.experience), None)
    if words.keyword_in(language, word, "keyword_any"):
        arrival = routing.choose_any(runtime, conversation.contact_id, now)
        _note_choice(runtime, conversation, "anyone", now)
        return _wait_words(runtime, line, conversation.contact_id,
                           arrival.verdict.outlook.value, None, language=language, now=now) or \
            words.reply(language, "any_ok")
    if words.keyword_in(language, word, "keyword_wait"):
        _note_choice(runtime, conversation, "wait", now)
        status = wait_status.wait_status(engine, conversation.contact_id)
        sentences = [words.reply(language, "keep_waiting_match", label=label) if label
                     else words.reply(language, "keep_waiting")]
        if status and status.position:
            sentences.append(words.reply(language, "position", position=status.position))
        return " ".join(sentences)
    if words.keyword_in(language, word, "keyword_callback") and line.callbacks:
        return _callback(runtime, line, conversation, now)
    chosen = experiences.get(word)
    if chosen is not None and chosen.key != conversation.experience:
        arrival = routing.requeue_contact(runtime, conversation.contact_id, now,
                                          experience=chosen.key)
        conv.conversation_store(runtime).set_fields(conversation.contact_id,
                                                    experience=chosen.key)
        with runtime.sessions.begin() as session:
            contact = session.get(Contact, conversation.contact_id)
            if contact is not None:
                contact.experience_key, contact.any_peer = chosen.key, False
        _note_choice(runtime, conversation, chosen.key, now)
        return _wait_words(runtime, line, conversation.contact_id,
                           arrival.verdict.outlook.value, chosen.label_for(language),
                           language=language, now=now)
    return None


def _note_choice(runtime: Runtime, conversation: Conversation, choice: str, now: datetime) -> None:
    conv.note(runtime, conversation, EventKind.MENU_CHOICE, now, detail={"choice": choice})


def _callback(runtime: Runtime, line: Line, conversation: Conversation, now: datetime) -> str:
    """The texter would rather be called: the number moves to an encrypted callback request."""
    store = conv.conversation_store(runtime)
    with runtime.sessions.begin() as session:
        session.add(CallbackRequest(
            contact_id=conversation.contact_id, line_id=line.id,
            caller_hash=conversation.caller_hash,
            number_encrypted=runtime.keys.encrypt(store.number(conversation)),
            experience_key=conversation.experience, language=conv.language_of(conversation, line),
            window_start=now, window_end=now + TEXT_CALLBACK_WINDOW,
            expires_at=now + TEXT_CALLBACK_WINDOW,
        ))
    conv.note(runtime, conversation, EventKind.CALLBACK_REQUESTED, now)
    routing.withdraw_contact(runtime, conversation.contact_id, now)
    # The contact's outcome comes from the callback (connected or failed), not from here.
    store.close(conversation.contact_id, now, conv.MIN_KEEP_SECONDS)
    hours = int(TEXT_CALLBACK_WINDOW.total_seconds() // 3600)
    return words.reply(conv.language_of(conversation, line), "callback_set", count=hours,
                       line=line.name)
