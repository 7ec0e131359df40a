"""Queueing theory for staffing: Erlang C (patient callers) and Erlang A (callers who hang up).

One pool of `peers` identical servers, Poisson arrivals at `per_second`, exponential handle times
of mean `handle_seconds` (talk plus wrap-up) and, for Erlang A, exponential patience of mean
`patience_seconds`. Pure functions: the planner asks them first, the virtual simulator checks
them (and is checked by them) where the assumptions hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

# Erlang A's birth-death chain is cut where the tail's probability is below this.
_TAIL = 1e-12
_MAX_STATES = 20_000


@dataclass(frozen=True)
class Prediction:
    """What one pool of peers achieves under one load, for callers arriving at random."""

    peers: int
    wait_probability: float  # an arriving caller has to wait at all
    answered_within: float  # share of arrivals answered by a peer within the target
    mean_wait_seconds: float  # over every arrival (0 for those answered at once)
    abandonment: float = 0.0  # share of arrivals who hang up before a peer answers (Erlang A)


def offered_load(per_second: float, handle_seconds: float) -> float:
    """Erlangs: how many peers the contacts would keep busy on average."""
    return per_second * handle_seconds


def erlang_b(peers: int, load: float) -> float:
    """Blocking probability of an M/M/N/N system, by the stable recursion."""
    b = 1.0
    for k in range(1, peers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(peers: int, load: float) -> float:
    """Probability that an arriving caller waits, with patient callers (1 when unstable)."""
    if load <= 0:
        return 0.0
    if peers <= load:
        return 1.0
    b = erlang_b(peers, load)
    return peers * b / (peers - load * (1 - b))


@lru_cache(maxsize=4096)
def predict_erlang_c(peers: int, per_second: float, handle_seconds: float,
                     within_seconds: float) -> Prediction:
    """Share answered within `within_seconds` and mean wait, callers never hanging up."""
    load = offered_load(per_second, handle_seconds)
    if load <= 0:
        return Prediction(peers, 0.0, 1.0, 0.0)
    if peers <= load:
        return Prediction(peers, 1.0, 0.0, math.inf)
    waits = erlang_c(peers, load)
    drain = (peers - load) / handle_seconds  # rate at which the queue ahead empties
    return Prediction(peers, waits, 1.0 - waits * math.exp(-drain * within_seconds),
                      waits / drain)


def peers_needed_erlang_c(per_second: float, handle_seconds: float, within_seconds: float,
                          share: float) -> int:
    """The fewest peers whose predicted share answered within the target is at least `share`."""
    if not 0 < share < 1:
        raise ValueError("the share to answer is between 0 and 1 (exclusive)")
    load = offered_load(per_second, handle_seconds)
    if load <= 0:
        return 0
    peers = max(1, math.floor(load) + 1)
    while predict_erlang_c(peers, per_second, handle_seconds, within_seconds).answered_within < share:
        peers += 1
    return peers


def _erlang_a_states(peers: int, per_second: float, handle_seconds: float,
                     patience_seconds: float) -> list[float]:
    """Stationary probabilities of the number of callers in the system (served + waiting)."""
    mu, theta = 1.0 / handle_seconds, 1.0 / patience_seconds
    weights = [1.0]
    n = 0
    while n < _MAX_STATES:
        n += 1
        death = min(n, peers) * mu + max(n - peers, 0) * theta
        weights.append(weights[-1] * per_second / death)
        if n > peers and weights[-1] < _TAIL * sum(weights):
            break
    total = sum(weights)
    return [w / total for w in weights]


def _served_within(ahead: int, peers: int, mu: float, theta: float, within: float) -> float:
    """P(a caller with `ahead` callers before them reaches a peer within `within` seconds, before
    hanging up): a pure-death chain (each step: a peer frees up or one ahead hangs up) raced
    against the caller's own patience, solved by uniformization."""
    # States: j callers ahead (j = ahead .. 0), then "answered" (absorbing). Leaving state j:
    # to j-1 (or answered, from 0) at peers*mu + j*theta; abandoning at theta.
    rate = peers * mu + ahead * theta + theta
    steps_mean = rate * within
    probs = [0.0] * (ahead + 1)  # index: j callers ahead
    probs[ahead] = 1.0
    answered = 0.0
    result = 0.0
    poisson = math.exp(-steps_mean)
    k = 0
    cumulative = poisson
    # Poisson-weighted sum of the chain after k uniformized steps.
    result += poisson * answered
    limit = int(steps_mean + 10 * math.sqrt(steps_mean + 1) + 20)
    while k < limit:
        k += 1
        moved = [0.0] * (ahead + 1)
        for j, p in enumerate(probs):
            if p == 0.0:
                continue
            forward = (peers * mu + j * theta) / rate
            stay = 1.0 - forward - theta / rate
            moved[j] += p * stay
            if j == 0:
                answered += p * forward
            else:
                moved[j - 1] += p * forward
        probs = moved
        poisson *= steps_mean / k
        if sum(probs) < _TAIL:
            # Answered or gone: later steps change nothing (a long target ends here early).
            cumulative += poisson
            result += poisson * answered
            break
        cumulative += poisson
        result += poisson * answered
    return result + (1.0 - cumulative) * answered


@lru_cache(maxsize=4096)  # a week's hours repeat the same few rates: plan it once each
def predict_erlang_a(peers: int, per_second: float, handle_seconds: float, within_seconds: float,
                     patience_seconds: float) -> Prediction:
    """Erlang A (M/M/N+M): callers hang up after an exponential patience of the given mean."""
    if per_second <= 0:
        return Prediction(peers, 0.0, 1.0, 0.0)
    states = _erlang_a_states(peers, per_second, handle_seconds, patience_seconds)
    waiting = sum(p * max(n - peers, 0) for n, p in enumerate(states))
    wait_probability = sum(states[peers:]) if peers < len(states) else 0.0
    mu, theta = 1.0 / handle_seconds, 1.0 / patience_seconds
    answered_late = sum(
        p * _served_within(n - peers, peers, mu, theta, within_seconds)
        for n, p in enumerate(states) if n >= peers and p > 1e-9)
    return Prediction(
        peers=peers, wait_probability=wait_probability,
        answered_within=(1.0 - wait_probability) + answered_late,
        mean_wait_seconds=waiting / per_second,  # Little's law, over every arrival
        abandonment=theta * waiting / per_second)
