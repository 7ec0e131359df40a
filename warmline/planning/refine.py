"""Erlang's count checked by the virtual simulation, where experiences split the pool.

Erlang C and A see one pool: any peer takes any caller. A real roster splits it: a caller who
asks for a veteran waits for one (or, after a while, takes anyone). `plan --simulate` plays the
planned week through the routing engine in virtual time, with the roster as it is, the history's
rates by hour, channel and experience, its talk times and patience, and reports per hour the
share of calls answered within the target; an hour Erlang counts as staffed that the simulation
finds below target is short because of the split.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from warmline.models import Line
from warmline.planning.week import LinePlan
from warmline.roster.exporter import read_roster
from warmline.simulate.scenario import Behaviour, HourRate, Scenario
from warmline.simulate.virtual import simulate_virtual
from warmline.simulate.virtual_setup import virtual_line

DEFAULT_SEEDS = 3
DRAIN_MINUTES = 60.0
# Without hang-ups in the history, callers are taken to wait as long as it takes.
PATIENT_MINUTES = 10.0**6


@dataclass(frozen=True)
class SimulatedHour:
    start: datetime
    calls: int
    answered_within: float | None  # share of calls arriving this hour answered within the target


def simulate_plan(session: Session, line: Line, plan: LinePlan, *, redis_url: str,
                  seeds: int = DEFAULT_SEEDS) -> list[SimulatedHour]:
    """Each hour of `plan`, as `seeds` virtual runs of the roster play it."""
    history = plan.history
    rates = tuple(HourRate(hour, channel, experience, per_hour)
                  for (hour, channel, experience), per_hour in sorted(history.rates.items()))
    start = plan.hours[0].start if plan.hours else datetime.now().astimezone()
    wrap = float(line.wrap_up_seconds)
    behaviour = Behaviour(
        talk_minutes=(plan.call_handle_seconds - wrap) / 60,
        text_minutes=(plan.text_handle_seconds - wrap) / 60,
        patience_minutes=(history.patience_seconds or PATIENT_MINUTES * 60) / 60)
    scenario = Scenario(shift_minutes=len(plan.hours) * 60, hour_rates=rates, behaviour=behaviour,
                        drain_minutes=DRAIN_MINUTES, start=f"{start:%Y-%m-%d %H:%M}")
    played = virtual_line(read_roster(session), {}, start=scenario.start, roster_shifts=True,
                          number=line.number)
    calls: dict[int, int] = defaultdict(int)
    in_time: dict[int, int] = defaultdict(int)
    for seed in range(1, seeds + 1):
        result = simulate_virtual(replace(scenario, seed=seed), redis_url=redis_url, line=played)
        for contact in result.contacts:
            if contact.callback or contact.arrival.channel != "voice":
                continue
            hour = int(contact.queued_at // 3600)
            calls[hour] += 1
            if contact.answered_at is not None and \
                    contact.answered_at - contact.queued_at <= plan.target_seconds:
                in_time[hour] += 1
    return [SimulatedHour(hour.start, calls[index],
                          in_time[index] / calls[index] if calls[index] else None)
            for index, hour in enumerate(plan.hours)]
