"""The full-stack simulator's two known defects, each kept away by a test on the real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.workers import add_contact, add_line, add_peer
from warmline.domain.matching import ContactView, Presence
from warmline.models import ContactEvent, EventKind
from warmline.routing import keys as routing_keys
from warmline.routing.engine import PeerProfile
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.simulate.metrics import collect_figures

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)


def _event(contact_id: str, line_id: int, kind: EventKind, at: datetime, peer_id: int | None) -> ContactEvent:
    return ContactEvent(event_key=f"{contact_id}-{kind.value}", contact_id=contact_id, line_id=line_id,
                        channel="voice", kind=kind.value, peer_id=peer_id, at=at)


def test_a_call_still_connected_when_the_run_ends_counts_up_to_the_end(runtime: Runtime) -> None:
    line_id = add_line(runtime)
    peer_id = add_peer(runtime, "Sam", "+15550001001")
    add_contact(runtime, "open-call", line_id, T0, peer_id=peer_id, answered_at=T0 + timedelta(seconds=5))
    with runtime.sessions.begin() as session:
        session.add(_event("open-call", line_id, EventKind.QUEUED, T0, None))
        session.add(_event("open-call", line_id, EventKind.BRIDGED, T0 + timedelta(seconds=5), peer_id))
    # Was: TypeError, an aware `bridged` minus a naive end.
    figures = collect_figures(runtime, line_id, 2.0, T0 + timedelta(seconds=65))
    assert figures.unfinished == 1
    assert figures.answer_seconds == [10.0]  # 5 wall seconds at 2x
    (load,) = figures.peers
    assert load.calls == 1 and load.busy_seconds == 120.0  # 60 wall seconds at 2x


def test_the_wrap_up_under_a_compressed_clock_is_divided_by_the_speed_without_rounding(
        runtime: Runtime) -> None:
    line_id = add_line(runtime, wrap_up_seconds=90)
    peer_id = add_peer(runtime, "Sam", "+15550001001")
    runtime.clock_speed = 120.0
    now = T0.timestamp()
    routing.sync_line(runtime, line_id, T0)
    assert float(runtime.redis.hget(routing_keys.line(line_id), "wrap_up_seconds") or 0) == 0.75
    engine = routing.routing_engine(runtime, T0)
    engine.sync_peer(PeerProfile(peer_id, frozenset({line_id}), frozenset(), frozenset({"en"}),
                                 frozenset({"voice"}), 1), now)
    engine.set_on_shift(line_id, [peer_id], now)
    engine.set_presence(peer_id, Presence.AVAILABLE, now)
    arrival = engine.arrive(ContactView("c1", line_id, "voice", None, "en", 0, now), now)
    (offer,) = arrival.offers
    assert engine.accept(offer.offer_id, now + 1).accepted
    ended = engine.complete("c1", now + 10)
    # Was 1 s (0.75 rounded up to a whole second): 120 simulated seconds instead of 90.
    assert ended.wrap_up_until == now + 10.75
