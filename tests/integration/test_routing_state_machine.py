"""A stateful property test: random arrivals, presence changes, offers, accepts, declines, timeouts,
completions and shift ends, with DESIGN.md's routing invariants checked after every step."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from redis import Redis

from tests.support.services import TEST_REDIS_URL
from warmline.domain.matching import (
    SMS,
    VOICE,
    ContactView,
    LineRules,
    PeerView,
    Presence,
    plan_matches,
)
from warmline.routing import keys
from warmline.routing.engine import PeerProfile, RoutingEngine
from warmline.routing.results import LapseReason

STRESS = os.environ.get("WARMLINE_STRESS") == "1"
T0 = 1_700_000_000.0
# Line 1 offers a peer nothing after two contacts in a row until they take a break; line 2 has
# no such limit, so contacts there count without ever holding a peer back on it.
B2B_LIMIT = 2
LINES = {1: LineRules(1, wrap_up_seconds=60, back_to_back_limit=B2B_LIMIT),
         2: LineRules(2, wrap_up_seconds=0, calls_while_texting=True)}
PEERS = [
    PeerProfile(1, frozenset({1}), frozenset({"recovery"}), frozenset({"en"}),
                frozenset({VOICE, SMS}), 2),
    PeerProfile(2, frozenset({1, 2}), frozenset({"veteran"}), frozenset({"en", "es"}),
                frozenset({VOICE, SMS}), 1),
    PeerProfile(3, frozenset({2}), frozenset({"recovery", "veteran"}), frozenset({"es"}),
                frozenset({SMS}), 3),
    PeerProfile(4, frozenset({1, 2}), frozenset(), frozenset({"en"}), frozenset({VOICE}), 0),
]
REASONS = [LapseReason.NO_ANSWER, LapseReason.DECLINED, LapseReason.BUSY, LapseReason.FAILED]


def working_lines_allow_both(view: PeerView) -> bool:
    return any(LINES[line].calls_while_texting for line in view.working_lines)


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.redis = Redis.from_url(TEST_REDIS_URL)
        self.redis.flushdb()
        self.engine = RoutingEngine(self.redis)
        self.engine.mark_state_built("test")
        self.now = T0
        self.known: set[str] = set()
        self.next_id = 0
        self.taken_on_limited_line: list[tuple[int, int]] = []  # (peer, in a row before)
        for line in LINES.values():
            self.engine.sync_line(line, self.now)
        for profile in PEERS:
            self.engine.sync_peer(profile, self.now)
            for line_id in profile.lines:
                self.engine.start_shift(profile.peer_id, line_id, self.now)
            # everyone starts available, so offers and capacity limits come within a few steps
            self.engine.set_presence(profile.peer_id, Presence.AVAILABLE, self.now)

    def teardown(self) -> None:
        self.redis.flushdb()
        self.redis.close()

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now

    def pass_all(self) -> None:
        """The pass the services run after an event; it must take exactly the reference pairs."""
        for line_id in LINES:
            waiting = [v for c in self.engine.waiting_contact_ids()
                       if (v := self.engine.contact_view(c)) and v.line_id == line_id]
            expected = plan_matches(waiting, self.views(), LINES)
            taken = self.engine.match_pass(line_id, self.now)
            assert [(o.contact_id, o.peer_id) for o in taken] == expected

    def pick(self, items: list[str], index: int) -> str | None:
        return sorted(items)[index % len(items)] if items else None

    # Rules: each one event, then the pass the services would run -------------------------

    @rule(line=st.sampled_from([1, 2]), channel=st.sampled_from([VOICE, SMS]),
          experience=st.sampled_from(["recovery", "veteran", None]),
          language=st.sampled_from(["en", "es"]), priority=st.integers(0, 3),
          any_peer=st.booleans())
    def arrive(self, *, line: int, channel: str, experience: str | None, language: str,
               priority: int, any_peer: bool) -> None:
        self.next_id += 1
        cid = f"c{self.next_id:03d}"
        self.known.add(cid)
        at = self.tick()
        contact = ContactView(cid, line, channel, experience, language, priority, at,
                              any_peer)
        waiting = [v for c in self.engine.waiting_contact_ids()
                   if (v := self.engine.contact_view(c)) and v.line_id == line]
        expected = plan_matches([*waiting, self.as_view(contact)], self.views(), LINES)
        taken = self.engine.arrive(contact, at).offers
        assert [(o.contact_id, o.peer_id) for o in taken] == expected

    @staticmethod
    def as_view(contact: ContactView) -> ContactView:
        return ContactView(contact.contact_id, contact.line_id, contact.channel,
                           contact.experience, contact.language, contact.priority,
                           contact.arrived_at, contact.accepts_any_peer)

    @rule(peer=st.sampled_from([p.peer_id for p in PEERS]),
          presence=st.sampled_from([Presence.AVAILABLE, Presence.AVAILABLE, Presence.BREAK,
                                    Presence.OFF]))
    def set_presence(self, peer: int, presence: Presence) -> None:
        self.engine.set_presence(peer, presence, self.tick())
        self.pass_all()

    @rule(index=st.integers(0, 50))
    def accept_one(self, index: int) -> None:
        self.accept(index)

    @rule(index=st.integers(0, 50))
    def accept(self, index: int) -> None:
        oid = self.pick(self.engine.pending_offer_ids(), index)
        if oid:
            line, peer = (int(v) for v in self.redis.hmget(keys.offer(oid), ["line", "peer"]))
            before = self.in_a_row(peer)
            result = self.engine.accept(oid, self.tick())
            if result.status == "accepted":
                # Only a peer under the line's limit was offered; the accept counts one more.
                assert self.in_a_row(peer) == before + 1
                if line == 1:
                    self.taken_on_limited_line.append((peer, before))
            self.pass_all()

    def in_a_row(self, peer: int) -> int:
        view = self.engine.peer_view(peer, self.now)
        return view.in_a_row if view else 0

    @rule(index=st.integers(0, 50), reason=st.sampled_from(REASONS))
    def lapse(self, index: int, reason: LapseReason) -> None:
        oid = self.pick(self.engine.pending_offer_ids(), index)
        if oid:
            self.engine.lapse(oid, reason, self.tick())
            self.pass_all()

    @rule(seconds=st.sampled_from([5.0, 30.0, 70.0]))
    def time_passes(self, seconds: float) -> None:
        self.engine.sweep(self.tick(seconds))
        self.pass_all()

    @rule(index=st.integers(0, 50))
    def complete(self, index: int) -> None:
        cid = self.pick([c for c, _, _ in self.engine.connections()], index)
        if cid:
            self.engine.complete(cid, self.tick())
            self.pass_all()

    @rule(index=st.integers(0, 50))
    def withdraw(self, index: int) -> None:
        cid = self.pick([c for c in self.known if self.engine.contact_state(c)], index)
        if cid:
            self.engine.withdraw(cid, self.tick())
            self.pass_all()

    @rule(index=st.integers(0, 50))
    def choose_any(self, index: int) -> None:
        cid = self.pick(self.engine.waiting_contact_ids(), index)
        if cid:
            self.engine.choose_any(cid, self.tick())

    @rule(peer=st.sampled_from(PEERS), line=st.sampled_from([1, 2]), starts=st.booleans())
    def shift_changes(self, peer: PeerProfile, line: int, starts: bool) -> None:
        if starts:
            self.engine.start_shift(peer.peer_id, line, self.tick())
        else:
            self.engine.end_shift(peer.peer_id, line, self.tick())
        self.pass_all()

    @rule(peer=st.sampled_from([p.peer_id for p in PEERS]))
    def wrap_up_ends(self, peer: int) -> None:
        self.engine.end_wrap_up(peer, self.tick(61))
        self.pass_all()

    # Invariants --------------------------------------------------------------------------

    def views(self) -> list[PeerView]:
        return [v for p in PEERS if (v := self.engine.peer_view(p.peer_id, self.now))]

    @invariant()
    def no_peer_over_capacity(self) -> None:
        for view in self.views():
            assert view.load.calls <= 1, view
            assert view.load.texts <= view.max_texts, view
            if view.load.calls and view.load.texts:
                assert working_lines_allow_both(view), view

    @invariant()
    def back_to_back_limit_holds(self) -> None:
        # Every contact taken on line 1 was taken with fewer than the limit in a row, and no
        # peer at the limit sits in line 1's pools (the pass would offer them otherwise).
        assert all(before < B2B_LIMIT for _, before in self.taken_on_limited_line)
        for view in self.views():
            if view.in_a_row >= B2B_LIMIT:
                for raw in self.redis.smembers(keys.peer_memberships(view.peer_id)):
                    assert ":pool:1:" not in raw.decode(), (view, raw)
            if view.presence in (Presence.BREAK, Presence.OFF):
                assert view.in_a_row == 0, view

    @invariant()
    def no_contact_or_peer_offered_twice(self) -> None:
        offers = [self.redis.hmget(keys.offer(o), ["contact", "peer"])
                  for o in self.engine.pending_offer_ids()]
        contacts = Counter(c for c, _ in offers)
        peers = Counter(p for _, p in offers)
        assert all(n == 1 for n in contacts.values()), contacts
        assert all(n == 1 for n in peers.values()), peers
        for _, peer in offers:
            assert self.engine.presence(int(peer)) == Presence.OFFERED

    @invariant()
    def no_waiting_contact_left_while_an_eligible_peer_is_free(self) -> None:
        waiting = [v for c in self.engine.waiting_contact_ids()
                   if (v := self.engine.contact_view(c))]
        assert plan_matches(waiting, self.views(), LINES) == []

    @invariant()
    def every_contact_in_exactly_one_state(self) -> None:
        waiting = set(self.engine.waiting_contact_ids())
        offered = {self.redis.hget(keys.offer(o), "contact").decode()  # type: ignore[union-attr]
                   for o in self.engine.pending_offer_ids()}
        connected = {c.decode() for p in PEERS for ch in (VOICE, SMS)
                     for c in self.redis.smembers(keys.peer_contacts(p.peer_id, ch))}
        for cid in self.known:
            state = self.engine.contact_state(cid)
            places = [cid in waiting, cid in offered, cid in connected, state is None]
            assert sum(places) == 1, (cid, state, places)
            expected = {0: "waiting", 1: "offered", 2: "connected", 3: None}[places.index(True)]
            assert state == expected, (cid, state, expected)


RoutingMachine.TestCase.settings = settings(
    max_examples=300 if STRESS else 30,
    stateful_step_count=100 if STRESS else 40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# The full size runs ~25 times the CI size's steps: minutes, not seconds, so it gets a timeout of its
# own (a guard against a hang, not a bound on speed). README "Development" says how long it takes.
test_routing_state_machine = pytest.mark.timeout(3600 if STRESS else 300)(RoutingMachine.TestCase)
