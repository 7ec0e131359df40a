"""Simulated callers, texters and peers, driven by one loop on a compressed clock.

Callers and peers act only through the stand-in's phones (keys, answers, hang-ups), as people
would; peers answer texts through the same service calls the dashboard's API makes, with their
dashboard's heartbeat kept alive.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from warmline import epoch
from warmline.clock import utc_now
from warmline.models import Experience, Peer
from warmline.routing import keys as routing_keys
from warmline.services import routing
from warmline.services.peers.dashboard import record_heartbeat
from warmline.services.routing import queue_snapshot
from warmline.services.texts import conversation as conversations
from warmline.simulate.harness import LiveSystem
from warmline.simulate.scenario import Arrival, Scenario
from warmline.standin import Phone, PhoneCall

TICK_WALL_SECONDS = 0.01
SAMPLE_EVERY_SIM_SECONDS = 30.0
HEARTBEAT_EVERY_WALL_SECONDS = 10.0
PEER_TEXT_PAUSE_SECONDS = 20.0  # a peer's typing time before each reply (simulated)
PEER_BACK_ON_SECONDS = 60.0  # a peer set off for missed offers texts ON after this long
# What callers hear and answer. Taken from the app's own prompts, so a changed prompt fails here.
LANGUAGE_PROMPT = "For English, press 1."
DEADLINE_PROMPT = "couldn't reach a peer in time"
CALLBACK_ANSWERS = {"To use it, press 1.": "1", "as soon as a peer is free, press 1.": "1",
                    "Press 1 for yes, 2 for no.": "2",
                    "Press 1 for the call back you asked for.": "1"}
PEER_ANSWERS = {"Press 1 to accept.": "1"}
OFF_NOTICE = "Text ON when you're ready"


@dataclass(frozen=True)
class Sample:
    """The line at one moment: contacts waiting and peers by presence."""

    at: float  # simulated seconds since the shift began
    waiting: int
    busy: int  # peers with a contact: offered or busy
    wrap_up: int
    available: int


@dataclass
class ManagedCall:
    """A call a simulated person will hang up after talking for `talk` seconds once bridged."""

    call: PhoneCall
    talk: float
    hang_up_at: float | None = None


@dataclass
class Caller:
    arrival: Arrival
    phone: Phone
    call: PhoneCall
    pressed_deadline: bool = False
    rings_seen: int = 0
    queued_at: float | None = None
    pressed_any: bool = False


@dataclass
class Texter:
    arrival: Arrival
    phone: Phone
    joined_at: float | None = None
    contact_id: str | None = None
    sent: int = 0
    next_at: float | None = None
    done: bool = False
    texts_seen: int = 0


@dataclass
class SimPeer:
    peer_id: int
    number: str
    texts: bool
    max_texts: int
    phone: Phone
    rng: random.Random
    rings_seen: int = 0
    texts_seen: int = 0
    pending_answers: list[tuple[float, PhoneCall]] = field(default_factory=list)
    back_on_at: float | None = None


@dataclass
class Conversation:
    peer: SimPeer
    texter: Texter
    contact_id: str
    replies_due: list[float] = field(default_factory=list)
    close_at: float | None = None


class Shift:
    """Runs one simulated shift against a live system and records what it saw."""

    def __init__(self, system: LiveSystem, scenario: Scenario, arrivals: list[Arrival]) -> None:
        self.system = system
        self.scenario = scenario
        self.arrivals = arrivals
        self.speed = scenario.speed
        self.rng = random.Random(scenario.seed + 1)  # noqa: S311 - a simulation, not a secret
        self.samples: list[Sample] = []
        self.callers: list[Caller] = []
        self.texters: list[Texter] = []
        self.managed: list[ManagedCall] = []
        self.conversations: dict[str, Conversation] = {}
        self.peers: list[SimPeer] = []
        self.menu_digits: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.keywords: dict[str, str] = {}
        self._t0 = 0.0
        self._next_sample = 0.0
        self._next_heartbeat = 0.0
        self.wall_seconds = 0.0

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated seconds since the shift began."""
        return (time.monotonic() - self._t0) * self.speed

    # -- set up --------------------------------------------------------------------------------

    def _load_people(self, peer_ids: list[int]) -> None:
        runtime = self.system.runtime
        with runtime.sessions() as session:
            for experience in session.scalars(select(Experience).where(Experience.active.is_(True))):
                self.menu_digits[experience.key] = str(experience.digit)
                self.labels[experience.key] = experience.label
                self.keywords[experience.key] = experience.keyword
            peers = list(session.scalars(select(Peer).where(Peer.id.in_(peer_ids)).order_by(Peer.id)))
            for peer in peers:
                number = runtime.keys.decrypt(peer.phone_encrypted)
                phone = self.system.standin.peer_phone(number, mode="manual", press=dict(PEER_ANSWERS),
                                                       press_delay=1.0)
                self.peers.append(SimPeer(
                    peer.id, number, "sms" in peer.channels, peer.max_texts, phone,
                    random.Random(f"{self.scenario.seed}-{peer.email}")))  # noqa: S311

    def _caller_keys(self, arrival: Arrival) -> dict[str, str]:
        keys = {LANGUAGE_PROMPT: "1", **CALLBACK_ANSWERS}
        if arrival.experience in self.menu_digits:
            digit = self.menu_digits[arrival.experience]
            keys[f"For {self.labels[arrival.experience]}, press {digit}."] = digit
        else:
            keys["the next available peer, press 0."] = "0"
        return keys

    # -- the loop ------------------------------------------------------------------------------

    def run(self, peer_ids: list[int]) -> None:
        self._load_people(peer_ids)
        shift = self.scenario.shift_minutes * 60
        drain_until = shift + self.scenario.drain_minutes * 60
        pending = list(self.arrivals)
        started = time.monotonic()
        self._t0 = started
        while True:
            now = self.now()
            while pending and pending[0].at <= now:
                self._arrive(pending.pop(0), now)
            self._tick(now)
            if now >= self._next_sample and now <= drain_until:
                self._sample(now)
                self._next_sample += SAMPLE_EVERY_SIM_SECONDS
            if not pending and (now >= drain_until or (now >= shift and self._all_done())):
                break
            time.sleep(TICK_WALL_SECONDS)
        self._sample(self.now())
        self._hang_up_everyone()
        self.wall_seconds = time.monotonic() - started

    def _all_done(self) -> bool:
        calls_live = any(not c.call.leg.final for c in self.callers) or any(
            not m.call.leg.final for m in self.managed)
        return not calls_live and not self.conversations and all(
            t.done or (t.joined_at is None and self.now() - t.arrival.at > t.arrival.patience_seconds)
            for t in self.texters)

    def _arrive(self, arrival: Arrival, now: float) -> None:
        standin = self.system.standin
        if arrival.channel == "voice":
            phone = standin.caller(arrival.number, mode="answer", press=self._caller_keys(arrival),
                                   press_delay=0.5)
            call = phone.dial(self.system.line_number)
            self.callers.append(Caller(arrival, phone, call))
            self.managed.append(ManagedCall(call, arrival.talk_seconds))
        else:
            phone = standin.texter(arrival.number)
            word = self.keywords.get(arrival.experience or "", "Hi, is anyone there?")
            phone.text(self.system.line_number, word)
            self.texters.append(Texter(arrival, phone))

    def _tick(self, now: float) -> None:
        for caller in self.callers:
            self._tick_caller(caller, now)
        for managed in self.managed:
            self._tick_call(managed, now)
        for peer in self.peers:
            self._tick_peer(peer, now)
        self._end_wrap_ups()
        for texter in self.texters:
            self._tick_texter(texter, now)
        for contact_id, conversation in list(self.conversations.items()):
            self._tick_conversation(contact_id, conversation, now)

    def _tick_caller(self, caller: Caller, now: float) -> None:
        leg = caller.call.leg
        if leg.queue is not None and not leg.final:
            # Patience runs from joining the queue: the menu is not waiting.
            if caller.queued_at is None:
                caller.queued_at = now
            elif now - caller.queued_at > caller.arrival.patience_seconds \
                    and not caller.call.bridged_with():
                caller.call.hang_up()
                return
            elif caller.arrival.takes_anyone and not caller.pressed_any \
                    and now - caller.queued_at > self.scenario.behaviour.any_after_minutes * 60:
                caller.pressed_any = True
                caller.call.press("0")
        if caller.arrival.wants_callback and not caller.pressed_deadline and not caller.call.leg.final \
                and any(DEADLINE_PROMPT in heard for heard in caller.call.heard):
            caller.pressed_deadline = True
            caller.call.press("1")
        rang = caller.phone.rang()
        for call in rang[caller.rings_seen:]:
            # The line calling back: the caller's phone answers by itself and presses 1.
            self.managed.append(ManagedCall(call, caller.arrival.talk_seconds))
        caller.rings_seen = len(rang)

    def _tick_call(self, managed: ManagedCall, now: float) -> None:
        call = managed.call
        if call.leg.final:
            return
        if managed.hang_up_at is None:
            with_whom = call.bridged_with()
            if with_whom:
                peer_numbers = {p.number for p in self.peers}
                talk = managed.talk if set(with_whom) & peer_numbers \
                    else self.scenario.behaviour.backup_talk_seconds
                managed.hang_up_at = now + talk
        elif now >= managed.hang_up_at:
            call.hang_up()

    def _tick_peer(self, peer: SimPeer, now: float) -> None:
        rang = peer.phone.rang()
        behaviour = self.scenario.behaviour
        for call in rang[peer.rings_seen:]:
            if peer.rng.random() < behaviour.answer_rate:
                peer.pending_answers.append((now + peer.rng.uniform(*behaviour.answer_seconds), call))
            # Otherwise the phone rings out: Twilio reports no-answer, the app counts a miss.
        peer.rings_seen = len(rang)
        still = []
        for at, call in peer.pending_answers:
            if at > now:
                still.append((at, call))
            elif not call.leg.final:
                call.answer()
        peer.pending_answers = still
        texts = peer.phone.texts
        for message in texts[peer.texts_seen:]:
            if OFF_NOTICE in message.body:
                peer.back_on_at = now + PEER_BACK_ON_SECONDS
        peer.texts_seen = len(texts)
        if peer.back_on_at is not None and now >= peer.back_on_at:
            peer.back_on_at = None
            peer.phone.text(self.system.line_number, "ON")
        if peer.texts:
            self._peer_text_offers(peer, now)

    def _end_wrap_ups(self) -> None:
        """Run the wrap-up end job on time. RQ schedules in whole seconds, and the app adds
        one for safety: at 120x that is minutes of simulated idleness. The job is idempotent,
        so the one RQ runs later changes nothing."""
        runtime = self.system.runtime
        with runtime.redis.pipeline(transaction=False) as pipe:
            for peer in self.peers:
                pipe.hmget(routing_keys.peer(peer.peer_id), "presence", "wrap_until")
            states = pipe.execute()
        wall = utc_now()
        for peer, (presence, until) in zip(self.peers, states, strict=True):
            if presence == b"wrap_up" and until is not None and float(until) <= epoch.seconds(wall):
                routing.end_wrap_up(runtime, peer.peer_id, wall)

    def _peer_text_offers(self, peer: SimPeer, now: float) -> None:
        runtime = self.system.runtime
        wall = utc_now()
        store = conversations.conversation_store(runtime)
        for offer_id in store.peer_offer_ids(peer.peer_id, wall):
            found = store.offer(offer_id)
            if found is None:
                continue
            if peer.rng.random() >= self.scenario.behaviour.answer_rate:
                conversations.decline_offer(runtime, peer.peer_id, offer_id, wall)
                continue
            if conversations.accept_offer(runtime, peer.peer_id, offer_id, wall) is not None:
                continue
            texter = self._texter_of_contact(found[0])
            if texter is not None:
                self.conversations[found[0]] = Conversation(peer, texter, found[0],
                                                            replies_due=[now + PEER_TEXT_PAUSE_SECONDS])

    def _texter_of_contact(self, contact_id: str) -> Texter | None:
        conversation = conversations.conversation_store(self.system.runtime).get(contact_id)
        if conversation is None:
            return None
        number = conversations.conversation_store(self.system.runtime).number(conversation)
        texter = next((t for t in self.texters if t.arrival.number == number), None)
        if texter is not None:
            texter.contact_id = contact_id
        return texter

    def _tick_texter(self, texter: Texter, now: float) -> None:
        if texter.done:
            return
        received = texter.phone.texts
        if texter.joined_at is None and any("has joined" in m.body for m in received[texter.texts_seen:]):
            texter.joined_at = now
            gap = texter.arrival.talk_seconds / (texter.arrival.messages + 1)
            texter.next_at = now + gap
        texter.texts_seen = len(received)
        if texter.next_at is not None and now >= texter.next_at:
            if texter.sent < texter.arrival.messages:
                texter.phone.text(self.system.line_number, "Thanks for listening. It helps to say it.")
                texter.sent += 1
                gap = texter.arrival.talk_seconds / (texter.arrival.messages + 1)
                texter.next_at = now + gap
                conversation = self.conversations.get(texter.contact_id or "")
                if conversation is not None:
                    conversation.replies_due.append(now + PEER_TEXT_PAUSE_SECONDS)
            else:
                texter.next_at = None
                conversation = self.conversations.get(texter.contact_id or "")
                if conversation is not None:
                    conversation.close_at = now + PEER_TEXT_PAUSE_SECONDS

    def _tick_conversation(self, contact_id: str, conversation: Conversation, now: float) -> None:
        runtime, peer_id = self.system.runtime, conversation.peer.peer_id
        due = [at for at in conversation.replies_due if at <= now]
        if due:
            conversation.replies_due = [at for at in conversation.replies_due if at > now]
            conversations.send_reply(runtime, peer_id, contact_id,
                                     "I hear you. I've been there too. Tell me more?", utc_now())
        if conversation.close_at is not None and now >= conversation.close_at:
            conversations.close_by_peer(runtime, peer_id, contact_id, utc_now())
            conversation.texter.done = True
            del self.conversations[contact_id]

    # -- watching ------------------------------------------------------------------------------

    def _sample(self, now: float) -> None:
        runtime = self.system.runtime
        if time.monotonic() >= self._next_heartbeat:
            # The dashboards of peers who take texts stay open: a closed one takes no texts.
            for peer in self.peers:
                if peer.texts:
                    record_heartbeat(runtime.redis, peer.peer_id)
            self._next_heartbeat = time.monotonic() + HEARTBEAT_EVERY_WALL_SECONDS
        snapshot = queue_snapshot(runtime, self.system.line_id, utc_now())
        presence = snapshot.peers_by_presence
        self.samples.append(Sample(
            at=round(now, 1), waiting=snapshot.waiting,
            busy=presence.get("busy", 0) + presence.get("offered", 0),
            wrap_up=presence.get("wrap_up", 0), available=presence.get("available", 0)))

    def _hang_up_everyone(self) -> None:
        for managed in self.managed:
            if not managed.call.leg.final:
                managed.call.hang_up()
        wall = utc_now()
        for contact_id, conversation in list(self.conversations.items()):
            conversations.close_by_peer(self.system.runtime, conversation.peer.peer_id, contact_id, wall)
        self.conversations.clear()
