"""Routing use-cases: tell the engine what happened, run a match pass, hand the offers on.

Matching runs on events, never by polling: a contact arrives, a peer becomes available, an
offer ends, a wrap-up ends. Each service below calls the engine, then runs a pass on the lines
concerned and hands every offer taken to the `OfferDispatcher` registered for its channel (voice:
ring the peer by REST through an RQ job; texts: show it on the dashboard), with the runtime and
`now` of the service that took it. They are registered at app and worker start by the
composition root (`warmline.wiring.install_dispatchers`); with none registered, an offer is held
until it lapses (the sweeper expires it, which counts as the peer's miss).

Peers set off by the engine (two misses in a row, the end of their shift) are told through a
`PeerNotifier`; the default, `LoggingPeerNotifier`, sends nothing: it logs one INFO line with the
peer's id and the reason, never a phone number; `texts.peer_texts.TextPeerNotifier` texts them.

`now` is an aware UTC datetime, passed in by the caller (web handler, job); it becomes the
engine's epoch seconds only in the engine's calls below (`warmline.epoch`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import epoch, jobs, keys
from warmline.domain.matching import ContactView, LineRules, Presence
from warmline.models import Contact, Line, Peer, Shift
from warmline.routing import defaults
from warmline.routing.engine import PeerProfile, RoutingEngine, RoutingStateLostError
from warmline.routing.results import (
    AcceptResult,
    Arrival,
    ContactEnd,
    LapseReason,
    Offer,
    OfferEnd,
    OffReason,
    PeerOff,
    PresenceChange,
    QueueSnapshot,
    ShiftChange,
    SweepReport,
    WrapUpChange,
)
from warmline.runtime import Runtime
from warmline.services.activity_log import ActivityKind, record_activity

log = logging.getLogger(__name__)

# A pass that filled its limit may have left work; a few more passes finish a burst.
MAX_PASSES_PER_EVENT = 10


class OfferDispatcher(Protocol):
    """Carries an offer to its peer. Must not block: enqueue a job or publish, then return.

    Raises nothing: a dispatcher that cannot deliver lets the offer lapse (sweeper)."""

    def dispatch(self, runtime: Runtime, offer: Offer, now: datetime) -> None: ...


class PeerNotifier(Protocol):
    """Tells a peer the engine set them off (by text: `TextPeerNotifier`)."""

    def notify_off(self, runtime: Runtime, peer_off: PeerOff, now: datetime) -> None: ...


class LoggingPeerNotifier:
    """The default: sends nothing, logs the peer id and reason at INFO (never a number)."""

    def notify_off(self, runtime: Runtime, peer_off: PeerOff, now: datetime) -> None:
        log.info("peer %s set off (%s); would tell them by text", peer_off.peer_id,
                 peer_off.reason.value)


class RestNotifier(Protocol):
    """Tells a peer with no dashboard open that they reached the back-to-back limit (by text)."""

    def notify_rest_due(self, runtime: Runtime, peer_id: int, in_a_row: int,
                        at: datetime) -> None: ...


class LoggingRestNotifier:
    def notify_rest_due(self, runtime: Runtime, peer_id: int, in_a_row: int,
                        at: datetime) -> None:
        log.info("peer %s reached %s contacts in a row; would tell them by text", peer_id,
                 in_a_row)


# Offer endings that are the peer's miss (as the engine counts them), for the hours report.
MISSED_REASONS = frozenset({"no_answer", "declined", "busy", "failed", "expired"})

class StateRebuilder(Protocol):
    """Rebuilds live routing state from SQL (and Twilio) as of `now` when Redis lost it
    (`upkeep.recovery.ensure_live_state`, under its lock); raises what the rebuild raises."""

    def __call__(self, runtime: Runtime, now: datetime, /) -> object: ...


_dispatchers: dict[str, OfferDispatcher] = {}
_default_notifier: PeerNotifier = LoggingPeerNotifier()
_rest_notifier: RestNotifier = LoggingRestNotifier()
# Recovery is a feature built on this module, so it is handed in from above (warmline.wiring)
# rather than imported: every entry point installs it before its first routing call.
_state_rebuilder: StateRebuilder | None = None


def register_state_rebuilder(rebuilder: StateRebuilder | None) -> None:
    """Install this process's rebuild after a Redis loss; None leaves the engine refusing to act
    on a lost state (RoutingStateLostError)."""
    global _state_rebuilder  # noqa: PLW0603 - one rebuild per process, like the dispatchers
    _state_rebuilder = rebuilder


def register_rest_notifier(notifier: RestNotifier | None) -> None:
    """Install this process's back-to-back notifier (by SMS); None restores logging."""
    global _rest_notifier  # noqa: PLW0603 - one notifier per process, like the dispatchers
    _rest_notifier = notifier or LoggingRestNotifier()


def register_peer_notifier(notifier: PeerNotifier | None) -> None:
    """Install this process's default notifier (by SMS at start); None restores logging."""
    global _default_notifier  # noqa: PLW0603 - one notifier per process, like the dispatchers
    _default_notifier = notifier or LoggingPeerNotifier()


def register_dispatcher(channel: str, dispatcher: OfferDispatcher | None) -> None:
    """Install (or with None, remove) the dispatcher of a channel for this process."""
    if dispatcher is None:
        _dispatchers.pop(channel, None)
    else:
        _dispatchers[channel] = dispatcher


def dispatch_offers(runtime: Runtime, offers: Iterable[Offer], now: datetime) -> None:
    for offer in offers:
        dispatcher = _dispatchers.get(offer.channel)
        if dispatcher is None:
            log.info("offer %s (%s) held: no dispatcher for its channel yet", offer.offer_id,
                     offer.channel)
            continue
        dispatcher.dispatch(runtime, offer, now)


# The `now` of the service call running in this thread (or task): the process's one engine is
# shared, and a rebuild it sets off must rebuild live state as of the call that met the loss.
_now_of_call: ContextVar[datetime] = ContextVar("routing_now_of_call")


def routing_engine(runtime: Runtime, now: datetime) -> RoutingEngine:
    """The engine every service uses, one per runtime (so per process, its scripts registered
    once), for one service call at `now`: an operation that meets a Redis that came back empty
    rebuilds live state as of `now` (the registered `StateRebuilder`) and is retried."""
    _now_of_call.set(now)
    engine = runtime.routing
    if engine is None:

        def rebuild() -> None:
            if _state_rebuilder is None:
                raise RoutingStateLostError(
                    "routing state is missing and no rebuild is installed in this process "
                    "(warmline.wiring.install_state_rebuilder)")
            _state_rebuilder(runtime, _now_of_call.get())

        # Two threads may both get here first: the engine made last is kept, both work.
        engine = runtime.routing = RoutingEngine(runtime.redis, on_state_lost=rebuild)
    return engine


def record_presence(runtime: Runtime, peer_id: int, presence: Presence, now: datetime) -> None:
    """The presence a peer asked for (or `off`, set by the engine) as a durable fact in SQL, so
    a rebuild after a Redis loss puts them back as they were (DESIGN.md "Routing")."""
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        if peer is None:
            return
        peer.presence = presence.value
        peer.presence_changed_at = now
        session.commit()


def notify_peer(runtime: Runtime, notifier: PeerNotifier | None, peer_off: PeerOff,
                now: datetime) -> None:
    (notifier or _default_notifier).notify_off(runtime, peer_off, now)


def _presence_fact(runtime: Runtime, peer_id: int | None, presence: Presence | None,
                   now: datetime, line_id: int | None = None) -> None:
    """A presence change, for the hours report (warmline.services.peers.hours)."""
    if peer_id is not None and presence is not None:
        record_activity(runtime, peer_id, ActivityKind.PRESENCE, now, state=presence.value,
                        line_id=line_id)


def _off_facts(runtime: Runtime, offs: Iterable[PeerOff | None], now: datetime) -> None:
    for peer_off in offs:
        if peer_off is not None:
            _presence_fact(runtime, peer_off.peer_id, Presence.OFF, now)


def _notify(notifier: PeerNotifier | None, offs: Iterable[PeerOff | None], runtime: Runtime,
            now: datetime) -> None:
    """Tell each peer the engine set off, and record that they are off."""
    for peer_off in offs:
        if peer_off is not None:
            record_presence(runtime, peer_off.peer_id, Presence.OFF, now)
            notify_peer(runtime, notifier, peer_off, now)


def run_match_pass(runtime: Runtime, line_id: int, now: datetime) -> list[Offer]:
    """Offer every waiting contact on the line that an eligible peer can take now."""
    engine = routing_engine(runtime, now)
    taken: list[Offer] = []
    for _ in range(MAX_PASSES_PER_EVENT):
        offers = engine.match_pass(line_id, epoch.seconds(now))
        taken.extend(offers)
        dispatch_offers(runtime, offers, now)
        if len(offers) < defaults.MAX_OFFERS_PER_PASS:
            break
    return taken


def match_lines(runtime: Runtime, line_ids: Iterable[int | None], now: datetime) -> list[Offer]:
    offers: list[Offer] = []
    for line_id in sorted({x for x in line_ids if x is not None}):
        offers.extend(run_match_pass(runtime, line_id, now))
    return offers


def _peer_lines(engine: RoutingEngine, peer_id: int, now: datetime) -> frozenset[int]:
    view = engine.peer_view(peer_id, epoch.seconds(now))
    return view.working_lines if view else frozenset()


def working_lines(runtime: Runtime, peer_id: int, now: datetime) -> frozenset[int]:
    """The lines the peer works now (on shift or dropping in)."""
    return _peer_lines(routing_engine(runtime, now), peer_id, now)


# Profiles and shifts ----------------------------------------------------------------------


def line_rules(runtime: Runtime, line: Line) -> LineRules:
    """The routing rules of a line, its wrap-up on the runtime's clock (unrounded)."""
    return LineRules(line.id, line.wrap_up_seconds / runtime.clock_speed, line.calls_while_texting,
                     line.back_to_back_limit)


def sync_line(runtime: Runtime, line_id: int, now: datetime) -> None:
    with runtime.sessions() as session:
        line = session.get(Line, line_id)
        if line is None:
            return
        rules = line_rules(runtime, line)
    routing_engine(runtime, now).sync_line(rules, epoch.seconds(now))


def sync_profile(runtime: Runtime, profile: PeerProfile, now: datetime) -> None:
    """Copy a profile into routing as given (the texts narrow one while a dashboard is closed)."""
    routing_engine(runtime, now).sync_peer(profile, epoch.seconds(now))


def peer_profile(session: Session, peer_id: int) -> PeerProfile | None:
    """The peer's routing profile from SQL; the lines are those they have shifts on."""
    peer = session.get(Peer, peer_id)
    if peer is None:
        return None
    line_ids = session.scalars(
        select(Shift.line_id).where(Shift.peer_id == peer_id).distinct()).all()
    return PeerProfile(
        peer_id=peer.id,
        lines=frozenset(line_ids) if peer.active else frozenset(),
        experiences=frozenset(e.key for e in peer.experiences if e.active),
        languages=frozenset(peer.languages),
        channels=frozenset(peer.channels),
        max_texts=peer.max_texts,
    )


def sync_peer(runtime: Runtime, peer_id: int, now: datetime) -> None:
    """Copy the peer's profile into routing."""
    with runtime.sessions() as session:
        profile = peer_profile(session, peer_id)
    if profile is not None:
        sync_profile(runtime, profile, now)


def apply_shift_roster(runtime: Runtime, line_id: int, peer_ids: Iterable[int], now: datetime,
                       notifier: PeerNotifier | None = None) -> ShiftChange:
    """The schedule says exactly these peers are on shift for the line now."""
    change = routing_engine(runtime, now).set_on_shift(line_id, peer_ids, epoch.seconds(now))
    _notify(notifier, change.went_off, runtime, now)
    match_lines(runtime, change.lines_to_match, now)
    return change


class RoutingShiftEnd:
    """The shift watch's ShiftEndHook: one peer's shift on a line ended."""

    def __init__(self, runtime: Runtime, notifier: PeerNotifier | None = None) -> None:
        self.runtime = runtime
        self.notifier = notifier

    def end_shift(self, *, peer_id: int, line_id: int, ended_at: datetime) -> None:
        now = ended_at
        change = routing_engine(self.runtime, now).end_shift(peer_id, line_id, epoch.seconds(now))
        _off_facts(self.runtime, change.went_off, now)
        _notify(self.notifier, change.went_off, self.runtime, now)
        match_lines(self.runtime, change.lines_to_match, now)


def start_shift(runtime: Runtime, peer_id: int, line_id: int, now: datetime) -> ShiftChange:
    """One peer's shift on a line started (the dashboard, before the shift watch sees it)."""
    return routing_engine(runtime, now).start_shift(peer_id, line_id, epoch.seconds(now))


def drop_in_lines(runtime: Runtime, peer_id: int, now: datetime) -> dict[int, datetime]:
    """The lines the peer may work outside a shift, and until when (unexpired only)."""
    ends = routing_engine(runtime, now).drop_in_lines(peer_id, epoch.seconds(now))
    return {line_id: epoch.moment(until) for line_id, until in ends.items()}


def allow_drop_in(runtime: Runtime, peer_id: int, line_id: int, until: datetime, now: datetime) -> None:
    """An admin lets the peer work the line outside a shift until `until`."""
    routing_engine(runtime, now).allow_drop_in(peer_id, line_id, epoch.seconds(until),
                                                epoch.seconds(now))


# Presence ---------------------------------------------------------------------------------


def set_presence(runtime: Runtime, peer_id: int, presence: Presence, now: datetime) -> PresenceChange:
    engine = routing_engine(runtime, now)
    change = engine.set_presence(peer_id, presence, epoch.seconds(now))
    if change.changed and change.presence is not None:
        record_presence(runtime, peer_id, change.presence, now)
        _presence_fact(runtime, peer_id, change.presence, now)
    if change.changed and change.presence == Presence.AVAILABLE:
        match_lines(runtime, _peer_lines(engine, peer_id, now), now)
    match_lines(runtime, [change.returned_line_id], now)
    return change


def extend_wrap_up(runtime: Runtime, peer_id: int, until: datetime, now: datetime) -> WrapUpChange:
    """"I need more time": wrap-up lasts until `until` (never shortened)."""
    change = routing_engine(runtime, now).extend_wrap_up(peer_id, epoch.seconds(until),
                                                      epoch.seconds(now))
    if change.status == "extended" and change.wrap_up_until is not None:
        schedule_end_wrap_up(runtime, peer_id, epoch.moment(change.wrap_up_until))
    return change


def end_wrap_up(runtime: Runtime, peer_id: int, now: datetime,
                notifier: PeerNotifier | None = None) -> WrapUpChange:
    """Ends the wrap-up once due (an early or repeated call changes nothing)."""
    engine = routing_engine(runtime, now)
    change = engine.end_wrap_up(peer_id, epoch.seconds(now))
    if change.status == "not_due" and change.wrap_up_until is not None:
        # Ran early (RQ's scheduler works in whole seconds): try again when it is due.
        schedule_end_wrap_up(runtime, peer_id, epoch.moment(change.wrap_up_until))
    if change.status == "ended":
        _presence_fact(runtime, peer_id, change.presence, now)
        if change.presence == Presence.OFF:
            _notify(notifier, [PeerOff(peer_id, OffReason.SHIFT_ENDED)], runtime, now)
        match_lines(runtime, _peer_lines(engine, peer_id, now), now)
    return change


def schedule_end_wrap_up(runtime: Runtime, peer_id: int, until: datetime) -> None:
    """`until`: the end of the peer's wrap-up, as the engine's results give it."""
    # The sweeper ends overdue wrap-ups too, so a lost job only delays the peer by a sweep.
    # RQ schedules in whole seconds and may run a job up to a second early: round up.
    jobs.END_WRAP_UP.enqueue_at(runtime, epoch.moment(math.ceil(epoch.seconds(until)) + 1),
                                peer_id)


# Contacts and offers ----------------------------------------------------------------------


def arriving(*, contact_id: str, line_id: int, channel: str, experience: str | None, language: str,
             priority: int, arrived_at: datetime, accepts_any_peer: bool) -> ContactView:
    """A contact as routing sees it; it keeps its place by `arrived_at`, whenever it (re)arrives."""
    return ContactView(contact_id=contact_id, line_id=line_id, channel=channel,
                       experience=experience, language=language, priority=priority,
                       arrived_at=epoch.seconds(arrived_at), accepts_any_peer=accepts_any_peer)


def contact_arrived(runtime: Runtime, contact: ContactView, now: datetime, *,
                    first_peer: int | None = None) -> Arrival:
    """A contact joins the queue; the verdict says what to tell them. `first_peer`: the peer a
    caller back after a dropped call asked for (offered first when they can take it)."""
    arrival = routing_engine(runtime, now).arrive(contact, epoch.seconds(now),
                                                  first_peer=first_peer)
    dispatch_offers(runtime, arrival.offers, now)
    if len(arrival.offers) >= defaults.MAX_OFFERS_PER_PASS:
        run_match_pass(runtime, contact.line_id, now)
    return arrival


def choose_any(runtime: Runtime, contact_id: str, now: datetime) -> Arrival:
    arrival = routing_engine(runtime, now).choose_any(contact_id, epoch.seconds(now))
    dispatch_offers(runtime, arrival.offers, now)
    return arrival


def requeue_contact(runtime: Runtime, contact_id: str, now: datetime, *,
                    priority: int | None = None, experience: str | Literal["keep"] | None = "keep",
                    language: str | Literal["keep"] = "keep") -> Arrival:
    """A new priority, experience or language for a contact (keeping its place), and any offers
    the match pass made for it sent at once."""
    arrival = routing_engine(runtime, now).requeue(contact_id, epoch.seconds(now), priority=priority,
                                              experience=experience, language=language)
    dispatch_offers(runtime, arrival.offers, now)
    return arrival


def withdraw_contact(runtime: Runtime, contact_id: str, now: datetime,
                     notifier: PeerNotifier | None = None) -> ContactEnd:
    """The contact left (hung up, transferred, took a callback), whatever its state."""
    return _contact_ended(runtime, routing_engine(runtime, now).withdraw(contact_id, epoch.seconds(now)), now,
                          notifier)


def complete_contact(runtime: Runtime, contact_id: str, now: datetime,
                     notifier: PeerNotifier | None = None) -> ContactEnd:
    """A connected call or conversation ended: the peer goes to wrap-up."""
    return _contact_ended(runtime, routing_engine(runtime, now).complete(contact_id, epoch.seconds(now)), now,
                          notifier)


def _contact_ended(runtime: Runtime, end: ContactEnd, now: datetime,
                   notifier: PeerNotifier | None) -> ContactEnd:
    _presence_fact(runtime, end.peer_id, end.presence_after, now, end.line_id)
    _notify(notifier, [end.peer_off], runtime, now)
    if end.wrap_up_until is not None and end.peer_id is not None:
        schedule_end_wrap_up(runtime, end.peer_id, epoch.moment(end.wrap_up_until))
    if end.previous_state == "offered" or end.presence_after == Presence.AVAILABLE:
        match_lines(runtime, [end.line_id], now)
    elif end.previous_state == "connected" and end.peer_id is not None:
        match_lines(runtime, _peer_lines(routing_engine(runtime, now), end.peer_id, now), now)
    return end


def accept_offer(runtime: Runtime, offer_id: str, now: datetime,
                 notifier: PeerNotifier | None = None) -> AcceptResult:
    """The peer pressed 1 (or accepted on the dashboard): theirs only if the offer still is."""
    engine = routing_engine(runtime, now)
    result = engine.accept(offer_id, epoch.seconds(now))
    _off_facts(runtime, [result.peer_off], now)
    _notify(notifier, [result.peer_off], runtime, now)
    if result.accepted and result.peer_id is not None:
        record_activity(runtime, result.peer_id, ActivityKind.CONTACT, now,
                        state=result.channel or "", line_id=result.line_id)
        if result.channel == "voice":
            _presence_fact(runtime, result.peer_id, Presence.BUSY, now, result.line_id)
        _tell_if_rest_due(runtime, engine, result.peer_id, now)
    if not result.accepted:
        match_lines(runtime, [result.line_id], now)
    elif result.channel in ("sms", "chat") and result.peer_id is not None:
        # a texter's peer may take more texts
        match_lines(runtime, [result.line_id], now)
    return result


def back_to_back(runtime: Runtime, peer_id: int, now: datetime) -> tuple[int, int] | None:
    """(contacts in a row, the limit reached) when the peer is offered nothing more until a
    break; None otherwise."""
    return routing_engine(runtime, now).back_to_back(peer_id, epoch.seconds(now))


def offer_expires_at(runtime: Runtime, offer_id: str, now: datetime) -> datetime | None:
    """When a pending offer lapses; None once it is not pending (or unknown)."""
    expires = routing_engine(runtime, now).offer_expires_at(offer_id)
    return None if expires is None else epoch.moment(expires)


def _tell_if_rest_due(runtime: Runtime, engine: RoutingEngine, peer_id: int, now: datetime) -> None:
    """The accept that reaches the limit (once a streak: the count only grows until a break)
    texts a peer who has no dashboard open; an open dashboard says it on its own."""
    reached = engine.back_to_back(peer_id, epoch.seconds(now))
    if reached is None or reached[0] != reached[1]:
        return
    record_activity(runtime, peer_id, ActivityKind.BACK_TO_BACK, now)
    if runtime.redis.exists(keys.dashboard_heartbeat(peer_id)):
        return
    _rest_notifier.notify_rest_due(runtime, peer_id, reached[0], now)


def lapse_offer(runtime: Runtime, offer_id: str, reason: LapseReason, now: datetime,
                notifier: PeerNotifier | None = None) -> OfferEnd:
    """No answer, declined, busy, failed or expired: the contact goes back to its place."""
    end = routing_engine(runtime, now).lapse(offer_id, reason, epoch.seconds(now))
    if end.ended and end.peer_id is not None and reason.value in MISSED_REASONS:
        record_activity(runtime, end.peer_id, ActivityKind.MISSED, now, line_id=end.line_id)
    _off_facts(runtime, [end.peer_off], now)
    _notify(notifier, [end.peer_off], runtime, now)
    if end.ended:
        match_lines(runtime, [end.line_id], now)
    return end


def decline_offer(runtime: Runtime, offer_id: str, now: datetime,
                  notifier: PeerNotifier | None = None) -> OfferEnd:
    return lapse_offer(runtime, offer_id, LapseReason.DECLINED, now, notifier)


def queue_snapshot(runtime: Runtime, line_id: int, now: datetime) -> QueueSnapshot:
    return routing_engine(runtime, now).snapshot(line_id, epoch.seconds(now))


# Repair -----------------------------------------------------------------------------------


def sweep(runtime: Runtime, now: datetime, notifier: PeerNotifier | None = None) -> SweepReport:
    """Repairs lapsed offers, lost completions, ended wrap-ups and stale contacts, then matches.

    A connected contact whose SQL record already has an end (its completion reached SQL but not
    Redis) is completed here too, so its peer is not left `busy`.
    """
    engine = routing_engine(runtime, now)
    report = engine.sweep(epoch.seconds(now))
    for lapsed in report.lapsed:
        if lapsed.peer_id is not None:
            record_activity(runtime, lapsed.peer_id, ActivityKind.MISSED, now,
                            line_id=lapsed.line_id)
    for peer_id, presence in report.readied_peers:
        _presence_fact(runtime, peer_id, presence, now)
    _off_facts(runtime, report.went_off, now)
    _notify(notifier, report.went_off, runtime, now)
    connections = engine.connections()
    if connections:
        with runtime.sessions() as session:
            ended = set(session.scalars(select(Contact.id).where(
                Contact.id.in_([cid for cid, _, _ in connections]),
                Contact.ended_at.is_not(None))).all())
        for cid in sorted(ended):
            _contact_ended(runtime, engine.complete(cid, epoch.seconds(now)), now, notifier)
    match_lines(runtime, engine.line_ids(), now)
    return report
