"""Runs one scenario end to end: start the system, play the shift, wait for the log, read the figures."""

from __future__ import annotations

import time

from sqlalchemy import select

from warmline.clock import utc_now
from warmline.models import Experience
from warmline.runtime import Runtime
from warmline.simulate.agents import Shift
from warmline.simulate.harness import DEFAULT_SIM_REDIS_URL, LiveSystem, live_system, start_peers
from warmline.simulate.metrics import FALLBACK_WORDS, Figures, collect_figures
from warmline.simulate.scenario import Scenario, default_roster, plan_arrivals, whole_shift_roster

# After the last call ends, the event log's jobs need a moment to write what happened.
SETTLE_WALL_SECONDS = 10.0


def simulate(scenario: Scenario, *, redis_url: str = DEFAULT_SIM_REDIS_URL) -> Figures:
    """Play `scenario` through the real app, workers and stand-in; return its figures."""
    roster, line_number = whole_shift_roster(scenario.roster_text or default_roster(scenario.peers))
    started = time.monotonic()
    with live_system(roster, line_number, speed=scenario.speed, redis_url=redis_url,
                     line_settings=scenario.line_settings) as system:
        experiences = list(_experience_keys(system.runtime))
        arrivals = plan_arrivals(scenario, experiences)
        peer_ids = start_peers(system.runtime, system.line_id)
        shift = Shift(system, scenario, arrivals)
        shift.run(peer_ids)
        _settle(system)
        figures = collect_figures(system.runtime, system.line_id, scenario.speed, utc_now())
        figures.samples = shift.samples
        figures.callers = len(shift.callers)
        figures.callers_offered_fallback = sum(
            1 for caller in shift.callers
            if any(word in heard for heard in caller.call.heard for word in FALLBACK_WORDS))
        figures.job_errors = len(system.job_errors())
    figures.wall_seconds = time.monotonic() - started
    return figures


def _experience_keys(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Experience.key).where(Experience.active.is_(True))))


def _settle(system: LiveSystem) -> None:
    deadline = time.monotonic() + SETTLE_WALL_SECONDS
    # Hang-ups reach the app as status callbacks, then the event jobs write the outcomes.
    time.sleep(0.3)
    while system.jobs_pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
