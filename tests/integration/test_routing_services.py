"""Routing services and jobs on real Redis and PostgreSQL: dispatch, jobs in-process, rebuild."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from rq import SimpleWorker

from warmline.domain.matching import VOICE, LineRules, Presence
from warmline.models import Contact, Experience, Line, Peer, Shift
from warmline.queues import QueueName
from warmline.routing.engine import ArrivingContact, PeerProfile
from warmline.routing.results import Offer, OffReason, PeerOff
from warmline.runtime import Runtime
from warmline.services import recovery, routing


class Recorder:
    def __init__(self) -> None:
        self.offers: list[Offer] = []
        self.offs: list[PeerOff] = []

    def dispatch(self, offer: Offer) -> None:
        self.offers.append(offer)

    def notify_off(self, peer_off: PeerOff) -> None:
        self.offs.append(peer_off)


def _peer_ready(runtime: Runtime, peer_id: int, now: float) -> None:
    engine = routing.routing_engine(runtime)
    engine.sync_line(LineRules(1, wrap_up_seconds=1), now)
    engine.sync_peer(PeerProfile(peer_id, frozenset({1}), frozenset({"recovery"}),
                                 frozenset({"en"}), frozenset({VOICE}), 0), now)
    engine.start_shift(peer_id, 1, now)


def test_offers_go_to_the_channel_dispatcher_and_misses_are_told(runtime: Runtime) -> None:
    recorder = Recorder()
    routing.register_dispatcher(VOICE, recorder)
    try:
        now = time.time()
        _peer_ready(runtime, 1, now)
        routing.contact_arrived(runtime, ArrivingContact("a1", 1, VOICE, "recovery", "en", 0,
                                                         now), now)
        assert recorder.offers == []  # nobody available yet
        routing.set_presence(runtime, 1, Presence.AVAILABLE, now)
        [offer] = recorder.offers
        routing.decline_offer(runtime, offer.offer_id, now, recorder)
        [again] = recorder.offers[1:]
        routing.decline_offer(runtime, again.offer_id, now, recorder)
        assert recorder.offs == [PeerOff(1, OffReason.MISSED_OFFERS)]
    finally:
        routing.register_dispatcher(VOICE, None)


def test_jobs_run_in_process_and_are_idempotent(runtime: Runtime) -> None:
    now = time.time()
    _peer_ready(runtime, 1, now)
    routing.set_presence(runtime, 1, Presence.AVAILABLE, now)
    arrival = routing.contact_arrived(
        runtime, ArrivingContact("j1", 1, VOICE, "recovery", "en", 0, now), now)
    routing.accept_offer(runtime, arrival.offers[0].offer_id, now)
    end = routing.complete_contact(runtime, "j1", now)
    assert end.presence_after == Presence.WRAP_UP
    queue = runtime.queue(QueueName.ROUTING)
    time.sleep(1.1)  # not waiting for an event: the wrap-up's end (whole seconds) must have passed
    for _ in range(2):
        queue.enqueue("workers.routing_jobs.end_wrap_up", 1)
        queue.enqueue("workers.routing_jobs.run_match_pass", 1)
        queue.enqueue("workers.routing_jobs.sweep")
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    assert routing.routing_engine(runtime).presence(1) == Presence.AVAILABLE
    assert len(queue.failed_job_registry) == 0


def test_rebuild_requeues_live_calls_and_sets_peers_off(runtime: Runtime) -> None:
    arrived = datetime.now(UTC) - timedelta(minutes=2)
    with runtime.sessions() as session, session.begin():
        line = Line(number="+15550100001", name="Test line", timezone="UTC")
        experience = Experience(key="recovery", label="Recovery", digit=1, keyword="RECOVERY")
        peer = Peer(email="p@example.org", name="Pat Peer", phone_encrypted="x",
                    phone_hash="h" * 64, experiences=[experience])
        session.add_all([line, experience, peer])
        session.flush()
        session.add(Shift(peer_id=peer.id, line_id=line.id,
                          start_local=datetime(2020, 1, 1, 0, 0),
                          end_local=datetime(2020, 1, 1, 23, 59).time(), rrule="FREQ=DAILY"))
        for cid, sid in (("live", "CA_live"), ("gone", "CA_gone")):
            session.add(Contact(id=cid, line_id=line.id, channel=VOICE, caller_hash="c" * 64,
                                experience_key="recovery", provider_sid=sid, arrived_at=arrived))
        session.add(Contact(id="done", line_id=line.id, channel=VOICE, caller_hash="c" * 64,
                            provider_sid="CA_done", arrived_at=arrived, outcome="connected"))
        peer_id = peer.id
    recorder = Recorder()
    now = time.time()
    report = recovery.rebuild_live_state(runtime, lambda sid: sid == "CA_live", now, recorder)
    assert report.requeued == ["live"] and report.gone == ["gone"]
    engine = routing.routing_engine(runtime)
    assert engine.waiting_contact_ids() == ["live"]
    assert engine.presence(peer_id) == Presence.OFF
    assert recorder.offs == [PeerOff(peer_id, OffReason.ROUTING_REBUILT)]
    # run twice: nothing doubles
    recovery.rebuild_live_state(runtime, lambda sid: sid == "CA_live", now, recorder)
    assert engine.waiting_contact_ids() == ["live"]
