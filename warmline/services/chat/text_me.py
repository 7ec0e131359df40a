""""Text me instead": a chatter, with their consent, gives a number, and the chat's door becomes a
text conversation on the line, from the line's number, as if they had texted it first.

The number is held as texts hold it: its keyed hash is the texter's pseudonym (blocks, opt-outs,
the daily limit), and the number itself only encrypted in the live conversation, expiring with it.
Nothing is sent to a number that opted out of the line (STOP), and nothing outside opening hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from warmline.domain.phone import InvalidPhoneNumberError, to_e164
from warmline.models import EventKind, Experience, Line, OptOut
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.chat.chats import ChatLine
from warmline.services.contacts import is_blocked, is_over_daily_limit, note_event, open_contact
from warmline.services.routing_sync import refresh_line_routing
from warmline.services.schedules import is_open
from warmline.services.texts import conversation as conv
from warmline.services.voice.common import caller_identity
from warmline.texts import words
from warmline.wording import N_, Wording, said_in


@dataclass(frozen=True)
class TextMeAnswer:
    status: int
    message: str


def _answer(status: int, language: str, why: Wording) -> TextMeAnswer:
    return TextMeAnswer(status, str(said_in(language, why)))


def text_me_instead(runtime: Runtime, line: ChatLine, typed_number: str, *, consent: bool,
                    experience: str | None, language: str | None, now: datetime) -> TextMeAnswer:
    chosen = line.chosen(language)
    if not consent:
        return _answer(400, chosen, N_("Tick the box to say we may text you at this number."))
    try:
        number = to_e164(typed_number)
    except InvalidPhoneNumberError:
        return _answer(400, chosen, N_("That doesn't look like a phone number we can text."))
    caller_hash = caller_identity(runtime.keys, number, "")
    store = conv.conversation_store(runtime)
    if store.find_open(line.id, caller_hash) is not None:
        return _answer(200, chosen, N_("We'll text you at that number."))
    with runtime.sessions() as session:
        row = session.get(Line, line.id)
        if row is None:
            return _answer(404, chosen, N_("This line takes no chats."))
        session.expunge(row)
        opted_out = session.scalars(select(OptOut.id).where(
            OptOut.caller_hash == caller_hash, OptOut.line_id == line.id)).first() is not None
        if opted_out or is_blocked(session, caller_hash, line.id, now):
            # Said alike, so the answer never tells whether a number opted out or was blocked.
            return _answer(403, chosen, N_("We can't text that number from here."))
        if is_over_daily_limit(session, row, caller_hash, now) or not is_open(row, now):
            return _answer(409, chosen, N_("We can't start a text conversation right now."))
        known = {e.key for e in session.scalars(select(Experience).where(Experience.active.is_(True)))}
        wanted = experience if experience in known else None
        contact = open_contact(runtime, session, line=row, channel="sms", caller_hash=caller_hash,
                               provider_sid=None, now=now, language=chosen)
        contact.experience_key, contact.any_peer = wanted, wanted is None
        session.commit()
        session.expunge(contact)
        keywords = list(session.scalars(select(Experience.keyword).where(
            Experience.active.is_(True)).order_by(Experience.digit)))
    store.create(contact.id, line_id=line.id, caller_hash=caller_hash, number=number,
                 experience=wanted, now=now, label=f"Texter {contact.id[:4].upper()}",
                 language=chosen)
    conv.start_wait_bound(runtime, contact.id, now, row.max_wait_seconds)
    note_event(runtime, contact, EventKind.MENU_CHOICE, now, detail={"choice": wanted or "anyone",
                                                                    "from": "chat"})
    refresh_line_routing(runtime, line.id, now)
    routing.contact_arrived(runtime, routing.arriving(
        contact_id=contact.id, line_id=line.id, channel="sms", experience=wanted,
        language=chosen, priority=0, arrived_at=now, accepts_any_peer=wanted is None), now)
    note_event(runtime, contact, EventKind.QUEUED, now)
    # The first text is the first reply any texter gets, from the line's own number.
    conv.queue_text(runtime, contact.id, words.first_reply(line.name, keywords, chosen), now,
                    by="line")
    return _answer(201, chosen, N_("We'll text you at that number."))
