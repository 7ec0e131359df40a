"""Redis Sentinel for real: a primary, a replica and three sentinels; the primary dies mid-shift.

The app, its routing and RQ (worker and scheduler) reach Redis through
`REDIS_URL=redis+sentinel://...`; after a SIGKILL of the primary the sentinels promote the
replica and the next operations reach it by themselves. Callers are routed again and no peer
has to turn themselves on again, whether the new primary had every write or had lost them all
(the worst a replica that had not caught up can be: the lifecycle rebuilds from SQL).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq import get_current_job
from rq.job import Job

from tests.support.offers import OfferRecorder, recording_offers
from tests.support.paths import REPO_ROOT
from tests.support.processes import tied_to_this_run
from tests.support.redis_servers import FAILOVER_GUARD_SECONDS, SentinelGroup, sentinel_group, wait_until
from tests.support.services import clean_database, make_test_settings
from tests.support.workers import worker_environment as _worker_environment
from warmline import epoch
from warmline.clock import utc_now
from warmline.domain.matching import VOICE, ContactView, Presence
from warmline.models import Contact, Experience, Line, Peer, Shift
from warmline.queues import QueueName
from warmline.routing import keys
from warmline.runtime import Runtime, build_runtime, set_process_runtime
from warmline.services import routing
from warmline.services.upkeep import recovery

JOB_MARK = "wl:test:sentinel-job"


def record_that_the_job_ran(value: str) -> None:
    """An RQ job (run by a real worker process): leaves a mark through its own connection."""
    job = get_current_job()
    assert job is not None
    job.connection.set(JOB_MARK, value)


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    with sentinel_group(tmp_path / "redis") as started:
        yield started


@pytest.fixture
def sentinel_runtime(group: SentinelGroup, database_url: str, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = build_runtime(make_test_settings(database_url, tmp_path, REDIS_URL=group.url(0)))
    clean_database(runtime)
    # Twilio (the stand-in's role) says every caller's call is live.
    monkeypatch.setattr(recovery, "twilio_call_checker", lambda _runtime: lambda _sid: True)
    set_process_runtime(runtime)
    yield runtime
    set_process_runtime(None)
    runtime.close()


@pytest.fixture
def worker_environment(group: SentinelGroup, database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `workers.main` process that reaches Redis through the sentinels."""
    environ = _worker_environment(database_url, tmp_path)
    environ["REDIS_URL"] = group.url(0)
    return environ


@pytest.fixture
def dispatched() -> Iterator[OfferRecorder]:
    with recording_offers() as recorder:
        yield recorder


def _world(runtime: Runtime) -> dict[str, int]:
    """One line, two peers on shift who turned themselves on before Redis knew them."""
    with runtime.sessions() as session, session.begin():
        line = Line(number="+15550100001", name="Test line", timezone="UTC", wrap_up_seconds=60)
        experience = Experience(key="recovery", label="Recovery", digit=1, keyword="RECOVERY")
        peers = [Peer(email=f"{name}@example.org", name=name.title(), phone_encrypted="x",
                      phone_hash=name.ljust(64, "h"), experiences=[experience], channels=[VOICE],
                      presence="available") for name in ("ada", "bo")]
        session.add_all([line, experience, *peers])
        session.flush()
        for peer in peers:
            session.add(Shift(peer_id=peer.id, line_id=line.id,
                              start_local=datetime(2020, 1, 1, 0, 0),
                              end_local=datetime(2020, 1, 1, 23, 59).time(), rrule="FREQ=DAILY"))
        return {"line": line.id, "ada": peers[0].id, "bo": peers[1].id}


def _connected_in_sql(runtime: Runtime, cid: str, line_id: int, peer_id: int) -> None:
    """What the voice services write when a peer's "1" joins them to the caller."""
    now = datetime.now(UTC)
    with runtime.sessions() as session, session.begin():
        session.add(Contact(id=cid, line_id=line_id, channel=VOICE, caller_hash="c" * 64,
                            experience_key="recovery", provider_sid=f"CA{cid}",
                            arrived_at=now - timedelta(seconds=30), peer_id=peer_id,
                            answered_at=now))


def _caller(cid: str, line_id: int) -> ContactView:
    now = time.time()
    return ContactView(cid, line_id, VOICE, "recovery", "en", 0, now)


def _sql_presences(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {peer.email: peer.presence for peer in session.query(Peer).all()}


@pytest.mark.parametrize("new_primary", ["caught_up", "lost_everything"])
def test_calls_are_routed_again_after_the_primary_dies_with_nobody_turning_on_again(
        group: SentinelGroup, sentinel_runtime: Runtime, dispatched: OfferRecorder,
        worker_environment: dict[str, str], new_primary: str) -> None:
    runtime = sentinel_runtime
    ids = _world(runtime)
    line_id = ids["line"]
    assert group.primary_port() == group.primary.port

    # The first caller meets an empty Redis: live state is built from SQL, then they are routed.
    first = _caller("first", line_id)
    arrival = routing.contact_arrived(runtime, first, epoch.moment(first.arrived_at))
    [offer] = arrival.offers
    assert routing.accept_offer(runtime, offer.offer_id, utc_now()).accepted
    _connected_in_sql(runtime, "first", line_id, offer.peer_id)
    talking, free = offer.peer_id, ({ids["ada"], ids["bo"]} - {offer.peer_id}).pop()
    generation = runtime.redis.get(keys.state_marker())
    assert generation is not None
    # Every write so far is on the replica too (the "caught up" case is then certain).
    assert runtime.redis.execute_command("WAIT", 1, 10_000) == 1
    presences_before = _sql_presences(runtime)

    group.primary.kill()
    wait_until(lambda: all(group.primary_port(s) == group.replica.port for s in group.sentinels),
               FAILOVER_GUARD_SECONDS, "every sentinel to name the replica as the new primary")
    if new_primary == "lost_everything":
        group.replica.client().flushall()

    # The next caller reaches the new primary through the same client, and is routed: to the
    # one peer who is free, who never turned themselves on again.
    second = _caller("second", line_id)
    arrival = routing.contact_arrived(runtime, second, epoch.moment(second.arrived_at))
    assert [(o.contact_id, o.peer_id) for o in arrival.offers] == [("second", free)]
    engine = routing.routing_engine(runtime, utc_now())
    assert engine.presence(talking) == Presence.BUSY
    assert engine.contact_state("first") == "connected"
    assert engine.presence(free) == Presence.OFFERED
    assert routing.accept_offer(runtime, arrival.offers[0].offer_id, utc_now()).accepted
    assert _sql_presences(runtime) == presences_before  # nobody set anything by hand
    rebuilt = runtime.redis.get(keys.state_marker()) != generation
    assert rebuilt == (new_primary == "lost_everything")
    assert [o.contact_id for o in dispatched.offers] == ["first", "second"]

    # An RQ job scheduled through Sentinel is moved by a worker's scheduler and run by the
    # worker, a real `workers.main` process that reaches Redis through the sentinels too.
    due = runtime.queue(QueueName.CALLS).enqueue_at(
        datetime.now(UTC) - timedelta(seconds=1),
        "tests.integration.test_redis_sentinel.record_that_the_job_ran", new_primary)
    finished = subprocess.run([sys.executable, "-m", "workers.main", "urgent", "--burst"],
                              cwd=REPO_ROOT, env=worker_environment, capture_output=True, text=True,
                              timeout=180, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert Job.fetch(due.id, connection=runtime.redis).get_status() == "finished"
    assert runtime.redis.get(JOB_MARK) == new_primary.encode()



class Supervised:
    """`workers.main` under a process manager (systemd `Restart=always`, a platform's): started
    again whenever it exits, as RQ's worker does when Redis drops it mid-bookkeeping."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        self.environ, self.log = environ, log.open("ab")
        self.process = self._start()
        self.restarts = 0

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(tied_to_this_run([sys.executable, "-m", "workers.main", "urgent"]),
                                cwd=REPO_ROOT, env=self.environ, stdout=self.log, stderr=subprocess.STDOUT)

    def keep_alive(self) -> bool:
        if self.process.poll() is not None:
            self.process = self._start()
            self.restarts += 1
        return True

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.log.close()


@pytest.mark.timeout(900)  # a hang guard: the worker may wait out RQ's scheduler lock
def test_a_running_worker_and_its_scheduler_follow_the_failover(
        group: SentinelGroup, sentinel_runtime: Runtime, worker_environment: dict[str, str],
        tmp_path: Path) -> None:
    """The long-running `workers.main` of the Procfile: its scheduler (a process RQ forks, with
    a connection rebuilt from the worker's) moves jobs due later, before and after a failover."""
    queue = sentinel_runtime.queue(QueueName.CALLS)
    redis = sentinel_runtime.redis
    worker = Supervised(worker_environment, tmp_path / "worker.log")

    def scheduled_job_runs(value: str) -> None:
        job = queue.enqueue_at(datetime.now(UTC) + timedelta(seconds=2),
                               "tests.integration.test_redis_sentinel.record_that_the_job_ran",
                               value)
        # A worker started again after the failover waits out its dead scheduler's lock (RQ's,
        # about a minute) before it moves scheduled jobs: a generous guard.
        wait_until(lambda: worker.keep_alive() and Job.fetch(job.id, connection=redis)
                   .get_status() == "finished", 4 * FAILOVER_GUARD_SECONDS,
                   f"the job scheduled {value} to run")
        assert redis.get(JOB_MARK) == value.encode()

    try:
        scheduled_job_runs("before")
        group.primary.kill()
        wait_until(lambda: all(group.primary_port(s) == group.replica.port
                               for s in group.sentinels),
                   FAILOVER_GUARD_SECONDS, "every sentinel to name the replica as the new primary")
        scheduled_job_runs("after")
    except AssertionError:
        print((tmp_path / "worker.log").read_text()[-20000:])  # pytest shows it on failure
        raise
    finally:
        worker.stop()
