"""Routing services and jobs on real Redis and PostgreSQL: dispatch, jobs in-process, rebuild."""

from __future__ import annotations

import time

from rq import SimpleWorker

from tests.support.offers import recording_offers
from warmline.domain.matching import VOICE, ContactView, LineRules, Presence
from warmline.epoch import moment
from warmline.queues import QueueName
from warmline.routing.engine import PeerProfile
from warmline.routing.results import OffReason, PeerOff
from warmline.runtime import Runtime
from warmline.services import routing


def _peer_ready(runtime: Runtime, peer_id: int, now: float) -> None:
    engine = routing.routing_engine(runtime, moment(now))
    engine.sync_line(LineRules(1, wrap_up_seconds=1), now)
    engine.sync_peer(PeerProfile(peer_id, frozenset({1}), frozenset({"recovery"}),
                                 frozenset({"en"}), frozenset({VOICE}), 0), now)
    engine.start_shift(peer_id, 1, now)


def test_offers_go_to_the_channel_dispatcher_and_misses_are_told(runtime: Runtime) -> None:
    with recording_offers() as recorder:
        now = time.time()
        _peer_ready(runtime, 1, now)
        routing.contact_arrived(runtime, ContactView("a1", 1, VOICE, "recovery", "en", 0,
                                                     now), moment(now))
        assert recorder.offers == []  # nobody available yet
        routing.set_presence(runtime, 1, Presence.AVAILABLE, moment(now))
        [offer] = recorder.offers
        routing.decline_offer(runtime, offer.offer_id, moment(now), recorder)
        [again] = recorder.offers[1:]
        routing.decline_offer(runtime, again.offer_id, moment(now), recorder)
        assert recorder.offs == [PeerOff(1, OffReason.MISSED_OFFERS)]


def test_jobs_run_in_process_and_are_idempotent(runtime: Runtime) -> None:
    now = time.time()
    _peer_ready(runtime, 1, now)
    routing.set_presence(runtime, 1, Presence.AVAILABLE, moment(now))
    arrival = routing.contact_arrived(
        runtime, ContactView("j1", 1, VOICE, "recovery", "en", 0, now), moment(now))
    routing.accept_offer(runtime, arrival.offers[0].offer_id, moment(now))
    end = routing.complete_contact(runtime, "j1", moment(now))
    assert end.presence_after == Presence.WRAP_UP
    queue = runtime.queue(QueueName.ROUTING)
    time.sleep(1.1)  # not waiting for an event: the wrap-up's end (whole seconds) must have passed
    for _ in range(2):
        queue.enqueue("workers.routing_jobs.end_wrap_up", 1)
        queue.enqueue("workers.routing_jobs.run_match_pass", 1)
        queue.enqueue("workers.routing_jobs.sweep")
    SimpleWorker([queue], connection=runtime.redis).work(burst=True)
    assert routing.routing_engine(runtime, moment(time.time())).presence(1) == Presence.AVAILABLE
    assert len(queue.failed_job_registry) == 0
