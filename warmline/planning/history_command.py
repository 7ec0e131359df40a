"""`python -m warmline plan` without explicit rates: each active line's coming week, from its history."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from config import load_settings
from warmline.clock import utc_now
from warmline.models import Line
from warmline.planning.refine import SimulatedHour, simulate_plan
from warmline.planning.week import LinePlan, plan_line
from warmline.runtime import build_runtime


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def format_plan(plan: LinePlan, simulated: list[SimulatedHour] | None = None) -> str:
    history = plan.history
    out = [
        f"{plan.name} ({plan.number}): target {plan.target_share:.0%} answered within "
        f"{plan.target_seconds} s",
        f"  history: {history.weeks:.1f} weeks to {history.until:%Y-%m-%d %H:%M} UTC, "
        f"{history.offered.get('voice', 0)} calls and {history.offered.get('sms', 0)} texts offered; "
        f"a call takes a peer {_minutes(plan.call_handle_seconds)} (talk + wrap-up), a text "
        f"{_minutes(plan.text_handle_seconds)}, {plan.texts_at_once:g} texts at once; "
        + (f"callers wait {_minutes(history.patience_seconds)} on average before hanging up "
           f"({history.hang_ups} hang-ups)" if history.patience_seconds else "no caller hung up"),
        f"  {'hour':<20} {'calls/h':>7} {'texts/h':>7} {'needed':>6} {'scheduled':>9} {'gap':>4}  "
        + (f"{'simulated':>9}  " if simulated else "") + "uncovered experiences",
    ]
    split = 0
    for index, hour in enumerate(plan.hours):
        label = f"{hour.start:%a %Y-%m-%d %H}:00"
        if not hour.is_open:
            out.append(f"  {label:<20} {'closed':>7}")
            continue
        shown = ""
        if simulated:
            share = simulated[index].answered_within
            shown = f"{'-' if share is None else f'{share:.0%}':>9}  "
            if share is not None and share < plan.target_share and hour.gap >= 0:
                split += 1
        out.append(f"  {label:<20} {hour.calls_per_hour:>7.2f} {hour.texts_per_hour:>7.2f} "
                   f"{hour.needed:>6} {hour.scheduled:>9} {hour.gap:>+4}  {shown}"
                   + ", ".join(hour.uncovered))
    short = plan.short_hours
    uncovered = [h for h in plan.hours if h.uncovered]
    out.append(f"  short of peers in {len(short)} of {sum(h.is_open for h in plan.hours)} open hours"
               + (f" (most: {min(short, key=lambda h: h.gap).start:%a %H}:00, "
                  f"{-min(h.gap for h in short)} short)" if short else "")
               + f"; an experience uncovered in {len(uncovered)} hours")
    if simulated:
        out.append(f"  simulated in virtual time (the roster's experience split, ringing, missed "
                   f"offers): {split} hours below target where Erlang counts enough peers")
    return "\n".join(line.rstrip() for line in out)


def plan_from_history(args: argparse.Namespace) -> int:
    runtime = build_runtime(load_settings())
    now = utc_now()
    try:
        with runtime.sessions() as session:
            query = select(Line).where(Line.active.is_(True)).order_by(Line.id)
            if args.line:
                query = query.where(Line.number == args.line)
            lines = list(session.scalars(query))
            if not lines:
                print("plan: no active line" + (f" {args.line}" if args.line else ""))
                return 1
            for index, line in enumerate(lines):
                zone = ZoneInfo(line.timezone)
                if args.start:
                    start = datetime.strptime(args.start, "%Y-%m-%d").replace(tzinfo=zone)
                else:
                    start = (now.astimezone(zone) + timedelta(hours=1)).replace(
                        minute=0, second=0, microsecond=0)
                plan = plan_line(session, line, start, now, weeks=args.weeks)
                simulated = simulate_plan(session, line, plan, redis_url=args.redis_url,
                                          seeds=args.seeds) if args.simulate else None
                print(("\n" if index else "") + format_plan(plan, simulated))
    finally:
        runtime.close()
    return 0
