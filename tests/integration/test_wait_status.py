"""What a waiting contact is told, read from routing: with the queue the hold loop expects (the
caller's wait facts), the queue's reads go with the contact's, one round trip fewer; a wrong
guess (the caller chose anyone since) is read again from routing's own view. On one Redis and on
a Redis Cluster."""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis

from warmline.domain.matching import ANY_EXPERIENCE, VOICE, ContactView, LineRules
from warmline.routing.engine import RoutingEngine
from warmline.routing.wait_status import QueueClass, WaitStatus, wait_status

T0 = 1_700_000_000.0
RECOVERY = QueueClass(1, VOICE, "recovery", "en")
ANYONE = QueueClass(1, VOICE, ANY_EXPERIENCE, "en")


@pytest.fixture
def engine(routing_redis: Redis) -> RoutingEngine:
    engine = RoutingEngine(routing_redis)
    engine.sync_line(LineRules(1, wrap_up_seconds=90), T0)
    for n, (contact_id, experience) in enumerate(
            [("c1", "recovery"), ("c2", "recovery"), ("c3", None)]):
        at = T0 + n
        engine.arrive(ContactView(contact_id, 1, VOICE, experience, "en", 0, at,
                                  experience is None), at)
    return engine


def _status_and_round_trips(engine: RoutingEngine, monkeypatch: pytest.MonkeyPatch,
                            contact_id: str, expected: QueueClass | None,
                            ) -> tuple[WaitStatus | None, int]:
    pipeline_type = type(engine.redis.pipeline())
    sent: list[int] = []
    original = pipeline_type.execute

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(1)
        return original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pipeline_type, "execute", execute)
        status = wait_status(engine, contact_id, expected)
    return status, len(sent)


def test_the_expected_queue_is_read_with_the_contact(engine: RoutingEngine,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    plain, plain_trips = _status_and_round_trips(engine, monkeypatch, "c2", None)
    guessed, guessed_trips = _status_and_round_trips(engine, monkeypatch, "c2", RECOVERY)
    assert plain is not None and plain.state == "waiting" and plain.position == 2
    assert guessed == plain
    assert (plain_trips, guessed_trips) == (2, 1)  # nobody staffed: no peers to ask about


def test_a_wrong_guess_is_read_again_from_routing(engine: RoutingEngine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine.choose_any("c2", T0 + 10)  # the caller pressed 0: now in the anyone queue
    plain, _ = _status_and_round_trips(engine, monkeypatch, "c2", None)
    stale, stale_trips = _status_and_round_trips(engine, monkeypatch, "c2", RECOVERY)
    right, right_trips = _status_and_round_trips(engine, monkeypatch, "c2", ANYONE)
    # Its place by arrival in the anyone queue, ahead of c3; the recovery queue no longer has it.
    assert plain is not None and plain.position == 1
    assert stale == plain and right == plain
    assert (stale_trips, right_trips) == (2, 1)


def test_a_contact_routing_does_not_hold_has_no_status(engine: RoutingEngine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert _status_and_round_trips(engine, monkeypatch, "gone", RECOVERY) == (None, 1)
