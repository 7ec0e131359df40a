"""Placing callbacks: the peer first, then the caller, at most three times, exactly once each.

The life of a request (`CallbackRequest.status`):

    pending --(due: window open, next_attempt_at passed)--> in_progress
        in_progress: a routing contact of its own (`cb-<callback id>-<round>`, channel voice,
        the caller's experience) waits for an available peer; the engine offers it atomically
        and the offer is rung by `ring_peer` (neutral whisper "Warmline call back. Press 1").
        A peer who took the callback on the dashboard is held (on break) and rung instead.
    peer presses 1 --> a `CallbackAttempt` is recorded (committed) and `call_caller` is enqueued;
        the peer waits in the attempt's own queue.
    `call_caller(attempt_id)`: under the attempt's lock, marks the attempt `calling` (committed,
        attempts + 1) *before* the REST call; a rerun of an attempt already `calling` (a killed
        or timed-out job) first asks Twilio for calls to that number from the line made since
        the attempt began, and adopts the one it finds instead of calling again.
    the caller presses 1 --> bridged with the waiting peer --> `connected`, outcome
        `callback_connected`, number erased.
    no answer, voicemail (a message only if allowed), busy, no 1 --> the attempt is `missed`:
        the peer is released; after MAX_ATTEMPTS misses the request is `failed`, outcome
        `callback_failed`, number erased; otherwise `pending` again, RETRY_SPACING later.
    past `expires_at` before it could be placed --> `expired`, outcome `callback_failed`,
        number erased (daily retention erases any number this sweep missed).

`place_due_callbacks` (recurring, every few seconds) expires, repairs (re-runs `call_caller` for
attempts a crash left `calling`, re-arrives routing contacts Redis lost) and starts due ones.
Jobs take ids only; the number is decrypted only in `call_caller`, never logged.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warmline import jobs
from warmline.domain.matching import Presence
from warmline.models import (
    CallbackAttempt,
    CallbackRequest,
    CallbackStatus,
    Contact,
    EventKind,
    Line,
    Outcome,
    Peer,
)
from warmline.routing.results import LapseReason, Offer
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact, note_event
from warmline.services.peers.language import peer_language
from warmline.services.voice.peer import VoiceOfferDispatcher
from warmline.telephony.gateway import TelephonyError
from warmline.voice import urls
from warmline.voice.callback_state import CallbackState
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Between two tries at a caller who did not answer.
RETRY_SPACING = timedelta(minutes=10)
# A peer who did not answer is not the caller's miss: try another peer soon.
PEER_RETRY_SPACING = timedelta(seconds=30)
CALLER_RING_SECONDS = 25
PEER_RING_SECONDS = 20
# An attempt still `created`/`calling` this long after it began lost its job: run it again.
REPAIR_AFTER = timedelta(seconds=15)
ROUTING_PREFIX = "cb-"


class AttemptState:
    CREATED = "created"  # the peer pressed 1; the caller not called yet
    CALLING = "calling"  # committed right before the REST call: it may have rung
    RINGING = "ringing"  # Twilio took the call (its sid kept)
    BRIDGED = "bridged"  # the caller pressed 1
    CONNECTED = "connected"  # the bridged call ended
    MISSED = "missed"


_ATTEMPT_OVER = (AttemptState.CONNECTED, AttemptState.MISSED)


# Routing ids ------------------------------------------------------------------------------


def routing_id(callback_id: int, round_number: int) -> str:
    """The routing contact of one round (one try at the caller) of a callback."""
    return f"{ROUTING_PREFIX}{callback_id}-{round_number}"


def callback_of_routing_id(contact_id: str) -> int | None:
    if not contact_id.startswith(ROUTING_PREFIX):
        return None
    try:
        return int(contact_id[len(ROUTING_PREFIX):].split("-", 1)[0])
    except ValueError:
        return None


def is_taken_ring(ring_id: str) -> bool:
    return ring_id.startswith("take-")


class CallbackAwareDispatcher:
    """Voice offers: a callback's routing contact rings through the callback path, any other
    contact through the live-call path it wraps."""

    def __init__(self, inner: routing.OfferDispatcher | None = None) -> None:
        self.inner = inner or VoiceOfferDispatcher()

    def dispatch(self, runtime: Runtime, offer: Offer, now: datetime) -> None:
        callback_id = callback_of_routing_id(offer.contact_id)
        if callback_id is None:
            self.inner.dispatch(runtime, offer, now)
            return
        jobs.RING_CALLBACK_PEER.enqueue(runtime, offer.offer_id, callback_id, offer.peer_id,
                                        job_id=f"callback-ring-{offer.offer_id}")


# Ending a request -------------------------------------------------------------------------


def _finish(runtime: Runtime, callback_id: int, status: CallbackStatus, now: datetime, *,
            from_statuses: tuple[CallbackStatus, ...]) -> bool:
    """Moves the request to a final status with its number erased, once; records the outcome."""
    with runtime.sessions() as session:
        changed = session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id == callback_id,
                   CallbackRequest.status.in_([s.value for s in from_statuses]))
            .values(status=status.value, number_encrypted=None, ended_at=now, next_attempt_at=None)
        )
        session.commit()
        if int(getattr(changed, "rowcount", 0) or 0) != 1:
            return False
        request = session.get(CallbackRequest, callback_id)
        contact = session.get(Contact, request.contact_id) if request else None
        peer_id = contact.peer_id if contact else None
    if contact is not None:
        outcome = (Outcome.CALLBACK_CONNECTED if status == CallbackStatus.CONNECTED
                   else Outcome.CALLBACK_FAILED)
        finish_contact(runtime, contact, outcome, now, peer_id=peer_id,
                       detail={"callback_status": status.value})
    log.info("callback %s ended: %s", callback_id, status.value)
    return True


# The sweep --------------------------------------------------------------------------------


@dataclass
class SweepReport:
    expired: list[int]
    started: list[int]
    repaired: list[str]


def place_due_callbacks(runtime: Runtime, now: datetime) -> SweepReport:
    """Expire, repair, then start every due callback. Idempotent; safe to run concurrently."""
    report = SweepReport([], [], [])
    with runtime.sessions() as session:
        expired = list(session.scalars(select(CallbackRequest.id).where(
            CallbackRequest.status.in_([CallbackStatus.PENDING.value,
                                        CallbackStatus.IN_PROGRESS.value]),
            CallbackRequest.expires_at <= now)))
        stuck = list(session.scalars(
            select(CallbackAttempt.id)
            .join(CallbackRequest, CallbackRequest.id == CallbackAttempt.callback_id)
            .where(CallbackAttempt.state.in_([AttemptState.CREATED, AttemptState.CALLING]),
                   CallbackAttempt.caller_call_sid.is_(None),
                   CallbackAttempt.created_at <= now - REPAIR_AFTER,
                   CallbackRequest.status == CallbackStatus.IN_PROGRESS.value)))
        due = list(session.scalars(select(CallbackRequest.id).where(
            CallbackRequest.status.in_([CallbackStatus.PENDING.value,
                                        CallbackStatus.IN_PROGRESS.value]),
            CallbackRequest.window_start <= now, CallbackRequest.expires_at > now,
            (CallbackRequest.next_attempt_at.is_(None)) | (CallbackRequest.next_attempt_at <= now),
        ).order_by(CallbackRequest.window_start, CallbackRequest.id)))
    for callback_id in expired:
        if _expire(runtime, callback_id, now):
            report.expired.append(callback_id)
    for attempt_id in stuck:
        enqueue_call_caller(runtime, attempt_id, repair=True)
        report.repaired.append(attempt_id)
    for callback_id in due:
        if callback_id not in report.expired and place_callback(runtime, callback_id, now):
            report.started.append(callback_id)
    return report


def _expire(runtime: Runtime, callback_id: int, now: datetime) -> bool:
    """Past its expiry: ends unless an attempt is live (that attempt decides how it ends)."""
    with CallbackState(runtime.redis).callback_lock(callback_id), runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        if request is None or _live_attempt(session, callback_id) is not None:
            return False
        rid = routing_id(callback_id, request.attempts + 1)
    _release_routing(runtime, rid, now)
    return _finish(runtime, callback_id, CallbackStatus.EXPIRED, now,
                   from_statuses=(CallbackStatus.PENDING, CallbackStatus.IN_PROGRESS))


def _live_attempt(session: Session, callback_id: int) -> CallbackAttempt | None:
    return session.scalars(select(CallbackAttempt).where(
        CallbackAttempt.callback_id == callback_id,
        CallbackAttempt.state.not_in(_ATTEMPT_OVER))).first()


def place_callback(runtime: Runtime, callback_id: int, now: datetime) -> bool:
    """One step: make a due callback wait for a peer (or ring the peer who took it).

    Returns True when something was started. Repeats change nothing: the routing arrival is
    keyed by the round's id, and a live attempt or a held peer stops a second start.
    """
    with CallbackState(runtime.redis).callback_lock(callback_id), runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        if (request is None or request.number_encrypted is None
                or request.status not in (CallbackStatus.PENDING.value,
                                          CallbackStatus.IN_PROGRESS.value)
                or request.expires_at <= now or request.window_start > now
                or (request.next_attempt_at is not None and request.next_attempt_at > now)
                or _live_attempt(session, callback_id) is not None):
            return False
        rid = routing_id(callback_id, request.attempts + 1)
        if request.peer_id is not None:
            session.expunge(request)
            return _ring_taker(runtime, request, now)
        if routing.routing_engine(runtime, now).contact_state(rid) is not None:
            return False  # already waiting for a peer, or offered
        request.status = CallbackStatus.IN_PROGRESS.value
        arriving = routing.arriving(
            contact_id=rid, line_id=request.line_id, channel="voice",
            experience=request.experience_key, language=request.language, priority=0,
            arrived_at=request.created_at or now,
            accepts_any_peer=request.experience_key is None,
        )
        session.commit()
    routing.contact_arrived(runtime, arriving, now)
    return True


def _ring_taker(runtime: Runtime, request: CallbackRequest, now: datetime) -> bool:
    """The peer who took the callback, once they are available: held on break while rung."""
    peer_id = request.peer_id
    assert peer_id is not None
    state = CallbackState(runtime.redis)
    if routing.routing_engine(runtime, now).presence(peer_id) != Presence.AVAILABLE:
        return False
    ring_id = f"take-{request.id}-{uuid.uuid4().hex[:12]}"
    if not state.hold_peer(peer_id, ring_id):
        return False
    change = routing.set_presence(runtime, peer_id, Presence.BREAK, now)
    if change.presence != Presence.BREAK:
        state.release_peer(peer_id, ring_id)
        return False
    return _start_peer_call(runtime, ring_id, request.id, peer_id, now)


def ring_peer(runtime: Runtime, offer_id: str, callback_id: int, peer_id: int,
              now: datetime) -> str | None:
    """The engine offered a callback to a peer: ring them once, neutrally."""
    if not CallState(runtime.redis).claim_ring(offer_id):
        return None
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        wanted = request is not None and request.status == CallbackStatus.IN_PROGRESS.value
    if not wanted or routing.routing_engine(runtime, now).contact_state(
            routing_id(callback_id, _round(runtime, callback_id))) != "offered":
        routing.lapse_offer(runtime, offer_id, LapseReason.FAILED, now)
        return None
    CallState(runtime.redis).link_offer(offer_id, routing_id(callback_id,
                                                             _round(runtime, callback_id)))
    return offer_id if _start_peer_call(runtime, offer_id, callback_id, peer_id, now) else None


def _round(runtime: Runtime, callback_id: int) -> int:
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        return request.attempts + 1 if request else 1


def _start_peer_call(runtime: Runtime, ring_id: str, callback_id: int, peer_id: int,
                     now: datetime) -> bool:
    """Marks the request in progress and rings the peer (neutral whisper on answer)."""
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        peer = session.get(Peer, peer_id)
        line = session.get(Line, request.line_id) if request else None
        if request is None or peer is None or line is None:
            _peer_missed(runtime, ring_id, callback_id, peer_id, LapseReason.FAILED, now=now)
            return False
        request.status = CallbackStatus.IN_PROGRESS.value
        session.commit()
        phone = runtime.keys.decrypt(peer.phone_encrypted)
        line_number = line.number
        # Everything the peer hears on this ring and its attempt is in their own language.
        CallbackState(runtime.redis).set_peer_language(
            ring_id, peer_language(session, peer_id, line.default_language))
    public = runtime.settings.public_url
    query = {"ring": ring_id, "callback": str(callback_id)}
    try:
        runtime.twilio.create_call(
            to=phone, from_=line_number,
            url=urls.absolute(public, urls.CALLBACK_PEER_ANSWER, **query),
            status_callback=urls.absolute(public, urls.CALLBACK_PEER_STATUS, **query),
            timeout_seconds=PEER_RING_SECONDS, machine_detection=True,
        )
    except TelephonyError as exc:
        log.warning("could not ring peer %s for callback %s (%s)", peer_id, callback_id, exc.code)
        _peer_missed(runtime, ring_id, callback_id, peer_id, LapseReason.FAILED, now=now)
        return False
    return True


# The peer's answer ------------------------------------------------------------------------


def accept_ring(runtime: Runtime, ring_id: str, callback_id: int, now: datetime) -> int | None:
    """The peer pressed 1: the ring is theirs only if the offer (or hold) still is. Peer id."""
    if is_taken_ring(ring_id):
        with runtime.sessions() as session:
            request = session.get(CallbackRequest, callback_id)
            peer_id = request.peer_id if request else None
        if peer_id is None or CallbackState(runtime.redis).held_ring(peer_id) != ring_id:
            return None
        return peer_id
    result = routing.accept_offer(runtime, ring_id, now)
    return result.peer_id if result.accepted else None


def _peer_missed(runtime: Runtime, ring_id: str, callback_id: int, peer_id: int | None,
                 reason: LapseReason, *, now: datetime) -> None:
    """The peer did not take the ring: routed offers go back to the engine; a taker is let go
    and asked again later (their miss is not the caller's)."""
    if not is_taken_ring(ring_id):
        routing.lapse_offer(runtime, ring_id, reason, now)
        return
    if peer_id is not None and CallbackState(runtime.redis).release_peer(peer_id, ring_id):
        routing.set_presence(runtime, peer_id, Presence.AVAILABLE, now)
    _back_to_pending(runtime, callback_id, now + PEER_RETRY_SPACING)


def _back_to_pending(runtime: Runtime, callback_id: int, next_attempt_at: datetime) -> None:
    """A callback in progress waits again, for its next attempt at `next_attempt_at`."""
    with runtime.sessions() as session:
        session.execute(update(CallbackRequest).where(
            CallbackRequest.id == callback_id,
            CallbackRequest.status == CallbackStatus.IN_PROGRESS.value,
        ).values(status=CallbackStatus.PENDING.value, next_attempt_at=next_attempt_at))
        session.commit()


def peer_declined_or_missed(runtime: Runtime, ring_id: str, callback_id: int,
                            reason: LapseReason, now: datetime) -> None:
    if CallbackState(runtime.redis).ring_attempt(ring_id) is not None:
        return  # accepted: the attempt decides from here
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        peer_id = request.peer_id if request else None
    _peer_missed(runtime, ring_id, callback_id, peer_id, reason, now=now)


def record_attempt(runtime: Runtime, ring_id: str, callback_id: int, *, peer_id: int,
                   peer_call_sid: str, now: datetime) -> str | None:
    """After the peer's 1: the attempt row, committed, then the job that calls the caller."""
    state = CallbackState(runtime.redis)
    existing = state.ring_attempt(ring_id)
    if existing is not None:
        return existing
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        if (request is None or request.number_encrypted is None
                or request.status != CallbackStatus.IN_PROGRESS.value):
            return None
        attempt = CallbackAttempt(id=uuid.uuid4().hex, callback_id=callback_id,
                                  number=request.attempts + 1, peer_call_sid=peer_call_sid,
                                  state=AttemptState.CREATED, created_at=now)
        if not state.set_ring_attempt(ring_id, attempt.id):
            return state.ring_attempt(ring_id)
        session.add(attempt)
        contact = session.get(Contact, request.contact_id)
        if contact is not None:
            contact.peer_id = peer_id
        session.commit()
        attempt_id = attempt.id
    _note(runtime, callback_id, EventKind.ACCEPTED, now, peer_id=peer_id)
    return attempt_id


def start_calling_caller(runtime: Runtime, attempt_id: str) -> None:
    """The peer is in the attempt's queue (their wait URL asked): now call the caller, once."""
    if CallbackState(runtime.redis).claim_calling(attempt_id):
        enqueue_call_caller(runtime, attempt_id)


def enqueue_call_caller(runtime: Runtime, attempt_id: str, *, repair: bool = False) -> None:
    suffix = f"-r{uuid.uuid4().hex[:8]}" if repair else ""
    jobs.CALL_CALLER.enqueue(runtime, attempt_id, job_id=f"callback-call-{attempt_id}{suffix}")



# The caller's call, exactly once ------------------------------------------------------------


def call_caller(runtime: Runtime, attempt_id: str, now: datetime) -> str | None:
    """Call the caller for one attempt; a rerun adopts the call an earlier run made.

    Raises TelephonyError on a transient Twilio failure, so RQ retries (the retry asks Twilio
    first). Returns the CallSid, or None when the attempt no longer wants a call.
    """
    state = CallbackState(runtime.redis)
    with state.attempt_lock(attempt_id), runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        if attempt is None or attempt.caller_call_sid is not None:
            return attempt.caller_call_sid if attempt else None
        if attempt.state not in (AttemptState.CREATED, AttemptState.CALLING):
            return None
        request = session.get(CallbackRequest, attempt.callback_id)
        line = session.get(Line, request.line_id) if request else None
        if request is None or line is None or request.number_encrypted is None:
            return None
        number = runtime.keys.decrypt(request.number_encrypted)
        gateway = runtime.twilio
        if attempt.state == AttemptState.CALLING:
            # An earlier run got this far: did Twilio take its call before the run died?
            known = set(session.scalars(select(CallbackAttempt.caller_call_sid).where(
                CallbackAttempt.callback_id == request.id,
                CallbackAttempt.caller_call_sid.is_not(None))))
            since = attempt.created_at.replace(microsecond=0)
            found = [sid for sid in gateway.find_calls(to=number, from_=line.number,
                                                       created_after=since) if sid not in known]
            if found:
                attempt.caller_call_sid, attempt.state = found[-1], AttemptState.RINGING
                session.commit()
                log.info("callback attempt %s had already rung; adopted its call", attempt_id)
                return found[-1]
        else:
            attempt.state = AttemptState.CALLING
            request.attempts = attempt.number
            session.commit()
        public = runtime.settings.public_url
        call_sid = gateway.create_call(
            to=number, from_=line.number,
            url=urls.absolute(public, urls.CALLBACK_CALLER_ANSWER, attempt=attempt_id),
            status_callback=urls.absolute(public, urls.CALLBACK_CALLER_STATUS, attempt=attempt_id),
            timeout_seconds=CALLER_RING_SECONDS, machine_detection=True,
        )
        session.refresh(attempt)
        if attempt.caller_call_sid is None:
            attempt.caller_call_sid = call_sid
        if attempt.state == AttemptState.CALLING:
            attempt.state = AttemptState.RINGING
        session.commit()
    _note(runtime, request.id, EventKind.CALLBACK_ATTEMPTED, now,
          detail={"attempt": attempt.number})
    return call_sid


def adopt_caller_call(runtime: Runtime, attempt_id: str, call_sid: str) -> None:
    """A status callback names the attempt's call: keep its sid if the job never could."""
    with runtime.sessions() as session:
        session.execute(update(CallbackAttempt).where(
            CallbackAttempt.id == attempt_id, CallbackAttempt.caller_call_sid.is_(None),
        ).values(caller_call_sid=call_sid))
        session.commit()


# How an attempt ends ----------------------------------------------------------------------


def attempt_state(runtime: Runtime, attempt_id: str) -> str | None:
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        return attempt.state if attempt else None


def caller_confirmed(runtime: Runtime, attempt_id: str, now: datetime) -> bool:
    """The caller pressed 1: bridge them if their peer is still waiting."""
    with runtime.sessions() as session:
        changed = session.execute(update(CallbackAttempt).where(
            CallbackAttempt.id == attempt_id,
            CallbackAttempt.state.in_([AttemptState.CALLING, AttemptState.RINGING]),
        ).values(state=AttemptState.BRIDGED))
        session.commit()
        if int(getattr(changed, "rowcount", 0) or 0) != 1:
            return False
        attempt = session.get(CallbackAttempt, attempt_id)
        request = session.get(CallbackRequest, attempt.callback_id) if attempt else None
        contact = session.get(Contact, request.contact_id) if request else None
        if contact is not None and contact.answered_at is None:
            contact.answered_at = now
            session.commit()
        callback_id = request.id if request else None
    if callback_id is not None:
        _note(runtime, callback_id, EventKind.BRIDGED, now)
    return True


def attempt_missed(runtime: Runtime, attempt_id: str, now: datetime, *, why: str) -> bool:
    """The caller did not take this attempt (or their peer left first): once per attempt."""
    with runtime.sessions() as session:
        changed = session.execute(update(CallbackAttempt).where(
            CallbackAttempt.id == attempt_id,
            CallbackAttempt.state.in_([AttemptState.CREATED, AttemptState.CALLING,
                                       AttemptState.RINGING]),
        ).values(state=AttemptState.MISSED))
        session.commit()
        if int(getattr(changed, "rowcount", 0) or 0) != 1:
            return False
        attempt = session.get(CallbackAttempt, attempt_id)
        assert attempt is not None
        request = session.get(CallbackRequest, attempt.callback_id)
        assert request is not None
        callback_id, attempts, number = request.id, request.attempts, attempt.number
        peer_sid, caller_sid = attempt.peer_call_sid, attempt.caller_call_sid
    _note(runtime, callback_id, EventKind.NO_ANSWER, now, detail={"attempt": number, "why": why})
    _release_peer(runtime, callback_id, number, now)
    if why == "peer_left" and caller_sid:
        _end_call_quietly(runtime, caller_sid)
    del peer_sid  # the peer's wait loop sees the miss and leaves the queue by itself
    if attempts >= MAX_ATTEMPTS:
        _finish(runtime, callback_id, CallbackStatus.FAILED, now,
                from_statuses=(CallbackStatus.IN_PROGRESS, CallbackStatus.PENDING))
        return True
    _back_to_pending(runtime, callback_id, now + RETRY_SPACING)
    return True


def attempt_connected(runtime: Runtime, attempt_id: str, now: datetime,
                      duration_seconds: int | None = None) -> bool:
    """The bridged call ended (either leg said so first): callback_connected, number erased."""
    with runtime.sessions() as session:
        changed = session.execute(update(CallbackAttempt).where(
            CallbackAttempt.id == attempt_id, CallbackAttempt.state == AttemptState.BRIDGED,
        ).values(state=AttemptState.CONNECTED))
        session.commit()
        if int(getattr(changed, "rowcount", 0) or 0) != 1:
            return False
        attempt = session.get(CallbackAttempt, attempt_id)
        assert attempt is not None
        callback_id, number = attempt.callback_id, attempt.number
    _release_peer(runtime, callback_id, number, now)
    _finish(runtime, callback_id, CallbackStatus.CONNECTED, now,
            from_statuses=(CallbackStatus.IN_PROGRESS,))
    del duration_seconds
    return True


def _release_peer(runtime: Runtime, callback_id: int, round_number: int, now: datetime) -> None:
    """The peer's part of a round is over: wrap-up after a routed one, available after a take."""
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        peer_id = request.peer_id if request else None
    state = CallbackState(runtime.redis)
    if peer_id is not None:
        ring = state.held_ring(peer_id)
        if ring is not None and ring.startswith(f"take-{callback_id}-") and state.release_peer(
                peer_id, ring):
            routing.set_presence(runtime, peer_id, Presence.AVAILABLE, now)
            return
    _release_routing(runtime, routing_id(callback_id, round_number), now)


def _release_routing(runtime: Runtime, rid: str, now: datetime) -> None:
    engine = routing.routing_engine(runtime, now)
    current = engine.contact_state(rid)
    if current == "connected":
        routing.complete_contact(runtime, rid, now)
    elif current is not None:
        routing.withdraw_contact(runtime, rid, now)


def _end_call_quietly(runtime: Runtime, call_sid: str) -> None:
    with contextlib.suppress(TelephonyError):  # a ringing leg ends by itself anyway
        runtime.twilio.end_call(call_sid)


def _note(runtime: Runtime, callback_id: int, kind: EventKind, now: datetime, *,
          peer_id: int | None = None, detail: dict[str, int | str | bool] | None = None) -> None:
    with runtime.sessions() as session:
        request = session.get(CallbackRequest, callback_id)
        contact = session.get(Contact, request.contact_id) if request else None
        if peer_id is None and contact is not None:
            peer_id = contact.peer_id
    if contact is not None:
        note_event(runtime, contact, kind, now, peer_id=peer_id, detail=detail)
