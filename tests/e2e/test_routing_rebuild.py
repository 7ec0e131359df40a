"""Redis comes back empty, through the real app and the stand-in (DESIGN.md "Redis can come back
empty"): Redis is flushed before any traffic, with peers available and callers waiting, mid-call
and mid-offer. After each, callers reach peers, no peer turns themselves on again, and no peer on a
live call is offered another (the stand-in answers such a ring `busy`, so none may end busy).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.jobs import run_jobs
from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.clock import utc_now
from warmline.domain.matching import Presence
from warmline.services import routing
from warmline.standin import Phone
from workers.routing_jobs import sweep

RECOVERY = {"For Substance use recovery": "1"}


def _caller(live: LiveWarmline, n: int, **behaviour: Any):  # type: ignore[no-untyped-def]
    return live.standin.caller(f"+1500555{n:04d}", press=RECOVERY, **behaviour)


def _lose_redis(live: LiveWarmline) -> None:
    """Redis restarted empty (no persistence) or failed over to a replica that had nothing."""
    live.runtime.redis.flushdb()


def _never_offered_on_a_live_call(*phones: Phone) -> None:
    for phone in phones:
        assert [c.status for c in phone.rang() if c.status == "busy"] == [], phone.number


def test_lost_before_any_traffic(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam, lee = live.peer(SAM), live.peer(LEE)
    live.go_available(live.peer_id("sam@example.org"), live.peer_id("lee@example.org"))
    _lose_redis(live)
    first, second = _caller(live, 1).dial(LINE), _caller(live, 2).dial(LINE)
    # Nobody went on again: both peers are rung from what SQL remembered.
    assert sorted([*first.wait_until_bridged(timeout=60),
                   *second.wait_until_bridged(timeout=60)]) == sorted([SAM, LEE])
    _never_offered_on_a_live_call(sam, lee)


def test_lost_with_peers_available_and_callers_waiting(live: LiveWarmline) -> None:
    # Sam shares only "veteran": recovery callers wait while he is available.
    live.import_roster(ROSTER.replace('phone: "+12125550101", experiences: [recovery]',
                                      'phone: "+12125550101", experiences: [veteran]'))
    sam, lee = live.peer(SAM), live.peer(LEE, hang_up_after=20)
    sam_id, lee_id = live.peer_id("sam@example.org"), live.peer_id("lee@example.org")
    live.go_available(sam_id)
    first = _caller(live, 1).dial(LINE)
    first.wait_until_heard("You are number 1 in line", timeout=60)
    second = _caller(live, 2).dial(LINE)
    second.wait_until_heard("You are number 2 in line", timeout=60)
    _lose_redis(live)
    third = _caller(live, 3).dial(LINE)
    engine = routing.routing_engine(live.runtime, utc_now())
    live.wait_for(lambda: len(engine.waiting_contact_ids()) == 3, timeout=60)
    contacts = [live.contact_of_call(call.sid) for call in (first, second, third)]
    assert engine.waiting_contact_ids() == [c.id for c in contacts if c]  # the order is kept
    assert live.presence(sam_id) == "available"  # as he was, without going on again
    # Lee comes on: the three are bridged with him in the order they called.
    change = routing.set_presence(live.runtime, lee_id, Presence.AVAILABLE, utc_now())
    assert change.changed, change
    for call in (first, second, third):
        assert call.wait_until_bridged(timeout=60) == [LEE]
        call.wait_until_ended(timeout=60)
    assert sam.rang() == []
    _never_offered_on_a_live_call(sam, lee)


def test_lost_mid_call(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    talking = _caller(live, 1).dial(LINE)
    assert talking.wait_until_bridged(timeout=60) == [SAM]
    _lose_redis(live)
    waiting = _caller(live, 2).dial(LINE)
    waiting.wait_until_heard("You are number 1 in line", timeout=60)
    assert live.presence(sam_id) == "busy"  # Twilio says the call is live: still busy
    assert len(sam.rang()) == 1
    talking.hang_up()
    assert live.outcome_of(talking.sid) == "connected"
    # Wrap-up, then available again by itself: the one who waited is bridged with Sam.
    assert waiting.wait_until_bridged(timeout=60) == [SAM]
    assert len(sam.rang()) == 2
    _never_offered_on_a_live_call(sam)


def test_lost_mid_offer(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    # Ten stand-in seconds (half a wall second) to answer: Redis is lost while the phone rings.
    sam = live.peer(SAM, answer_after=10)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = _caller(live, 1).dial(LINE)
    ring = sam.wait_for_ring(timeout=60)
    _lose_redis(live)
    assert ring.status in ("queued", "ringing")
    # The ring is a durable fact: Sam's "1" still bridges him with this caller, and nobody is
    # rung a second time for them.
    assert call.wait_until_bridged(timeout=60) == [SAM]
    assert not any("already been helped" in words for words in ring.heard)
    assert len(sam.rang()) == 1
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def test_the_sweeper_meets_a_loss_like_any_operation(live: LiveWarmline) -> None:
    """A caller who hung up while Redis was gone is closed; the one still there waits on."""
    live.import_roster(ROSTER.replace('phone: "+12125550101", experiences: [recovery]',
                                      'phone: "+12125550101", experiences: [veteran]'))
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    waiting = _caller(live, 1).dial(LINE)
    waiting.wait_until_heard("You are number 1 in line", timeout=60)
    gone = _caller(live, 2).dial(LINE)
    gone.wait_until_heard("You are number 2 in line", timeout=60)
    live.pump.stop()  # the app's jobs wait while Redis is "lost"
    _lose_redis(live)
    gone.hang_up()  # ... and this caller left while nobody could see it
    live.wait_for(lambda: gone.status == "completed", timeout=60)
    sweep()
    run_jobs(live.runtime.redis)
    engine = routing.routing_engine(live.runtime, utc_now())
    waiting_contact = live.contact_of_call(waiting.sid)
    assert waiting_contact is not None
    assert engine.contact_state(waiting_contact.id) == "waiting"
    assert live.outcome_of(gone.sid) == "abandoned"
    assert live.presence(sam_id) == "available"
    assert live.standin.phone(SAM).texts == []  # nobody is asked to go on again


PEERS = 6
CALLERS = 18


def _crowd_roster() -> str:
    head = ROSTER.split("peers:")[0].replace("max_wait_seconds: 600", "max_wait_seconds: 3600")
    peers = "".join(
        f'  - {{email: p{n}@example.org, name: "Peer {n}", phone: "+1212555030{n}", '
        f"experiences: [recovery], languages: [en], channels: [voice]}}\n" for n in range(PEERS))
    shifts = "".join(
        f'  - {{peer: p{n}@example.org, line: "{LINE}", start: "2026-01-01 00:00", end: "00:00", '
        f'repeat: "FREQ=DAILY"}}\n' for n in range(PEERS))
    return f"{head}peers:\n{peers}shifts:\n{shifts}"


@pytest.mark.slow
def test_first_boot_on_an_empty_redis_with_traffic_before_the_first_sweep(
        live: LiveWarmline) -> None:
    """The soak's run: 18 callers, 6 peers, Redis empty at start and traffic before the
    sweeper's first run. Every caller is served; no peer on a call is set off or offered more."""
    live.import_roster(_crowd_roster())
    assert not live.runtime.redis.exists("wl:{wl}:state_marker")  # a first boot
    phones = [live.peer(f"+1212555030{n}") for n in range(PEERS)]
    ids = [live.peer_id(f"p{n}@example.org") for n in range(PEERS)]
    live.go_available(*ids)
    calls = [_caller(live, n).dial(LINE) for n in range(CALLERS)]
    live.wait_for(lambda: any(p.rang() for p in phones), timeout=60)
    sweep()  # the first sweep runs amid the traffic, like any other operation
    started = time.monotonic()
    talking = list(calls)
    while talking:  # each caller hangs up once they reached a peer, freeing them for the next
        bridged = live.wait_for(lambda: [c for c in talking if c.bridged_with()], timeout=90)
        for call in bridged:
            call.hang_up()
            talking.remove(call)
    print(f"{CALLERS} callers served by {PEERS} peers in {time.monotonic() - started:.1f} s")
    for call in calls:
        assert live.outcome_of(call.sid, timeout=60) == "connected"
    assert all(live.presence(peer_id) != "off" for peer_id in ids)
    _never_offered_on_a_live_call(*phones)

