"""The routing engine on real Redis: offers, accepts, lapses, presence, shifts, snapshot, sweep."""

from __future__ import annotations

import itertools

import pytest
from redis import Redis

from warmline.domain.matching import (
    CHAT,
    SMS,
    VOICE,
    ContactView,
    LineRules,
    Outlook,
    PeerLoad,
    Presence,
)
from warmline.routing import keys
from warmline.routing.engine import PeerProfile, RoutingEngine
from warmline.routing.results import LapseReason, OffReason

T0 = 1_700_000_000.0
_ids = itertools.count(1)


@pytest.fixture
def engine(routing_redis: Redis) -> RoutingEngine:
    engine = RoutingEngine(routing_redis)
    engine.sync_line(LineRules(1, wrap_up_seconds=90), T0)
    engine.sync_line(LineRules(2, wrap_up_seconds=0, calls_while_texting=True), T0)
    return engine


def add_peer(engine: RoutingEngine, peer_id: int, *, experiences: set[str] | None = None,
             languages: set[str] | None = None, channels: set[str] | None = None,
             max_texts: int = 2, lines: set[int] | None = None, available: bool = True,
             at: float = T0) -> None:
    lines = lines or {1}
    engine.sync_peer(PeerProfile(
        peer_id, frozenset(lines), frozenset(experiences or {"recovery"}),
        frozenset(languages or {"en"}), frozenset(channels or {VOICE, SMS}), max_texts), at)
    for line_id in lines:
        engine.start_shift(peer_id, line_id, at)
    if available:
        assert engine.set_presence(peer_id, Presence.AVAILABLE, at).changed


def arrive(engine: RoutingEngine, at: float, *, experience: str | None = "recovery",
           channel: str = VOICE, line_id: int = 1, priority: int = 0, language: str = "en",
           contact_id: str | None = None, any_peer: bool = False):  # type: ignore[no-untyped-def]
    cid = contact_id or f"c{next(_ids)}"
    return engine.arrive(ContactView(cid, line_id, channel, experience, language, priority,
                                     at, any_peer), at)


def test_arrival_takes_an_offer_for_the_longest_idle_matching_peer(engine: RoutingEngine) -> None:
    add_peer(engine, 1, at=T0 + 5)
    add_peer(engine, 2, at=T0)
    add_peer(engine, 3, at=T0 - 5, experiences={"veteran"})
    arrival = arrive(engine, T0 + 10)
    assert arrival.verdict.outlook == Outlook.MATCH_NOW
    [offer] = arrival.offers
    assert (offer.peer_id, offer.contact_id, offer.channel) == (2, arrival.contact_id, VOICE)
    assert engine.presence(2) == Presence.OFFERED
    assert engine.contact_state(arrival.contact_id) == "offered"


def test_voice_offers_expire_after_ring_plus_pacing(engine: RoutingEngine) -> None:
    for peer_id in (1, 2, 3):
        add_peer(engine, peer_id)
    first, second = arrive(engine, T0 + 1).offers[0], arrive(engine, T0 + 1).offers[0]
    text = arrive(engine, T0 + 1, channel=SMS).offers[0]
    assert first.expires_at == T0 + 1 + 25  # ring 20 s + 5 s margin
    assert second.expires_at == T0 + 1 + 26  # behind one pending call in Twilio's pacing
    assert text.expires_at == T0 + 1 + 60


def test_verdicts_say_no_match_all_busy_and_an_honest_wait(engine: RoutingEngine) -> None:
    add_peer(engine, 1, experiences={"veteran"})
    lonely = arrive(engine, T0)
    assert lonely.verdict.outlook == Outlook.NO_MATCH
    add_peer(engine, 2, available=False)
    engine.set_presence(2, Presence.BREAK, T0)
    busy = arrive(engine, T0 + 1)
    assert (busy.verdict.outlook, busy.verdict.expected_wait_seconds) == (Outlook.ALL_BUSY, None)
    engine.withdraw(lonely.contact_id, T0 + 2)
    engine.withdraw(busy.contact_id, T0 + 2)
    # five observed waits of 30 s make an estimate; fewer do not
    for n in range(5):
        start = T0 + 100 * (n + 1)
        contact_id = arrive(engine, start).contact_id
        engine.set_presence(2, Presence.AVAILABLE, start + 30)
        [offer] = engine.match_pass(1, start + 30)
        assert offer.contact_id == contact_id
        assert engine.accept(offer.offer_id, start + 30).accepted
        engine.complete(contact_id, start + 40)
        engine.set_presence(2, Presence.BREAK, start + 50)
        asking = arrive(engine, start + 60)
        assert asking.verdict.expected_wait_seconds == (30.0 if n == 4 else None)
        engine.withdraw(asking.contact_id, start + 60)


def test_accept_is_atomic_idempotent_and_refused_after_lapse(engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    add_peer(engine, 2, at=T0 + 1)
    offer = arrive(engine, T0 + 2).offers[0]
    result = engine.accept(offer.offer_id, T0 + 3)
    assert result.accepted and result.peer_id == 1
    assert engine.accept(offer.offer_id, T0 + 4).accepted  # Twilio retried the webhook
    assert engine.presence(1) == Presence.BUSY
    assert engine.load(1) == PeerLoad(calls=1, texts=0)
    late = arrive(engine, T0 + 10).offers[0]
    refused = engine.accept(late.offer_id, late.expires_at + 1)
    assert refused.status == "lapsed"
    assert engine.contact_state(late.contact_id) == "waiting"
    assert engine.presence(2) == Presence.AVAILABLE  # a late "1" is not a miss
    assert engine.accept("999999", T0).status == "unknown"


def test_a_lapsed_offer_returns_the_contact_to_its_own_place(engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    first = arrive(engine, T0 + 1)
    later = [arrive(engine, T0 + 2 + n).contact_id for n in range(3)]
    ended = engine.decline(first.offers[0].offer_id, T0 + 10)
    assert ended.ended and ended.peer_off is None
    assert engine.decline(first.offers[0].offer_id, T0 + 11).status == "already_declined"
    assert engine.waiting_contact_ids()[0] == first.contact_id
    add_peer(engine, 2, at=T0 + 9)
    # the peer who declined went to the back of the line; the returned contact goes first
    offers = engine.match_pass(1, T0 + 12)
    assert [(o.contact_id, o.peer_id) for o in offers] == [(first.contact_id, 2), (later[0], 1)]


def test_two_misses_in_a_row_set_the_peer_off(engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    c = arrive(engine, T0 + 1)
    assert engine.lapse(c.offers[0].offer_id, LapseReason.NO_ANSWER, T0 + 30).peer_off is None
    [again] = engine.match_pass(1, T0 + 31)
    ended = engine.lapse(again.offer_id, LapseReason.BUSY, T0 + 40)
    assert ended.peer_off is not None and ended.peer_off.reason == OffReason.MISSED_OFFERS
    assert engine.presence(1) == Presence.OFF
    assert engine.contact_state(c.contact_id) == "waiting"
    # an accept in between resets the count
    engine.set_presence(1, Presence.AVAILABLE, T0 + 50)
    [third] = engine.match_pass(1, T0 + 50)
    engine.lapse(third.offer_id, LapseReason.NO_ANSWER, T0 + 60)
    [fourth] = engine.match_pass(1, T0 + 61)
    assert engine.accept(fourth.offer_id, T0 + 62).accepted
    engine.complete(fourth.contact_id, T0 + 70)
    engine.set_presence(1, Presence.AVAILABLE, T0 + 70)
    fifth = arrive(engine, T0 + 71).offers[0]
    assert engine.lapse(fifth.offer_id, LapseReason.FAILED, T0 + 80).peer_off is None


def test_complete_starts_wrap_up_which_can_be_extended_and_ends_when_due(
        engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    offer = arrive(engine, T0).offers[0]
    engine.accept(offer.offer_id, T0 + 5)
    done = engine.complete(offer.contact_id, T0 + 100)
    assert (done.presence_after, done.wrap_up_until) == (Presence.WRAP_UP, T0 + 190)
    assert engine.complete(offer.contact_id, T0 + 101).status == "unknown"  # idempotent
    assert arrive(engine, T0 + 120).offers == []
    assert engine.end_wrap_up(1, T0 + 150).status == "not_due"
    assert engine.extend_wrap_up(1, T0 + 250, T0 + 150).wrap_up_until == T0 + 250
    assert engine.end_wrap_up(1, T0 + 200).status == "not_due"
    assert engine.end_wrap_up(1, T0 + 250).presence == Presence.AVAILABLE
    assert engine.end_wrap_up(1, T0 + 251).status == "not_in_wrap_up"
    assert engine.match_pass(1, T0 + 251)[0].peer_id == 1


def test_text_capacity_and_calls_while_texting(engine: RoutingEngine) -> None:
    add_peer(engine, 1, lines={1, 2}, max_texts=2)
    for n in range(2):
        offer = arrive(engine, T0 + n, channel=SMS).offers[0]
        assert engine.accept(offer.offer_id, T0 + n).accepted
        assert engine.presence(1) == Presence.AVAILABLE
    assert arrive(engine, T0 + 5, channel=SMS).offers == []  # max_texts reached
    assert arrive(engine, T0 + 6, channel=VOICE).offers == []  # line 1: no call while texting
    call = arrive(engine, T0 + 7, channel=VOICE, line_id=2).offers  # line 2 allows it
    assert [o.peer_id for o in call] == [1]
    assert engine.load(1) == PeerLoad(calls=0, texts=2)


def test_chats_count_against_the_text_capacity_and_need_a_peer_who_texts(
        engine: RoutingEngine) -> None:
    add_peer(engine, 1, max_texts=2, at=T0 - 10)
    add_peer(engine, 2, channels={VOICE}, at=T0 - 20)  # takes no texts, so no chats
    chat = arrive(engine, T0, channel=CHAT).offers
    assert [(o.peer_id, o.channel) for o in chat] == [(1, CHAT)]
    assert engine.accept(chat[0].offer_id, T0 + 1).accepted
    text = arrive(engine, T0 + 2, channel=SMS).offers[0]
    assert engine.accept(text.offer_id, T0 + 3).accepted
    assert engine.load(1) == PeerLoad(calls=0, texts=2)
    assert arrive(engine, T0 + 4, channel=CHAT).offers == []  # a chat and a text: max_texts
    assert arrive(engine, T0 + 5, channel=VOICE).offers[0].peer_id == 2  # no call while texting
    assert engine.complete(text.contact_id, T0 + 6).presence_after is None
    assert engine.complete(chat[0].contact_id, T0 + 7).presence_after == Presence.WRAP_UP


def test_the_last_text_closing_starts_wrap_up(engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    first = arrive(engine, T0, channel=SMS).offers[0]
    engine.accept(first.offer_id, T0 + 3)
    second = arrive(engine, T0 + 4, channel=SMS).offers[0]
    engine.accept(second.offer_id, T0 + 4)
    assert engine.complete(first.contact_id, T0 + 10).presence_after is None
    assert engine.complete(second.contact_id, T0 + 20).presence_after == Presence.WRAP_UP


def test_available_only_on_shift_or_drop_in_and_shift_end_sets_off(engine: RoutingEngine) -> None:
    add_peer(engine, 1, available=False)
    engine.end_shift(1, 1, T0)
    assert engine.set_presence(1, Presence.AVAILABLE, T0).status == "refused_not_on_shift"
    engine.allow_drop_in(1, 1, T0 + 60, T0)
    assert engine.set_presence(1, Presence.AVAILABLE, T0 + 1).changed
    report = engine.sweep(T0 + 61)
    assert [(p.peer_id, p.reason) for p in report.went_off] == [(1, OffReason.SHIFT_ENDED)]
    assert engine.presence(1) == Presence.OFF
    add_peer(engine, 2)
    offer = arrive(engine, T0 + 70).offers[0]
    change = engine.set_on_shift(1, [], T0 + 71)
    assert [p.peer_id for p in change.went_off] == [2]
    assert change.lines_to_match == [1]
    assert engine.contact_state(offer.contact_id) == "waiting"
    assert engine.accept(offer.offer_id, T0 + 72).status == "lapsed"


def test_withdraw_in_every_state_is_idempotent_and_no_miss(engine: RoutingEngine) -> None:
    add_peer(engine, 1)
    offered = arrive(engine, T0)
    waiting = arrive(engine, T0 + 1)
    assert engine.withdraw(offered.contact_id, T0 + 2).previous_state == "offered"
    assert engine.presence(1) == Presence.AVAILABLE
    assert engine.withdraw(waiting.contact_id, T0 + 3).previous_state == "waiting"
    assert engine.withdraw(waiting.contact_id, T0 + 4).status == "unknown"
    assert engine.waiting_contact_ids() == []
    assert engine.peer_view(1, T0 + 4).idle_since == T0  # type: ignore[union-attr]


def test_choose_any_and_priority(engine: RoutingEngine) -> None:
    add_peer(engine, 1, experiences={"veteran"}, available=False)
    vet_wanting = arrive(engine, T0, experience="recovery")
    plain = arrive(engine, T0 + 1, experience="veteran")
    urgent = arrive(engine, T0 + 2, experience="veteran", channel=VOICE, priority=5)
    engine.set_presence(1, Presence.AVAILABLE, T0 + 3)
    [offer] = engine.match_pass(1, T0 + 3)
    assert offer.contact_id == urgent.contact_id
    engine.withdraw(urgent.contact_id, T0 + 4)
    engine.withdraw(plain.contact_id, T0 + 4)
    chosen = engine.choose_any(vet_wanting.contact_id, T0 + 5)
    assert chosen.verdict.outlook == Outlook.MATCH_NOW
    assert [o.peer_id for o in chosen.offers] == [1]


def test_snapshot_counts_and_waits_without_identities(engine: RoutingEngine) -> None:
    add_peer(engine, 1, available=False)
    contacts = [arrive(engine, T0 + n, experience=e).contact_id
                for n, e in enumerate(["recovery", "recovery", "veteran"])]
    snap = engine.snapshot(1, T0 + 10)
    assert snap.waiting == 3
    by = {(c.channel, c.experience): c for c in snap.classes}
    assert by[(VOICE, "recovery")].waiting == 2
    assert by[(VOICE, "recovery")].longest_wait_seconds == 10
    assert snap.peers_by_presence == {"off": 1}
    assert not any(cid in repr(snap) for cid in contacts)


def test_sweep_repairs_lapsed_offers_lost_completions_and_stale_contacts(
        engine: RoutingEngine, routing_redis: Redis) -> None:
    add_peer(engine, 1)
    add_peer(engine, 2, at=T0 + 1)
    lapsing = arrive(engine, T0 + 2).offers[0]
    connected = arrive(engine, T0 + 2).offers[0]
    engine.accept(connected.offer_id, T0 + 3)
    routing_redis.delete(keys.contact(connected.contact_id))  # a crash lost the record
    report = engine.sweep(lapsing.expires_at + 1)
    assert [e.contact_id for e in report.lapsed] == [lapsing.contact_id]
    assert (2, Presence.AVAILABLE) in report.readied_peers
    assert engine.load(2) == PeerLoad()
    assert engine.sweep(lapsing.expires_at + 2).changed_anything is False
    old = arrive(engine, T0 + 100, experience="veteran")
    report = engine.sweep(T0 + 100 + 3 * 3600)
    assert set(report.stale_contacts) == {old.contact_id, lapsing.contact_id}
    assert engine.waiting_contact_ids() == []


def test_sweep_frees_a_peer_left_offered_by_an_offer_no_longer_pending(
        engine: RoutingEngine, routing_redis: Redis) -> None:
    add_peer(engine, 1)
    add_peer(engine, 2, at=T0 + 1)
    lost = arrive(engine, T0 + 2).offers[0]
    still = arrive(engine, T0 + 2).offers[0]
    # a crash took the first offer out of its pending set and lost its record mid-way
    routing_redis.zrem(keys.pending_offers(VOICE), lost.offer_id)
    routing_redis.delete(keys.offer(lost.offer_id))
    report = engine.sweep(T0 + 3)
    assert report.readied_peers == [(lost.peer_id, Presence.AVAILABLE)]
    assert engine.presence(still.peer_id) == Presence.OFFERED
    assert engine.accept(still.offer_id, T0 + 4).status == "accepted"


def test_racing_engines_never_double_offer(routing_redis: Redis) -> None:
    from concurrent.futures import ThreadPoolExecutor

    setup = RoutingEngine(routing_redis)
    setup.sync_line(LineRules(1), T0)
    add_peer(setup, 1)

    def one(n: int) -> int:
        # an engine of its own per thread (on a cluster, one client is already a pool per node)
        client = (Redis(connection_pool=routing_redis.connection_pool)
                  if isinstance(routing_redis, Redis) else routing_redis)
        return len(RoutingEngine(client).arrive(
            ContactView(f"race{n}", 1, VOICE, "recovery", "en", 0, T0 + n), T0 + 20).offers)

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(one, range(40))) == 1


def test_the_back_to_back_limit_holds_a_peer_until_they_take_a_break(
        engine: RoutingEngine) -> None:
    engine.sync_line(LineRules(1, wrap_up_seconds=0, back_to_back_limit=2), T0)
    add_peer(engine, 1)
    now = T0
    for n in (1, 2):
        now += 10
        [offer] = arrive(engine, now).offers
        assert engine.accept(offer.offer_id, now + 1).status == "accepted"
        engine.complete(offer.contact_id, now + 2)
        assert engine.peer_view(1, now + 2).in_a_row == n  # type: ignore[union-attr]
    # Two in a row: available, but offered nothing; the caller waits for them.
    assert engine.presence(1) == Presence.AVAILABLE
    assert engine.back_to_back(1, now + 3) == (2, 2)
    waiting = arrive(engine, now + 3)
    assert waiting.offers == [] and waiting.verdict.outlook == Outlook.ALL_BUSY
    # Raising the limit, or a break, lets them be offered again.
    engine.set_presence(1, Presence.BREAK, now + 4)
    assert engine.back_to_back(1, now + 4) is None
    assert engine.peer_view(1, now + 4).in_a_row == 0  # type: ignore[union-attr]
    engine.set_presence(1, Presence.AVAILABLE, now + 604)
    [offer] = engine.match_pass(1, now + 604)
    assert offer.contact_id == waiting.contact_id


def test_a_line_without_a_limit_keeps_offering_while_the_limited_line_waits(
        engine: RoutingEngine) -> None:
    engine.sync_line(LineRules(1, wrap_up_seconds=0, back_to_back_limit=1), T0)
    add_peer(engine, 1, lines={1, 2})
    [offer] = arrive(engine, T0 + 1, line_id=1).offers
    engine.accept(offer.offer_id, T0 + 2)
    engine.complete(offer.contact_id, T0 + 3)
    assert arrive(engine, T0 + 4, line_id=1).offers == []
    assert [o.peer_id for o in arrive(engine, T0 + 5, line_id=2).offers] == [1]


def test_a_new_language_moves_a_waiting_contact_to_it_keeping_its_place(engine: RoutingEngine) -> None:
    add_peer(engine, 1, languages={"en"}, at=T0)
    first = arrive(engine, T0 + 1, channel=SMS, language="es")  # nobody reads Spanish
    second = arrive(engine, T0 + 2, channel=SMS, language="es")
    assert first.offers == [] and second.offers == []
    moved = engine.requeue(second.contact_id, T0 + 3, language="en")
    assert [(o.peer_id, o.contact_id) for o in moved.offers] == [(1, second.contact_id)]
    assert engine.contact_state(first.contact_id) == "waiting"  # still waiting in Spanish
    add_peer(engine, 2, languages={"es"}, at=T0 + 4)  # a Spanish reader takes the one left in Spanish
    offers = engine.match_pass(1, T0 + 5)
    assert [(o.peer_id, o.contact_id) for o in offers] == [(2, first.contact_id)]


def arrive_again(engine: RoutingEngine, at: float, peer_id: int, *,
                 experience: str | None = "recovery", language: str = "en"):  # type: ignore[no-untyped-def]
    """A caller back after a dropped call, asking for `peer_id` again (DESIGN step 10)."""
    cid = f"c{next(_ids)}"
    return engine.arrive(ContactView(cid, 1, VOICE, experience, language, 0, at, False), at,
                         first_peer=peer_id)


def test_a_caller_back_after_a_drop_is_offered_to_the_same_peer_first(
        engine: RoutingEngine) -> None:
    add_peer(engine, 1, at=T0 - 100)  # idle longest: the usual pass would pick them
    add_peer(engine, 2, at=T0, experiences={"veteran"})  # does not share the first experience
    back = arrive_again(engine, T0 + 1, 2)
    assert [(o.peer_id, o.contact_id) for o in back.offers] == [(2, back.contact_id)]
    assert engine.presence(1) == Presence.AVAILABLE  # nobody else was rung for them
    # Another caller arriving meanwhile still gets peer 1 by the usual pass.
    other = arrive(engine, T0 + 2)
    assert [o.peer_id for o in other.offers] == [1]


def test_the_same_peer_in_wrap_up_is_offered_and_a_decline_is_no_miss_and_keeps_the_wrap_up(
        engine: RoutingEngine) -> None:
    add_peer(engine, 1, at=T0 - 100)
    add_peer(engine, 2, at=T0)
    first = arrive(engine, T0).offers[0]
    assert first.peer_id == 1 and engine.accept(first.offer_id, T0 + 5).accepted
    done = engine.complete(first.contact_id, T0 + 60)  # the call dropped
    assert (done.presence_after, done.wrap_up_until) == (Presence.WRAP_UP, T0 + 150)
    back = arrive_again(engine, T0 + 70, 1)
    [offer] = back.offers
    assert offer.peer_id == 1 and engine.presence(1) == Presence.OFFERED
    end = engine.decline(offer.offer_id, T0 + 80)
    assert end.ended and end.peer_off is None
    # Peer 1 is back in the wrap-up they had, until the time they had; the caller goes to peer 2.
    assert engine.presence(1) == Presence.WRAP_UP
    assert engine.end_wrap_up(1, T0 + 149).status == "not_due"
    assert [o.peer_id for o in engine.match_pass(1, T0 + 81)] == [2]
    assert engine.contact_state(back.contact_id) == "offered"
    # ...and the declined favour did not count as a miss: one real miss does not set them off.
    assert engine.end_wrap_up(1, T0 + 150).presence == Presence.AVAILABLE
    third = arrive(engine, T0 + 151).offers[0]
    assert third.peer_id == 1
    assert engine.lapse(third.offer_id, LapseReason.NO_ANSWER, T0 + 180).peer_off is None


def test_the_same_peer_is_not_offered_when_busy_off_or_not_speaking_the_language(
        engine: RoutingEngine) -> None:
    add_peer(engine, 1, at=T0 - 100)
    add_peer(engine, 2, at=T0)
    add_peer(engine, 3, at=T0 + 1, languages={"es"})
    busy = arrive(engine, T0 + 2).offers[0]
    assert busy.peer_id == 1 and engine.accept(busy.offer_id, T0 + 3).accepted
    # Peer 1 is on a call: the usual routing answers (peer 2, idle longest now).
    assert [o.peer_id for o in arrive_again(engine, T0 + 4, 1).offers] == [2]
    engine.set_presence(3, Presence.OFF, T0 + 5)
    assert arrive_again(engine, T0 + 6, 3, language="es").offers == []
    add_peer(engine, 4, at=T0 + 7, languages={"es"})
    english = arrive_again(engine, T0 + 8, 4)  # peer 4 speaks no English
    assert engine.contact_state(english.contact_id) == "waiting"
    assert all(o.contact_id != english.contact_id for o in english.offers)


def test_one_engine_kept_across_a_redis_that_came_back_empty_still_offers(
        engine: RoutingEngine, routing_redis: Redis) -> None:
    """One engine per process keeps its reserved offer ids between calls. After a loss and a
    rebuild under a new generation, ids of the old one are refused by the scripts: the engine
    must reserve fresh ones, not ask again with the old ones until it gives up."""
    add_peer(engine, 1)
    assert arrive(engine, T0 + 1).offers  # reserves a batch of ids, keeps the unused ones
    for key in routing_redis.scan_iter(match="*{wl}*"):
        routing_redis.delete(key)  # Redis came back empty (the routing slot only)
    engine.mark_state_built("rebuilt")
    engine.sync_line(LineRules(1, wrap_up_seconds=90), T0 + 2)
    add_peer(engine, 2, at=T0 + 2)
    offers = arrive(engine, T0 + 3).offers
    assert [o.peer_id for o in offers] == [2]
    assert offers[0].offer_id.startswith("rebuilt-")
