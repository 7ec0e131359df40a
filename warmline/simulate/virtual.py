"""`simulate --virtual`: a discrete-event simulation on a virtual clock, through the real routing engine.

Every routing decision is the real one: the engine's Lua scripts on a real Redis (a throwaway DB
index), called with the virtual `now`, so matching, offers and their expiry, lapses and two
misses setting a peer off, wrap-up, "anyone" and shifts starting and ending follow exactly the
rules the app runs. What the simulation plays instead of the app and Twilio are the people and
the wires: a peer's phone rings (they answer after a few seconds, or it rings out), a caller
hangs up when their patience runs out, presses 0 for anyone, or at the line's deadline asks for
a call back or goes to the backup line. Between two events nothing happens, so a week takes
seconds. The follow-up passes after each engine call are those of `warmline.services.routing`.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from redis import Redis

from warmline.domain.matching import ContactView, LineRules, Outlook, Presence
from warmline.domain.schedule import is_line_open
from warmline.epoch import seconds as epoch_seconds
from warmline.routing import keys as routing_keys
from warmline.routing.engine import RoutingEngine
from warmline.routing.results import Arrival as EngineArrival
from warmline.routing.results import ContactEnd, LapseReason, Offer, OffReason, PeerOff
from warmline.runtime import make_redis
from warmline.simulate.agents import PEER_BACK_ON_SECONDS, Sample
from warmline.simulate.metrics import ExperienceFigures, Figures, PeerLoad
from warmline.simulate.scenario import Arrival, Scenario, default_roster, plan_arrivals
from warmline.simulate.virtual_setup import (
    LINE_ID,
    VirtualLine,
    hour_of_week,
    load_virtual_line,
    shift_occurrences,
)

# Twilio's Timeout on the peer's leg: an unanswered phone rings out after this long.
PEER_RING_SECONDS = 20.0
CALLER_RING_SECONDS = 5.0  # a call back: the caller's phone rings, they pick up and press 1
# Samples for the plot: every 30 s of a shift, less often over a week.
MAX_SAMPLES = 2000
MIN_SAMPLE_SECONDS = 30.0


@dataclass
class VirtualContact:
    """One caller, texter or call back as the simulation follows it (times: seconds into the run)."""

    contact_id: str
    arrival: Arrival
    queued_at: float
    callback: bool = False
    state: str = "waiting"  # waiting | connected | left | done
    offer_id: str | None = None
    answered_at: float | None = None
    peer_id: int | None = None
    left_at: float | None = None
    outcome: str | None = None
    chose_any: bool = False


@dataclass
class VirtualResult:
    """The figures (as the full-stack run prints them) and every contact, for tests and plots."""

    figures: Figures
    contacts: list[VirtualContact]
    events: int
    engine_calls: int
    closed: int
    line_number: str
    start: datetime  # aware UTC: offset 0 of the contacts' times


@dataclass(order=True)
class _Event:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class _CountingEngine(RoutingEngine):
    """The real engine, counting its script runs (printed with the timings)."""

    calls = 0

    def _run(self, name: str, now: float, *args: object, given: Iterable[str] = ()) -> Any:
        self.calls += 1
        return super()._run(name, now, *args, given=given)


class VirtualShift:
    """Plays one scenario in virtual time against the routing engine on `redis`."""

    def __init__(self, scenario: Scenario, line: VirtualLine, redis: Redis) -> None:
        self.scenario = scenario
        self.line = line
        self.engine = _CountingEngine(redis)
        # The run's whole state lives in this (flushed) Redis DB: there is nothing to rebuild
        # from, so the empty state is the complete one.
        self.engine.mark_state_built("virtual")
        self.redis = redis
        self.behaviour = scenario.behaviour
        self.t0 = epoch_seconds(line.start)  # the engine runs on virtual epoch seconds from here
        self.until = (scenario.shift_minutes + scenario.drain_minutes) * 60
        self.queue: list[_Event] = []
        self.seq = itertools.count()
        self.now = 0.0
        self.contacts: dict[str, VirtualContact] = {}
        self.peer_rng = {p.peer_id: random.Random(f"{scenario.seed}-{p.email}")  # noqa: S311
                         for p in line.peers}
        self.on_shift: set[int] = set()
        self.samples: list[Sample] = []
        self.events = 0
        self.closed = 0
        self.callbacks = itertools.count(1)

    # -- the clock ---------------------------------------------------------------------------

    def at(self, offset: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, _Event(offset, next(self.seq), action))

    def epoch(self, offset: float | None = None) -> float:
        return self.t0 + (self.now if offset is None else offset)

    def run(self) -> None:
        for peer in self.line.peers:
            self.engine.sync_peer(peer.profile, self.epoch(0))
        self.engine.sync_line(LineRules(LINE_ID, self.line.wrap_up_seconds,
                                        self.line.calls_while_texting), self.epoch(0))
        self._plan_shifts()
        arrivals = plan_arrivals(self.scenario, list(self.line.experiences),
                                 lambda offset: hour_of_week(self.line, offset))
        for arrival in arrivals:
            self.at(arrival.at, partial(self._arrive, arrival))
        step = max(MIN_SAMPLE_SECONDS, self.until / MAX_SAMPLES)
        sample_at = 0.0
        while sample_at <= self.until:
            self.at(sample_at, self._sample)
            sample_at += step
        while self.queue:
            event = heapq.heappop(self.queue)
            if event.at > self.until:
                break
            self.now = event.at
            self.events += 1
            event.action()

    # -- shifts ------------------------------------------------------------------------------

    def _plan_shifts(self) -> None:
        if not self.line.shifts:
            everyone = {p.peer_id for p in self.line.peers}
            self.at(0.0, lambda: self._set_on_shift(everyone))
            return
        end = self.line.start + timedelta(seconds=self.until)
        occurrences = shift_occurrences(self.line, end)
        boundaries = sorted({0.0} | {
            max(0.0, (moment - self.line.start).total_seconds())
            for occ in occurrences for moment in (occ.start, occ.end)
            if moment < end})
        for offset in boundaries:
            instant = self.line.start + timedelta(seconds=offset)
            on = {occ.peer_id for occ in occurrences if occ.contains(instant)}
            self.at(offset, partial(self._set_on_shift, on))

    def _set_on_shift(self, peers: set[int]) -> None:
        coming = peers - self.on_shift
        change = self.engine.set_on_shift(LINE_ID, peers, self.epoch())
        self.on_shift = set(peers)
        self._match(change.lines_to_match)
        for peer_id in sorted(coming):
            # A peer opens their dashboard as their shift starts.
            self._go_available(peer_id)

    def _go_available(self, peer_id: int) -> None:
        if peer_id not in self.on_shift:
            return
        change = self.engine.set_presence(peer_id, Presence.AVAILABLE, self.epoch())
        if change.changed and change.presence == Presence.AVAILABLE:
            self._match([LINE_ID])

    # -- matching ----------------------------------------------------------------------------

    def _match(self, line_ids: list[int] | set[int] | tuple[int, ...]) -> None:
        if LINE_ID in line_ids:
            self._dispatch(self.engine.match_pass(LINE_ID, self.epoch()))

    def _dispatch(self, offers: list[Offer]) -> None:
        for offer in offers:
            contact = self.contacts.get(offer.contact_id)
            if contact is None:
                continue
            contact.offer_id = offer.offer_id
            rng = self.peer_rng[offer.peer_id]
            b = self.behaviour
            answers = rng.random() < b.answer_rate
            if offer.channel == "sms":
                # The offer shows on the peer's dashboard: taken or declined at once.
                if answers:
                    self.at(self.now, partial(self._accept, offer))
                else:
                    self.at(self.now, partial(self._lapse, offer, LapseReason.DECLINED))
            elif answers:
                delay = rng.uniform(*b.answer_seconds) + b.accept_seconds
                self.at(self.now + delay, partial(self._accept, offer))
            else:
                self.at(self.now + PEER_RING_SECONDS,
                        partial(self._lapse, offer, LapseReason.NO_ANSWER))

    def _notify_off(self, peer_off: PeerOff | None) -> None:
        if peer_off is not None and peer_off.reason == OffReason.MISSED_OFFERS:
            # Told by text; they text ON a minute later (as in full-stack mode).
            self.at(self.now + PEER_BACK_ON_SECONDS, partial(self._go_available, peer_off.peer_id))

    def _accept(self, offer: Offer) -> None:
        result = self.engine.accept(offer.offer_id, self.epoch())
        self._notify_off(result.peer_off)
        if not result.accepted:
            self._match([LINE_ID])
            return
        contact = self.contacts[offer.contact_id]
        contact.state, contact.answered_at, contact.peer_id = "connected", self.now, offer.peer_id
        talk = contact.arrival.talk_seconds
        if contact.callback:
            talk += CALLER_RING_SECONDS
        self.at(self.now + talk, lambda: self._complete(contact))
        if offer.channel == "sms":
            self._match([LINE_ID])

    def _lapse(self, offer: Offer, reason: LapseReason) -> None:
        end = self.engine.lapse(offer.offer_id, reason, self.epoch())
        self._notify_off(end.peer_off)
        if end.ended:
            self._match([LINE_ID])

    def _complete(self, contact: VirtualContact) -> None:
        end = self.engine.complete(contact.contact_id, self.epoch())
        contact.state = "done"
        contact.left_at = self.now
        contact.outcome = "callback_connected" if contact.callback else "connected"
        self._ended(end)

    def _ended(self, end: ContactEnd) -> None:
        self._notify_off(end.peer_off)
        if end.wrap_up_until is not None and end.peer_id is not None:
            self.at(end.wrap_up_until - self.t0, partial(self._end_wrap_up, end.peer_id))
        # As the services do, but a peer who went to wrap-up gained no capacity: no pass then.
        if end.previous_state == "offered" or end.presence_after == Presence.AVAILABLE \
                or (end.previous_state == "connected" and end.presence_after != Presence.WRAP_UP):
            self._match([LINE_ID])

    def _end_wrap_up(self, peer_id: int) -> None:
        change = self.engine.end_wrap_up(peer_id, self.epoch())
        if change.status == "ended":
            self._match([LINE_ID])

    # -- callers and texters -----------------------------------------------------------------

    def _arrive(self, arrival: Arrival) -> None:
        instant = self.line.start + timedelta(seconds=self.now)
        if not is_line_open(self.line.schedule, instant):
            self.closed += 1
            return
        contact = VirtualContact(f"v{arrival.index}", arrival, self.now)
        self.contacts[contact.contact_id] = contact
        result = self._enter(contact, arrival.experience)
        if contact.state != "waiting":
            return
        if arrival.channel == "sms":
            self.at(self.now + arrival.patience_seconds, lambda: self._give_up(contact))
            return
        nobody = result.verdict.outlook == Outlook.NO_MATCH
        if nobody and arrival.takes_anyone:
            self._choose_any(contact)  # told at once that nobody shares it: takes anyone
        elif arrival.takes_anyone:
            self.at(self.now + self.behaviour.any_after_minutes * 60,
                    lambda: self._choose_any(contact))
        self.at(self.now + arrival.patience_seconds, lambda: self._give_up(contact))
        self.at(self.now + self.line.max_wait_seconds, lambda: self._deadline(contact))

    def _enter(self, contact: VirtualContact, experience: str | None) -> EngineArrival:
        result = self.engine.arrive(ContactView(
            contact_id=contact.contact_id, line_id=LINE_ID, channel=contact.arrival.channel,
            experience=experience, language=self.line.language, priority=0,
            arrived_at=self.epoch(contact.queued_at), accepts_any_peer=experience is None),
            self.epoch())
        self._dispatch(result.offers)
        return result

    def _waiting(self, contact: VirtualContact) -> bool:
        return contact.state == "waiting"

    def _choose_any(self, contact: VirtualContact) -> None:
        if not self._waiting(contact) or contact.chose_any:
            return
        contact.chose_any = True
        self._dispatch(self.engine.choose_any(contact.contact_id, self.epoch()).offers)

    def _leave(self, contact: VirtualContact, outcome: str) -> None:
        contact.state, contact.left_at, contact.outcome = "left", self.now, outcome
        self._ended(self.engine.withdraw(contact.contact_id, self.epoch()))

    def _give_up(self, contact: VirtualContact) -> None:
        if self._waiting(contact):
            self._leave(contact, "abandoned")

    def _deadline(self, contact: VirtualContact) -> None:
        if not self._waiting(contact):
            return
        if self.line.callbacks and contact.arrival.wants_callback:
            self._leave(contact, "callback_requested")
            back = VirtualContact(f"cb-{next(self.callbacks)}", contact.arrival, self.now,
                                  callback=True)
            self.contacts[back.contact_id] = back
            # A call back waits for a peer as long as it takes (within its window).
            self._enter(back, contact.arrival.experience)
        else:
            self._leave(contact, "transferred_backup")

    # -- watching ----------------------------------------------------------------------------

    def _sample(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcard(routing_keys.waiting_all())
            for peer in self.line.peers:
                pipe.hget(routing_keys.peer(peer.peer_id), "presence")
            waiting, *presences = pipe.execute()
        names = [p.decode() if p else "off" for p in presences]
        self.samples.append(Sample(
            at=round(self.now, 1), waiting=int(waiting),
            busy=names.count("busy") + names.count("offered"),
            wrap_up=names.count("wrap_up"), available=names.count("available")))


def figures_of(shift: VirtualShift, wall_seconds: float) -> Figures:
    """The same figures as a full-stack run, from the contacts the simulation followed."""
    figures = Figures()
    loads = {p.peer_id: PeerLoad(p.name) for p in shift.line.peers}
    shares = {p.peer_id: p.experiences for p in shift.line.peers}
    live = [c for c in shift.contacts.values() if not c.callback]
    for contact in live:
        channel = contact.arrival.channel
        figures.offered[channel] = figures.offered.get(channel, 0) + 1
        figures.callers += channel == "voice"
        answered = contact.answered_at is not None
        if answered and contact.answered_at is not None:
            figures.answered[channel] = figures.answered.get(channel, 0) + 1
            figures.answer_seconds.append(contact.answered_at - contact.queued_at)
        if contact.outcome == "abandoned":
            figures.abandoned += 1
        elif contact.outcome == "transferred_backup":
            figures.transfers_backup += 1
            figures.callers_offered_fallback += 1
        elif contact.outcome == "callback_requested":
            figures.callbacks_requested += 1
            figures.callers_offered_fallback += 1
        elif contact.outcome is None and not answered:
            figures.unfinished += 1
        key = contact.arrival.experience
        if key:
            stats = figures.experiences.setdefault(key, ExperienceFigures())
            stats.asked += 1
            if answered:
                stats.answered += 1
                if contact.peer_id is not None and key in shares.get(contact.peer_id, set()):
                    stats.matched += 1
    for contact in shift.contacts.values():
        if contact.callback and contact.outcome == "callback_connected":
            figures.callbacks_connected += 1
        if contact.peer_id in loads and contact.answered_at is not None:
            load = loads[contact.peer_id]
            if contact.arrival.channel == "voice":
                load.calls += 1
            else:
                load.texts += 1
            finished = contact.left_at if contact.left_at is not None else shift.now
            load.busy_seconds += finished - contact.answered_at
        if contact.state == "connected":
            figures.unfinished += 1
    figures.peers = sorted(loads.values(), key=lambda load: load.name)
    figures.samples = shift.samples
    figures.wall_seconds = wall_seconds
    return figures


def simulate_virtual(scenario: Scenario, *, redis_url: str,
                     line: VirtualLine | None = None) -> VirtualResult:
    """Play `scenario` in virtual time through the routing engine on `redis_url`'s DB, which is
    flushed before and after (that DB index alone). `line` replaces the scenario's roster."""
    started = time.monotonic()
    if line is None:
        line = load_virtual_line(scenario.roster_text or default_roster(scenario.peers),
                                 scenario.line_settings, start=scenario.start,
                                 roster_shifts=scenario.roster_shifts)
    redis = make_redis(redis_url)
    redis.flushdb()
    try:
        shift = VirtualShift(scenario, line, redis)
        shift.run()
    finally:
        redis.flushdb()
        redis.close()
    wall = time.monotonic() - started
    return VirtualResult(figures_of(shift, wall), list(shift.contacts.values()), shift.events,
                         shift.engine.calls, shift.closed, line.number, line.start)
