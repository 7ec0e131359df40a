"""`simulate --virtual` against queueing theory, for determinism, shifts, and a week's wall time.

Theory holds for one pool with no experience split, Poisson arrivals, exponential handle times
and (Erlang C) patient callers or (Erlang A) exponential patience: the virtual run, driving the
real routing scripts, must agree within sampling error over many seeds. A run is deterministic
for its seed, so these tests give the same numbers every time.
"""

from __future__ import annotations

import statistics
import time

import yaml

from tests.support.services import TEST_REDIS_URL
from warmline.domain.erlang import predict_erlang_a, predict_erlang_c
from warmline.simulate.scenario import Behaviour, Scenario, default_roster
from warmline.simulate.virtual import VirtualContact, simulate_virtual

PEERS = 4
CALLS_PER_HOUR = 30.0
TALK_MINUTES = 5.0  # 2.5 erlangs on 4 peers
WITHIN = 60.0
HOURS = 8.0
WARM_UP = 3600.0  # the line starts empty: arrivals of the first hour are not counted
SEEDS = range(1, 7)


def _pool_scenario(seed: int, patience_minutes: float | None) -> Scenario:
    behaviour = Behaviour(
        talk_minutes=TALK_MINUTES, talk_distribution="exponential", min_talk_seconds=0,
        patience_minutes=patience_minutes or 1e6, min_patience_seconds=0,
        answer_rate=1.0, answer_seconds=(0.0, 0.0), accept_seconds=0.0, callback_share=0.0,
        any_share=0.0)
    return Scenario(
        peers=PEERS, shift_minutes=HOURS * 60, calls_per_hour=CALLS_PER_HOUR, texts_per_hour=0,
        mix={"any": 1.0}, behaviour=behaviour, seed=seed, drain_minutes=120,
        line_settings={"wrap_up_seconds": 0, "max_wait_seconds": 10**7})


def _counted(contacts: list[VirtualContact]) -> list[VirtualContact]:
    return [c for c in contacts if c.queued_at >= WARM_UP and not c.callback]


def _wait(contact: VirtualContact) -> float:
    end = contact.answered_at if contact.answered_at is not None else contact.left_at
    assert end is not None, "every contact ends within the drain"
    return end - contact.queued_at


def _within(samples: list[float], expected: float, label: str) -> None:
    mean = statistics.fmean(samples)
    error = statistics.stdev(samples) / len(samples) ** 0.5
    print(f"{label}: simulated {mean:.4f} +- {error:.4f}, theory {expected:.4f}")
    assert abs(mean - expected) <= 3.5 * error + 1e-9, (label, mean, error, expected)


def test_one_patient_pool_agrees_with_erlang_c_over_many_seeds() -> None:
    answered_within, mean_waits = [], []
    started = time.monotonic()
    for seed in SEEDS:
        result = simulate_virtual(_pool_scenario(seed, None), redis_url=TEST_REDIS_URL)
        counted = _counted(result.contacts)
        assert all(c.outcome == "connected" for c in counted)
        waits = [_wait(c) for c in counted]
        answered_within.append(sum(w <= WITHIN for w in waits) / len(waits))
        mean_waits.append(statistics.fmean(waits))
    print(f"{len(SEEDS)} runs of {HOURS:g} h in {time.monotonic() - started:.1f} s")
    theory = predict_erlang_c(PEERS, CALLS_PER_HOUR / 3600, TALK_MINUTES * 60, WITHIN)
    _within(answered_within, theory.answered_within, "answered within 60 s (Erlang C)")
    _within(mean_waits, theory.mean_wait_seconds, "mean wait s (Erlang C)")


def test_one_impatient_pool_agrees_with_erlang_a_over_many_seeds() -> None:
    patience = 3.0
    answered_within, mean_waits, abandoned = [], [], []
    for seed in SEEDS:
        result = simulate_virtual(_pool_scenario(seed, patience), redis_url=TEST_REDIS_URL)
        counted = _counted(result.contacts)
        waits = [_wait(c) for c in counted]
        answered_within.append(sum(c.answered_at is not None and _wait(c) <= WITHIN
                                   for c in counted) / len(counted))
        mean_waits.append(statistics.fmean(waits))
        abandoned.append(sum(c.outcome == "abandoned" for c in counted) / len(counted))
    theory = predict_erlang_a(PEERS, CALLS_PER_HOUR / 3600, TALK_MINUTES * 60, WITHIN,
                              patience * 60)
    _within(answered_within, theory.answered_within, "answered within 60 s (Erlang A)")
    _within(mean_waits, theory.mean_wait_seconds, "mean wait s (Erlang A)")
    _within(abandoned, theory.abandonment, "abandonment (Erlang A)")
    # Impatience is visible: the same pool answers more within the minute than Erlang C says.
    assert theory.answered_within > predict_erlang_c(
        PEERS, CALLS_PER_HOUR / 3600, TALK_MINUTES * 60, WITHIN).answered_within


def test_a_seed_gives_the_same_run_and_another_seed_another() -> None:
    scenario = Scenario(peers=6, shift_minutes=180, seed=11)
    first = simulate_virtual(scenario, redis_url=TEST_REDIS_URL)
    again = simulate_virtual(scenario, redis_url=TEST_REDIS_URL)
    other = simulate_virtual(Scenario(peers=6, shift_minutes=180, seed=12), redis_url=TEST_REDIS_URL)

    def trace(contacts: list[VirtualContact]) -> list[tuple[object, ...]]:
        return [(c.contact_id, c.answered_at, c.left_at, c.peer_id, c.outcome) for c in contacts]

    assert trace(first.contacts) == trace(again.contacts)
    assert first.figures.answer_seconds == again.figures.answer_seconds
    assert trace(first.contacts) != trace(other.contacts)


def _day_and_evening_roster() -> str:
    """Two peers 09:00-17:00 and one 17:00-23:00, every day; the line open 09:00-23:00."""
    roster = yaml.safe_load(default_roster(3))
    roster["lines"][0]["hours"] = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                    "open": "09:00", "close": "23:00"}]
    peers = [p["email"] for p in roster["peers"]]
    roster["shifts"] = [
        {"peer": peers[0], "line": roster["lines"][0]["number"], "start": "2026-03-02 09:00",
         "end": "17:00", "repeat": "FREQ=DAILY"},
        {"peer": peers[1], "line": roster["lines"][0]["number"], "start": "2026-03-02 09:00",
         "end": "17:00", "repeat": "FREQ=DAILY"},
        {"peer": peers[2], "line": roster["lines"][0]["number"], "start": "2026-03-02 17:00",
         "end": "23:00", "repeat": "FREQ=DAILY"},
    ]
    return yaml.safe_dump(roster)


def test_the_rosters_shifts_and_hours_say_who_answers_and_when() -> None:
    scenario = Scenario(roster_text=_day_and_evening_roster(), shift_minutes=24 * 60,
                        calls_per_hour=6, texts_per_hour=0, mix={"any": 1.0}, seed=5,
                        line_settings={"max_wait_seconds": 3600},
                        behaviour=Behaviour(answer_rate=1.0, patience_minutes=10**6,
                                            talk_minutes=4, callback_share=0.0))
    result = simulate_virtual(scenario, redis_url=TEST_REDIS_URL)
    # Starts on Monday 2 March 2026 (the roster's first Monday), at local midnight.
    assert result.closed > 0  # callers between 23:00 and 09:00 find the line closed
    names = {p.name: p for p in result.figures.peers}
    evening = names["Lee Peer"]
    assert evening.calls > 0 and names["Sam Peer"].calls + names["Ana Peer"].calls > 0
    slack = 60.0  # ringing and the whisper: an offer made at 16:59:55 is taken just after 17:00
    for contact in result.contacts:
        assert contact.answered_at is not None
        at = contact.answered_at % 86_400  # the run starts at local midnight
        if contact.peer_id in (1, 2):
            assert 9 * 3600 <= at < 17 * 3600 + slack, contact
        else:
            assert 17 * 3600 <= at < 23 * 3600 + slack, contact


def test_a_simulated_week_prints_its_wall_time() -> None:
    # A week on the built-in roster of five peers (the full defaults' week is in the README):
    # printed, never asserted.
    scenario = Scenario(peers=5, shift_minutes=7 * 24 * 60, calls_per_hour=8, texts_per_hour=2,
                        seed=3)
    started = time.monotonic()
    result = simulate_virtual(scenario, redis_url=TEST_REDIS_URL)
    wall = time.monotonic() - started
    print(f"a simulated week: {result.figures.total_offered} contacts, {result.events} events, "
          f"{result.engine_calls} routing scripts, {wall:.1f} s of wall time")
    assert result.figures.total_offered > 1200
    assert result.figures.answer_rate is not None and result.figures.answer_rate > 0.9
