"""A text conversation after its first message: offers on dashboards, replies sent in order and
once, delivery states, the risk flag, and closing (by the peer or after inactivity).

A web chat (`services/chat/`) is the same conversation on channel `chat`: its replies are not
sent by Twilio but read by the chatter's widget, so they are "sent" as soon as they are queued."""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from redis.exceptions import LockError
from sqlalchemy import select

from config.text_policy import TextPolicy
from warmline import epoch, jobs, keys
from warmline.catalogs import SOURCE_LANGUAGE, language_name
from warmline.domain.matching import CHAT, priority_from_score
from warmline.domain.numbers import parse_whole_number
from warmline.models import Contact, EventKind, Experience, Line, OptOut, Outcome, Peer, Shift
from warmline.routing import keys as routing_keys
from warmline.routing.engine import PeerProfile
from warmline.routing.results import LapseReason, Offer
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact
from warmline.services.events import record_contact_event
from warmline.services.peers.dashboard import dashboard_is_open
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.telephony.gateway import RecipientOptedOutError, TelephonyError
from warmline.texts import words
from warmline.texts.segments import MAX_CHARACTERS, count_segments
from warmline.texts.store import Conversation, ConversationStore
from warmline.wording import N_

log = logging.getLogger(__name__)

STATUS_PATH = "/twilio/sms/status"
# Texts with risk words go ahead of ordinary ones (DOMAIN.md #13); a person decides the rest.
RISK_PRIORITY = 5
# Goodbyes must still be sendable when the content expires right after closing.
MIN_KEEP_SECONDS = 120



def language_of(conversation: Conversation, line: Line | None) -> str:
    """The texter's language; a conversation from before languages were kept: the line's default."""
    return conversation.language or (line.default_language if line else SOURCE_LANGUAGE)


def switch_language(runtime: Runtime, conversation: Conversation, language: str,
                    now: datetime) -> Conversation:
    """The texter asked for another of the line's languages by its keyword: every later reply,
    keyword answer and goodbye is in it, and the peer sees it beside the conversation. A texter
    still waiting is matched in it from now on (keeping their place), so a peer who reads only the
    new language can take them."""
    conversation_store(runtime).set_fields(conversation.contact_id, language=language)
    if not conversation.accepted:
        routing.requeue_contact(runtime, conversation.contact_id, now, language=language)
    with runtime.sessions.begin() as session:
        contact = session.get(Contact, conversation.contact_id)
        if contact is not None:
            contact.language = language
    return replace(conversation, language=language)


def goodbye(language: str, key: str, channel: str = "sms") -> str:
    """`goodbye_peer`, `goodbye_idle` or `goodbye_no_peer`, with the crisis numbers, in the
    texter's language; a chatter reads it in the widget, so theirs speaks of a chat."""
    said = words.reply(language, f"chat_{key}" if channel == CHAT else key)
    return words.with_crisis_numbers(language, said)
MEDIA_NOTE = "The texter sent an image."


def text_policy(runtime: Runtime) -> TextPolicy:
    return runtime.settings.text_policy


def conversation_store(runtime: Runtime) -> ConversationStore:
    return ConversationStore(runtime.redis, runtime.keys, text_policy(runtime).content_seconds)


def note(runtime: Runtime, conversation: Conversation, kind: EventKind, now: datetime, *,
         peer_id: int | None = None, detail: dict[str, int | str | bool] | None = None) -> None:
    record_contact_event(runtime, contact_id=conversation.contact_id, kind=kind,
                         line_id=conversation.line_id, channel=conversation.channel, at=now,
                         caller_hash=conversation.caller_hash,
                         experience_key=conversation.experience, peer_id=peer_id, detail=detail)


@dataclass(frozen=True)
class Refusal:
    message: str
    status: int


# --------------------------------------------------------------------------- sending


def queue_text(runtime: Runtime, contact_id: str, body: str, now: datetime, *, by: str) -> int:
    """Number an outbound text and hand it to the sender job (ids only in the job)."""
    store = conversation_store(runtime)
    segments = count_segments(body).segments
    seq = store.queue_outbound(contact_id, body, now, by=by, segments=segments)
    conversation = store.get(contact_id)
    if conversation is not None and conversation.channel == CHAT:
        # The widget reads it from the conversation: nothing to send, no body kept twice.
        store.drop_outbound_body(contact_id, seq)
        store.set_status(contact_id, seq, "sent")
        store.mark_done(contact_id, seq)
        note(runtime, conversation, EventKind.MESSAGE_OUT, now, peer_id=conversation.peer_id,
             detail={"segments": segments})
        return seq
    jobs.SEND_TEXTS.enqueue(runtime, contact_id, job_id=f"text-send-{contact_id}-{seq}")
    return seq


class SenderBusyError(TelephonyError):
    """Another job is sending this conversation's texts; this one retries shortly."""


def send_pending(runtime: Runtime, contact_id: str, now: datetime) -> int:
    """Send the conversation's queued texts in order, each at most once; returns how many.

    A text whose send was claimed by a job that then died is never sent again (shown as
    "unknown"): texting a person in distress twice is worse than a missing "sent" tick.
    Transient Twilio errors raise, so RQ retries the job with backoff from the same text on.
    """
    store = conversation_store(runtime)
    lock = runtime.redis.lock(keys.text_send_lock(contact_id), timeout=keys.TEXT_SEND_LOCK_SECONDS,
                              blocking_timeout=2)
    if not lock.acquire():
        raise SenderBusyError("sender busy", transient=True)
    sent = 0
    try:
        conversation = store.get(contact_id)
        if conversation is None:
            return 0
        with runtime.sessions() as session:
            line = session.get(Line, conversation.line_id)
            opted_out = session.scalars(select(OptOut.id).where(
                OptOut.caller_hash == conversation.caller_hash,
                OptOut.line_id == conversation.line_id)).first() is not None
        if line is None:
            return 0
        gateway = runtime.twilio
        public = runtime.settings.public_url
        while True:
            seq = store.sent_upto(contact_id) + 1
            current = store.get(contact_id)
            if current is None or seq > current.seq:
                return sent
            body = store.outbound_body(contact_id, seq)
            if body is None or opted_out or not store.claim_send(contact_id, seq):
                store.set_status(contact_id, seq, "failed" if opted_out else "unknown")
                store.mark_done(contact_id, seq)
                continue
            store.set_status(contact_id, seq, "sending")
            try:
                sid = gateway.send_message(
                    to=store.number(conversation), from_=line.number, body=body,
                    status_callback=f"{public}{STATUS_PATH}?contact={contact_id}&seq={seq}")
            except RecipientOptedOutError:
                store.set_status(contact_id, seq, "failed")
                store.mark_done(contact_id, seq)
                log.info("conversation %s: the texter has opted out (21610); closing", contact_id)
                close_conversation(runtime, contact_id, now, reason="opted_out")
                return sent
            except TelephonyError as exc:
                if exc.transient:
                    # Not sent: let the retried job send this very text, still in order.
                    runtime.redis.hdel(keys.text_outbound(contact_id), f"claim:{seq}")
                    store.set_status(contact_id, seq, "queued")
                    raise
                log.warning("conversation %s: text %s refused by Twilio (%s)", contact_id, seq,
                            exc.code)
                store.set_status(contact_id, seq, "failed")
                store.mark_done(contact_id, seq)
                continue
            store.set_sid(contact_id, seq, sid)
            store.drop_outbound_body(contact_id, seq)
            store.mark_done(contact_id, seq)
            note(runtime, conversation, EventKind.MESSAGE_OUT, now, peer_id=conversation.peer_id,
                 detail={"segments": count_segments(body).segments})
            sent += 1
    finally:
        # A lock that expired under a very slow send is the next job's now.
        with contextlib.suppress(LockError):
            lock.release()


_STATUSES = frozenset({"queued", "sending", "sent", "delivered", "undelivered", "failed"})


def handle_status(runtime: Runtime, contact_id: str, seq_text: str, *, status: str,
                  error_code: str, now: datetime) -> None:
    """Twilio's message status callback: forward-only delivery state; 21610 closes."""
    seq = parse_whole_number(seq_text)
    if seq is None or status not in _STATUSES:
        return
    store = conversation_store(runtime)
    if store.get(contact_id) is None:
        return
    store.set_status(contact_id, seq, status)
    if error_code == "21610":
        close_conversation(runtime, contact_id, now, reason="opted_out")


# --------------------------------------------------------------------------- offers


class TextOfferDispatcher:
    """Shows a text offer on the peer's dashboard; a closed dashboard takes no texts."""

    def dispatch(self, runtime: Runtime, offer: Offer, now: datetime) -> None:
        offer_to_dashboard(runtime, offer, now)


def _profile(runtime: Runtime, peer_id: int, *, texts: bool) -> PeerProfile | None:
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            return None
        line_ids = session.scalars(
            select(Shift.line_id).where(Shift.peer_id == peer_id).distinct()).all()
        channels = set(peer.channels)
        if not texts:
            channels.discard("sms")
        return PeerProfile(peer.id, frozenset(line_ids) if peer.active else frozenset(),
                           frozenset(e.key for e in peer.experiences if e.active),
                           frozenset(peer.languages), frozenset(channels), peer.max_texts)


def offer_to_dashboard(runtime: Runtime, offer: Offer, now: datetime) -> None:
    if not dashboard_is_open(runtime.redis, offer.peer_id):
        # The peer may still take calls; they stop taking texts until their dashboard opens,
        # and the text goes to the next peer (not a miss: nobody was there to miss it).
        profile = _profile(runtime, offer.peer_id, texts=False)
        if profile is not None:
            routing.sync_profile(runtime, profile, now)
        routing.lapse_offer(runtime, offer.offer_id, LapseReason.NO_DASHBOARD, now)
        return
    store = conversation_store(runtime)
    conversation = store.get(offer.contact_id)
    if conversation is None:
        # Its content and the texter's number are gone (Redis came back empty after the
        # rebuild read SQL): no peer could answer it, so it ends rather than being offered
        # round the team for ever (found by `warmline soak`).
        routing.lapse_offer(runtime, offer.offer_id, LapseReason.FAILED, now)
        _end_lost_text(runtime, offer.contact_id, now)
        return
    store.remember_offer(offer.offer_id, offer.contact_id, offer.peer_id,
                         epoch.moment(offer.expires_at))
    note(runtime, conversation, EventKind.OFFERED, now, peer_id=offer.peer_id)


def restore_text_channel(runtime: Runtime, peer_id: int, now: datetime) -> None:
    """The peer's dashboard is open (its pane is polling): texts may be offered again."""
    raw = runtime.redis.hget(routing_keys.peer(peer_id), "channels")
    if raw is None or b"sms" in raw:
        return
    profile = _profile(runtime, peer_id, texts=True)
    if profile is None or "sms" not in profile.channels:
        return
    routing.sync_profile(runtime, profile, now)
    routing.match_lines(runtime, routing.working_lines(runtime, peer_id, now), now)


def accept_offer(runtime: Runtime, peer_id: int, offer_id: str, now: datetime) -> Refusal | None:
    store = conversation_store(runtime)
    found = store.offer(offer_id)
    if found is None or found[1] != peer_id:
        return Refusal(N_("No such text offer for you."), 404)
    contact_id = found[0]
    result = routing.accept_offer(runtime, offer_id, now, TextPeerNotifier(runtime))
    store.forget_offer(offer_id, peer_id)
    if not result.accepted:
        return Refusal(N_("Too late: this text has gone to someone else or the texter left."), 409)
    store.accept(contact_id, peer_id, now)
    conversation = store.get(contact_id)
    if conversation is None:
        return Refusal(N_("This conversation has ended."), 409)
    with runtime.sessions.begin() as session:
        contact = session.get(Contact, contact_id)
        line = session.get(Line, conversation.line_id)
        peer = session.get(Peer, peer_id)
        if contact is not None:
            contact.peer_id = peer_id
        share = bool(line and line.share_peer_first_name and peer and peer.first_name)
        first = peer.first_name if peer is not None and share else ""
    note(runtime, conversation, EventKind.ACCEPTED, now, peer_id=peer_id)
    # "bridged" is the event that marks a contact answered in the reports, for texts too.
    note(runtime, conversation, EventKind.BRIDGED, now, peer_id=peer_id)
    language = language_of(conversation, line)
    chat = conversation.channel == CHAT
    joined = (words.reply(language, "joined_chat_named" if chat else "joined_named", name=first)
              if first else words.reply(language, "joined_chat" if chat else "joined"))
    queue_text(runtime, contact_id, joined, now, by="line")
    schedule_idle_check(runtime, contact_id,
                        now + timedelta(seconds=text_policy(runtime).inactivity_seconds))
    return None


def decline_offer(runtime: Runtime, peer_id: int, offer_id: str, now: datetime) -> Refusal | None:
    store = conversation_store(runtime)
    found = store.offer(offer_id)
    if found is None or found[1] != peer_id:
        return Refusal(N_("No such text offer for you."), 404)
    end = routing.decline_offer(runtime, offer_id, now, TextPeerNotifier(runtime))
    store.forget_offer(offer_id, peer_id)
    conversation = store.get(found[0])
    if end.ended and conversation is not None:
        note(runtime, conversation, EventKind.DECLINED, now, peer_id=peer_id)
    return None


# --------------------------------------------------------------------------- the peer's side


def _own_open(store: ConversationStore, peer_id: int, contact_id: str) -> Conversation | None:
    conversation = store.get(contact_id)
    if conversation is None or conversation.peer_id != peer_id or not conversation.is_open:
        return None
    return conversation


def send_reply(runtime: Runtime, peer_id: int, contact_id: str, body: str,
               now: datetime) -> tuple[int, int] | Refusal:
    """The peer's reply: (seq, segments), or why not. Over 1,600 characters is refused."""
    store = conversation_store(runtime)
    if _own_open(store, peer_id, contact_id) is None:
        return Refusal(N_("This conversation is not open for you."), 404)
    text = body.strip()
    if not text:
        return Refusal(N_("Write a reply first."), 400)
    count = count_segments(text)
    if count.too_long:
        return Refusal(N_("Your reply is %(count)s characters; one text can hold at most %(most)s. "
                          "Shorten it or send it in two parts.", count=count.characters,
                          most=format(MAX_CHARACTERS, ",")), 422)
    seq = queue_text(runtime, contact_id, text, now, by="peer")
    store.touch(contact_id, now)
    return seq, count.segments


def close_by_peer(runtime: Runtime, peer_id: int, contact_id: str,
                  now: datetime) -> Refusal | None:
    conversation = _own_open(conversation_store(runtime), peer_id, contact_id)
    if conversation is None:
        return Refusal(N_("This conversation is not open for you."), 404)
    close_conversation(runtime, contact_id, now, reason="peer",
                       goodbye=goodbye(language_of(conversation, None), "goodbye_peer",
                                       conversation.channel))
    return None


def close_conversation(runtime: Runtime, contact_id: str, now: datetime, *, reason: str,
                       goodbye: str | None = None, only_if_waiting: bool = False) -> bool:
    """Close once: goodbye queued, routing told (wrap-up after the peer's last text), one
    outcome recorded, content set to expire shortly."""
    store = conversation_store(runtime)
    conversation = store.get(contact_id)
    if conversation is None or not conversation.is_open:
        return False
    if only_if_waiting and conversation.accepted:
        return False
    # Read SQL before anything changes: with the database down this fails while the
    # conversation is still open, so the peer's retry or the idle check closes it later. Read
    # after the close, the failure lost the outcome for good (found by `warmline soak`).
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if goodbye:
        queue_text(runtime, contact_id, goodbye, now, by="line")
    if not store.close(contact_id, now, max(MIN_KEEP_SECONDS,
                                          text_policy(runtime).content_seconds_after_close)):
        return False
    notifier = TextPeerNotifier(runtime)
    if conversation.accepted:
        routing.complete_contact(runtime, contact_id, now, notifier)
        outcome = Outcome.CONNECTED
    else:
        routing.withdraw_contact(runtime, contact_id, now, notifier)
        outcome = Outcome.OPTED_OUT if reason == "opted_out" else Outcome.ABANDONED
    if contact is not None:
        finish_contact(runtime, contact, outcome, now, peer_id=conversation.peer_id,
                       detail={"closed_by": reason})
    return True


def _end_lost_text(runtime: Runtime, contact_id: str, now: datetime) -> None:
    routing.withdraw_contact(runtime, contact_id, now)
    with runtime.sessions() as session:
        contact = session.get(Contact, contact_id)
    if contact is not None:
        finish_contact(runtime, contact, Outcome.ABANDONED, now,
                       detail={"closed_by": "lost"})


def schedule_idle_check(runtime: Runtime, contact_id: str, at: datetime) -> None:
    jobs.CLOSE_IF_IDLE.enqueue_at(runtime, at, contact_id, job_id=f"text-idle-{contact_id}")


def close_if_idle(runtime: Runtime, contact_id: str, now: datetime) -> bool:
    """Closes the conversation after the policy's inactivity; otherwise checks again later."""
    conversation = conversation_store(runtime).get(contact_id)
    if conversation is None or not conversation.is_open or not conversation.accepted:
        return False
    due = conversation.last_activity + timedelta(seconds=text_policy(runtime).inactivity_seconds)
    if now < due:
        schedule_idle_check(runtime, contact_id, due)
        return False
    return close_conversation(runtime, contact_id, now, reason="inactivity",
                              goodbye=goodbye(language_of(conversation, None), "goodbye_idle",
                                              conversation.channel))


def close_idle_conversations(runtime: Runtime, now: datetime) -> int:
    """Every open conversation past the inactivity limit (repairs a lost scheduled check)."""
    store = conversation_store(runtime)
    return sum(close_if_idle(runtime, cid, now)
               for cid in store.idle_since(
                   now - timedelta(seconds=text_policy(runtime).inactivity_seconds)))


# --------------------------------------------------------------------------- the wait's bound


class WaitCheck(StrEnum):
    LATER = "later"  # not due yet (or a peer is being offered it): looked at again later
    TOLD = "told"  # the texter was told no peer is free yet, and their choices
    CLOSED = "closed"  # still no peer after that: closed with a goodbye
    DONE = "done"  # taken by a peer or closed meanwhile: nothing more to bound


# A peer being offered the text right now gets this long before the wait is looked at again.
OFFERED_GRACE = timedelta(seconds=60)


def start_wait_bound(runtime: Runtime, contact_id: str, now: datetime,
                     max_wait_seconds: float) -> None:
    """A texter's wait is finite like a caller's (DESIGN.md: never stuck on endless hold)."""
    _look_at_wait(runtime, contact_id, now + timedelta(seconds=max_wait_seconds))


def _look_at_wait(runtime: Runtime, contact_id: str, at: datetime) -> None:
    conversation_store(runtime).look_at_wait(contact_id, at)
    jobs.CHECK_TEXT_WAIT.enqueue_at(runtime, at, contact_id, job_id=f"text-wait-{contact_id}")


def check_wait(runtime: Runtime, contact_id: str, now: datetime) -> WaitCheck:
    """At the line's max_wait_seconds with no peer: an honest text with the texter's choices
    (ANY, CALLBACK, WAIT) and the crisis numbers. After as long again with no peer and no
    word from the texter: a goodbye, and the contact ends abandoned ("closed_by": "max_wait")."""
    store = conversation_store(runtime)
    conversation = store.get(contact_id)
    if conversation is None or not conversation.is_open or conversation.accepted:
        store.stop_looking_at_wait(contact_id)
        return WaitCheck.DONE
    with runtime.sessions() as session:
        line = session.get(Line, conversation.line_id)
        if line is None:
            store.stop_looking_at_wait(contact_id)
            return WaitCheck.DONE
        # A chatter has no number to call back.
        bound = timedelta(seconds=float(line.max_wait_seconds))
        callbacks = line.callbacks and conversation.channel != CHAT
        language = language_of(conversation, line)
    told = conversation.told_no_peer_at
    due = (conversation.started_at + bound if told is None
           else max(told, conversation.last_activity) + bound)
    offered = routing.routing_engine(runtime, now).contact_state(contact_id) == "offered"
    if now < due or offered:
        _look_at_wait(runtime, contact_id, max(due, now + OFFERED_GRACE) if offered else due)
        return WaitCheck.LATER
    if told is None:
        if store.claim_flag(contact_id, "told_no_peer"):
            store.mark_told_no_peer(contact_id, now)
            label = _experience_label(runtime, conversation.experience, language)
            minutes = max(1, math.ceil(bound.total_seconds() / 60))
            queue_text(runtime, contact_id, words.no_peer_yet(
                label, callbacks, minutes=minutes, language=language), now, by="line")
        _look_at_wait(runtime, contact_id, now + bound)
        return WaitCheck.TOLD
    closed = close_conversation(runtime, contact_id, now, reason="max_wait",
                                goodbye=goodbye(language, "goodbye_no_peer", conversation.channel),
                                only_if_waiting=True)
    return WaitCheck.CLOSED if closed else WaitCheck.DONE


def check_waits_due(runtime: Runtime, now: datetime) -> int:
    """Every waiting conversation whose bound is due (repairs a lost scheduled check)."""
    return sum(check_wait(runtime, cid, now) in (WaitCheck.TOLD, WaitCheck.CLOSED)
               for cid in conversation_store(runtime).waits_due(now))


# --------------------------------------------------------------------------- risk


def raise_risk(runtime: Runtime, conversation: Conversation, now: datetime) -> bool:
    """Priority up (keeping arrival), flag for the peer; True the first time (send 988 once)."""
    store = conversation_store(runtime)
    if not store.claim_flag(conversation.contact_id, "risk"):
        return False
    store.set_fields(conversation.contact_id, risk="1")
    routing.requeue_contact(runtime, conversation.contact_id, now, priority=RISK_PRIORITY)
    with runtime.sessions.begin() as session:
        contact = session.get(Contact, conversation.contact_id)
        if contact is not None:
            contact.risk_flagged = True
            contact.priority = RISK_PRIORITY
    note(runtime, conversation, EventKind.RISK_FLAGGED, now)
    return store.claim_flag(conversation.contact_id, "crisis_sent")


def contact_priority(runtime: Runtime, contact_id: str) -> int | None:
    raw = runtime.redis.hget(routing_keys.contact(contact_id), "score")
    return priority_from_score(float(raw)) if raw else None


# --------------------------------------------------------------------------- the pane


def _experience_label(runtime: Runtime, key: str | None, language: str) -> str | None:
    """The experience's label in the texter's language (None for "anyone")."""
    if key is None:
        return None
    with runtime.sessions() as session:
        found = session.scalars(select(Experience).where(Experience.key == key)).first()
        return found.label_for(language) if found is not None else None


def _experience_labels(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {e.key: e.label for e in session.scalars(select(Experience))}


def _line_names(runtime: Runtime) -> dict[int, str]:
    with runtime.sessions() as session:
        return {line.id: line.name for line in session.scalars(select(Line))}


def _language(conversation: Conversation) -> dict[str, str]:
    code = language_of(conversation, None)
    return {"code": code, "name": language_name(code)}


def list_peer_texts(runtime: Runtime, peer_id: int, now: datetime) -> dict[str, Any]:
    """The peer's text offers and open conversations; never a number."""
    restore_text_channel(runtime, peer_id, now)
    store = conversation_store(runtime)
    engine = routing.routing_engine(runtime, now)
    labels, names = _experience_labels(runtime), _line_names(runtime)
    offers: list[dict[str, Any]] = []
    for offer_id in store.peer_offer_ids(peer_id, now):
        found = store.offer(offer_id)
        conversation = store.get(found[0]) if found else None
        if found is None or conversation is None or conversation.offer_id != offer_id \
                or engine.contact_state(found[0]) != "offered":
            continue
        offers.append({
            "offer_id": offer_id, "contact_id": conversation.contact_id,
            "label": conversation.label, "line_name": names.get(conversation.line_id, ""),
            "experience": labels.get(conversation.experience or "", None),
            "language": _language(conversation),
            "risk": conversation.risk, "expires_in_seconds": max(0, int((found[2] - now).total_seconds())),
            "channel": conversation.channel,
        })
    conversations: list[dict[str, Any]] = []
    for contact_id, holder, channel in engine.connections():
        if holder != peer_id or channel not in ("sms", CHAT):
            continue
        conversation = store.get(contact_id)
        if conversation is None or not conversation.is_open:
            continue
        delivery = store.delivery(contact_id)
        messages: list[dict[str, Any]] = []
        for entry in store.entries(contact_id):
            item: dict[str, Any] = {"direction": entry["dir"], "body": entry.get("body", ""),
                                    "at": entry["at"].isoformat(),
                                    "by": entry.get("by", "texter"), "status": None,
                                    "segments": entry.get("segments", 1)}
            if entry["dir"] == "out":
                item["status"] = delivery.get(int(entry["seq"]), "queued")
            messages.append(item)
        conversations.append({
            "contact_id": contact_id, "label": conversation.label,
            "line_name": names.get(conversation.line_id, ""),
            "experience": labels.get(conversation.experience or "", None),
            "language": _language(conversation),
            "risk": conversation.risk, "messages": messages, "channel": conversation.channel,
        })
    return {"offers": offers, "conversations": conversations}
