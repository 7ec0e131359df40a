"""One pool of peers under one load: the planner's answer with explicit rates."""

from __future__ import annotations

from dataclasses import dataclass

from warmline.domain.erlang import (
    Prediction,
    offered_load,
    peers_needed_erlang_c,
    predict_erlang_a,
    predict_erlang_c,
)

# Erlang A needs at least this many peers above Erlang C's answer far less often than it needs
# fewer; searching from 0 up is cheap enough for a pool of a warmline's size.
MAX_PEERS = 2_000


@dataclass(frozen=True)
class PoolRates:
    """A pool's load and target: calls per hour, handle time (talk + wrap-up), the target."""

    calls_per_hour: float
    handle_minutes: float
    answer_within_seconds: float
    share: float
    patience_minutes: float | None = None  # None: callers wait as long as it takes (Erlang C)

    @property
    def per_second(self) -> float:
        return self.calls_per_hour / 3600

    @property
    def handle_seconds(self) -> float:
        return self.handle_minutes * 60

    @property
    def load(self) -> float:
        return offered_load(self.per_second, self.handle_seconds)


def predict(rates: PoolRates, peers: int) -> Prediction:
    if rates.patience_minutes is None:
        return predict_erlang_c(peers, rates.per_second, rates.handle_seconds,
                                rates.answer_within_seconds)
    return predict_erlang_a(peers, rates.per_second, rates.handle_seconds,
                            rates.answer_within_seconds, rates.patience_minutes * 60)


def peers_needed(rates: PoolRates) -> int:
    """The fewest peers meeting the target: Erlang C's for patient callers, else Erlang A's."""
    if rates.patience_minutes is None:
        return peers_needed_erlang_c(rates.per_second, rates.handle_seconds,
                                     rates.answer_within_seconds, rates.share)
    if rates.per_second <= 0:
        return 0
    for peers in range(1, MAX_PEERS):
        if predict(rates, peers).answered_within >= rates.share:
            return peers
    raise ValueError(f"no pool of up to {MAX_PEERS} peers meets the target")


def describe(rates: PoolRates) -> list[str]:
    """The lines `plan` prints for one pool; `peers needed: K` is the one scripts read."""
    needed = peers_needed(rates)
    model = "Erlang C, callers wait" if rates.patience_minutes is None \
        else f"Erlang A, mean patience {rates.patience_minutes:g} min"
    lines = [f"offered load: {rates.load:.2f} peers busy on average "
             f"({rates.calls_per_hour:g} calls/hour x {rates.handle_minutes:g} min) [{model}]",
             f"peers needed: {needed}"]
    if needed:
        shown = predict(rates, needed)
        lines.append(f"with {needed}: {shown.answered_within:.1%} answered within "
                     f"{rates.answer_within_seconds:g} s (target {rates.share:.0%}), "
                     f"mean wait {shown.mean_wait_seconds:.0f} s"
                     + (f", {shown.abandonment:.1%} hang up" if rates.patience_minutes else ""))
        if needed > 1:
            fewer = predict(rates, needed - 1)
            lines.append(f"with {needed - 1}: {fewer.answered_within:.1%} answered within "
                         f"{rates.answer_within_seconds:g} s")
    return lines
