"""Redis coming back empty, on real Redis and PostgreSQL (DESIGN.md "Redis can come back empty").

Every routing script refuses to act without the state marker; the first operation that meets the
loss rebuilds live state from SQL (and Twilio, here a call checker) under a lock, then runs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from tests.support.jobs import run_jobs
from tests.support.offers import OfferRecorder, recording_offers
from tests.support.paths import REPO_ROOT
from tests.support.processes import tied_to_this_run
from tests.support.workers import worker_environment
from warmline import epoch, jobs
from warmline.domain.matching import VOICE, ContactView, LineRules, Presence
from warmline.models import Contact, Experience, Line, Peer, Shift
from warmline.queues import QueueName
from warmline.routing import keys
from warmline.routing.engine import PeerProfile, RoutingEngine, RoutingStateLostError
from warmline.routing.results import LapseReason, Offer
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.upkeep import recovery
from warmline.services.upkeep.recurring import list_scheduled_recurring


@pytest.fixture
def dispatched() -> Iterator[OfferRecorder]:
    with recording_offers() as recorder:
        yield recorder


def _calls_live(*sids: str) -> Callable[[str], bool]:
    return lambda sid: sid in sids


@pytest.fixture
def twilio_says(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Which calls Twilio has live (the stand-in's role; the e2e tests ask the real stand-in)."""

    def live(*sids: str) -> None:
        monkeypatch.setattr(recovery, "twilio_call_checker", lambda runtime: _calls_live(*sids))

    return live


def _peer(email: str, presence: str, experience: Experience) -> Peer:
    return Peer(email=email, name=email.title(), phone_encrypted="x",
                phone_hash=email.ljust(64, "h")[:64], experiences=[experience],
                channels=[VOICE], presence=presence)


def _world(runtime: Runtime) -> dict[str, int]:
    """One line (wrap-up 60 s), five peers on shift, a recovery experience nobody waits for."""
    with runtime.sessions() as session, session.begin():
        line = Line(number="+15550100001", name="Test line", timezone="UTC", wrap_up_seconds=60)
        recovery_exp = Experience(key="recovery", label="Recovery", digit=1, keyword="RECOVERY")
        veteran = Experience(key="veteran", label="Veteran", digit=4, keyword="VETERAN")
        peers = {
            "ada": _peer("ada@example.org", "available", recovery_exp),
            "bo": _peer("bo@example.org", "break", recovery_exp),
            "cy": _peer("cy@example.org", "off", recovery_exp),
            "di": _peer("di@example.org", "available", recovery_exp),  # on a call
            "ed": _peer("ed@example.org", "available", recovery_exp),  # just ended one
        }
        session.add_all([line, recovery_exp, veteran, *peers.values()])
        session.flush()
        for peer in peers.values():
            session.add(Shift(peer_id=peer.id, line_id=line.id,
                              start_local=datetime(2020, 1, 1, 0, 0),
                              end_local=datetime(2020, 1, 1, 23, 59).time(), rrule="FREQ=DAILY"))
        ids = {name: peer.id for name, peer in peers.items()}
        ids["line"] = line.id
    return ids


def _contact(runtime: Runtime, cid: str, line_id: int, *, minutes_ago: float, experience: str,
             peer_id: int | None = None, answered: bool = False, ended: bool = False,
             channel: str = VOICE) -> None:
    now = datetime.now(UTC)  # at the call, not at import: the wrap-up window is only 60 s
    with runtime.sessions() as session, session.begin():
        session.add(Contact(
            id=cid, line_id=line_id, channel=channel, caller_hash="c" * 64, experience_key=experience,
            provider_sid=f"CA{cid}", arrived_at=now - timedelta(minutes=minutes_ago),
            peer_id=peer_id, answered_at=now - timedelta(minutes=minutes_ago) if answered else None,
            ended_at=now - timedelta(seconds=10) if ended else None,
            outcome="connected" if ended else None))


def test_every_routing_script_and_read_refuses_an_empty_redis(redis_client: Redis) -> None:
    redis_client.flushdb()
    engine = RoutingEngine(redis_client)  # no rebuild hook: it can only refuse
    now = time.time()
    operations: list[Callable[[], object]] = [
        lambda: engine.sync_line(LineRules(1, 60), now),
        lambda: engine.sync_peer(PeerProfile(1, frozenset({1}), frozenset(), frozenset({"en"}),
                                             frozenset({VOICE}), 0), now),
        lambda: engine.set_on_shift(1, [1], now),
        lambda: engine.start_shift(1, 1, now),
        lambda: engine.allow_drop_in(1, 1, now + 60, now),
        lambda: engine.set_presence(1, Presence.AVAILABLE, now),
        lambda: engine.extend_wrap_up(1, now + 60, now),
        lambda: engine.end_wrap_up(1, now),
        lambda: engine.arrive(ContactView("c1", 1, VOICE, None, "en", 0, now), now),
        lambda: engine.choose_any("c1", now),
        lambda: engine.requeue("c1", now, experience=None),
        lambda: engine.withdraw("c1", now),
        lambda: engine.match_pass(1, now),
        lambda: engine.accept("x-1", now),
        lambda: engine.lapse("x-1", LapseReason.NO_ANSWER, now),
        lambda: engine.sweep(now),
        lambda: engine.contact_state("c1"),
        lambda: engine.presence(1),
        lambda: engine.load(1),
        engine.waiting_contact_ids,
        lambda: engine.snapshot(1, now),
    ]
    for operation in operations:
        with pytest.raises(RoutingStateLostError):
            operation()
    assert redis_client.dbsize() == 0, "a script wrote on a Redis that lost its state"


def test_the_first_operation_rebuilds_everything_as_it_was(
        runtime: Runtime, dispatched: OfferRecorder, twilio_says: Callable[..., None]) -> None:
    ids = _world(runtime)
    line_id = ids["line"]
    _contact(runtime, "first", line_id, minutes_ago=3, experience="veteran")
    _contact(runtime, "second", line_id, minutes_ago=2, experience="veteran")
    _contact(runtime, "left", line_id, minutes_ago=1, experience="veteran")
    _contact(runtime, "talking", line_id, minutes_ago=4, experience="recovery", peer_id=ids["di"],
             answered=True)
    _contact(runtime, "earlier", line_id, minutes_ago=5, experience="recovery", peer_id=ids["ed"],
             answered=True, ended=True)
    twilio_says("CAfirst", "CAsecond", "CAtalking")
    runtime.redis.flushdb()  # Redis came back empty (or this is its first boot)

    # The first operation after the loss meets it, rebuilds, then runs: here a new caller.
    now = time.time()
    arrival = routing.contact_arrived(
        runtime, ContactView("third", line_id, VOICE, "veteran", "en", 0, now), epoch.moment(now))

    engine = routing.routing_engine(runtime, epoch.moment(now))
    assert arrival.state == "waiting"
    assert engine.waiting_contact_ids() == ["first", "second", "third"]  # their order kept
    assert engine.presence(ids["ada"]) == Presence.AVAILABLE
    assert engine.presence(ids["bo"]) == Presence.BREAK
    assert engine.presence(ids["cy"]) == Presence.OFF
    assert engine.presence(ids["di"]) == Presence.BUSY
    assert engine.contact_state("talking") == "connected"
    assert engine.load(ids["di"]).calls == 1
    view = engine.peer_view(ids["ed"], now)
    assert view is not None and view.presence == Presence.WRAP_UP
    assert engine.contact_state("left") is None
    run_jobs(runtime.redis, [QueueName.EVENTS])
    with runtime.sessions() as session:
        assert session.get(Contact, "left").outcome == "abandoned"  # type: ignore[union-attr]
    # Scheduled work that lived in the lost Redis is scheduled again (the recurring jobs are the
    # workers': test_a_worker_on_a_quiet_line_brings_everything_back_by_itself).
    scheduled = runtime.queue(jobs.END_WRAP_UP.queue).scheduled_job_registry.get_job_ids()
    assert "remind-talking" in runtime.queue(QueueName.CALLS).scheduled_job_registry.get_job_ids()
    wrap_up_queue = runtime.queue(jobs.END_WRAP_UP.queue)
    end_wrap_up = [job for job in (wrap_up_queue.fetch_job(job_id) for job_id in scheduled)
                   if job is not None and job.func_name == "workers.routing_jobs.end_wrap_up"]
    assert [job.args for job in end_wrap_up] == [(ids["ed"],)]
    assert dispatched.offers == []  # nobody shares "veteran": nothing to offer

    # A recovery caller goes to Ada, the one available peer, and the offer id names this
    # Redis's generation, so no offer of the lost Redis can be mistaken for it.
    arrival = routing.contact_arrived(
        runtime, ContactView("fourth", line_id, VOICE, "recovery", "en", 0, now), epoch.moment(now))
    [offer] = arrival.offers
    generation = runtime.redis.get(keys.state_marker())
    assert offer.peer_id == ids["ada"] and generation is not None
    assert offer.offer_id.startswith(generation.decode() + "-")
    assert recovery.ensure_live_state(runtime, epoch.moment(now)) is None  # built: nothing to do


def test_a_waiting_text_whose_conversation_went_with_redis_ends_once_and_is_offered_to_nobody(
        runtime: Runtime, dispatched: OfferRecorder, twilio_says: Callable[..., None]) -> None:
    """The texter's number and words live in Redis only: after an empty Redis nobody could
    answer them, so the contact gets its one outcome instead of waiting (or being offered round
    the team) for ever. Found by the soak: 1 text of 19 contacts without an outcome."""
    ids = _world(runtime)
    _contact(runtime, "texter", ids["line"], minutes_ago=1, experience="recovery", channel="sms")
    twilio_says()
    runtime.redis.flushdb()
    now = datetime.now(UTC)
    report = recovery.ensure_live_state(runtime, now)
    assert report is not None and report.gone == ["texter"] and report.requeued == []
    engine = routing.routing_engine(runtime, now)
    assert engine.contact_state("texter") is None and engine.waiting_contact_ids() == []
    assert engine.presence(ids["ada"]) == Presence.AVAILABLE  # and nobody was offered it
    run_jobs(runtime.redis, [QueueName.EVENTS])
    with runtime.sessions() as session:
        assert session.get(Contact, "texter").outcome == "abandoned"  # type: ignore[union-attr]


def test_a_text_offer_whose_conversation_is_gone_ends_the_contact_once(runtime: Runtime) -> None:
    """Redis lost the conversation after the rebuild had read SQL: the first offer of it ends it."""
    from warmline import keys as data_keys
    from warmline.services.texts import conversation as texts_conversation

    ids = _world(runtime)
    _contact(runtime, "texter", ids["line"], minutes_ago=1, experience="recovery", channel="sms")
    now = time.time()
    routing.contact_arrived(runtime, ContactView("texter", ids["line"], "sms", "recovery",
                                                 "en", 0, now), epoch.moment(now))
    runtime.redis.set(data_keys.dashboard_heartbeat(ids["ada"]), "1")
    offer = Offer("gen-1", "texter", ids["ada"], ids["line"], "sms", "recovery", "en", now + 60)
    at = datetime.fromtimestamp(now, UTC)
    texts_conversation.offer_to_dashboard(runtime, offer, at)
    texts_conversation.offer_to_dashboard(runtime, offer, at)  # a retried job: still one outcome
    assert routing.routing_engine(runtime, at).contact_state("texter") is None
    run_jobs(runtime.redis, [QueueName.EVENTS])
    with runtime.sessions() as session:
        assert session.get(Contact, "texter").outcome == "abandoned"  # type: ignore[union-attr]


def test_presence_changes_are_durable_facts(runtime: Runtime) -> None:
    ids = _world(runtime)
    now = time.time()
    routing.routing_engine(runtime, epoch.moment(now)).sync_line(LineRules(ids["line"], 60), now)
    runtime.redis.flushdb()
    assert routing.set_presence(runtime, ids["cy"], Presence.AVAILABLE, epoch.moment(now)).changed  # rebuilds
    routing.set_presence(runtime, ids["ada"], Presence.BREAK, epoch.moment(now))
    with runtime.sessions() as session:
        presences = {row.id: row.presence for row in session.execute(select(Peer.id, Peer.presence))}
    assert presences[ids["cy"]] == "available" and presences[ids["ada"]] == "break"
    # ... and what a second loss brings back.
    runtime.redis.flushdb()
    engine = routing.routing_engine(runtime, epoch.moment(now))
    assert engine.presence(ids["cy"]) == Presence.AVAILABLE
    assert engine.presence(ids["ada"]) == Presence.BREAK


def test_operations_racing_a_loss_rebuild_once_and_all_apply(
        runtime: Runtime, twilio_says: Callable[..., None],
        caplog: pytest.LogCaptureFixture) -> None:
    ids = _world(runtime)
    twilio_says()
    runtime.redis.flushdb()
    now = time.time()
    errors: list[BaseException] = []

    def arrive(n: int) -> None:
        try:
            routing.contact_arrived(runtime, ContactView(
                f"race{n}", ids["line"], VOICE, "veteran", "en", 0, now + n), epoch.moment(now + n))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=arrive, args=(n,)) for n in range(6)]
    with caplog.at_level("INFO", logger="warmline.services.upkeep.recovery"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert sum("routing rebuilt" in r.getMessage() for r in caplog.records) == 1
    engine = routing.routing_engine(runtime, epoch.moment(now))
    # What came after the rebuild is kept: nothing wiped, in arrival order.
    assert engine.waiting_contact_ids() == [f"race{n}" for n in range(6)]
    assert engine.presence(ids["ada"]) == Presence.AVAILABLE


def _wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.2)


def test_a_worker_on_a_quiet_line_brings_everything_back_by_itself(
        runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    """The Procfile's worker, for real: first boot on an empty Redis, then Redis emptied again
    with nobody calling. Its recurring jobs come back, and the sweeper (an operation like any
    other) rebuilds the state, with the available peer available again."""
    ids = _world(runtime)
    runtime.redis.flushdb()  # a first boot
    marker, peer_key = keys.state_marker(), keys.peer(ids["ada"])
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(tied_to_this_run([sys.executable, "-m", "workers.main", "urgent"]),
                              cwd=REPO_ROOT,
                              env=worker_environment(database_url, tmp_path), stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        for moment in ("first boot", "Redis emptied on a quiet line"):
            _wait_until(lambda: runtime.redis.exists(marker), 60, f"{moment}: no rebuild")
            _wait_until(lambda: list_scheduled_recurring(runtime)["routing-sweep"], 30,
                        f"{moment}: the sweeper is not scheduled")
            assert runtime.redis.hget(peer_key, "presence") == b"available", moment
            runtime.redis.flushdb()
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
