"""`python -m warmline simulate`: play a shift through the real app, workers and stand-in, and measure it."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from warmline.clock import utc_now
from warmline.simulate.harness import DEFAULT_SIM_REDIS_URL
from warmline.simulate.metrics import Figures
from warmline.simulate.report import format_table, write_plot
from warmline.simulate.run import simulate
from warmline.simulate.scenario import ANY, DEFAULT_MIX, Behaviour, HourRate, Scenario, default_roster
from warmline.simulate.virtual import VirtualResult

DESCRIPTION = """\
Simulate a shift: simulated callers and texters reach a line through the local Twilio stand-in,
simulated peers answer on their phones and in the dashboard's text pane, and the real app and RQ
workers route them. Time is compressed (--speed). Prints contacts offered, answer rate, time to
answer (from joining the queue to reaching a peer), abandonment, callbacks and transfers, match
rate per experience, load per peer and its fairness (Gini), and plots waiting contacts and busy
peers over the shift.

Your data is never touched: each run makes its own throwaway SQLite file in a temporary
directory and uses Redis DB index 4 of a local server by default (--redis-url), which it FLUSHES
before and after the run. Every peer of the roster is on shift for the whole simulated shift and
the line is treated as open; the app's own processing time is multiplied by the speed, so waits
read a few seconds long at high speeds.

With --virtual the same scenario runs on a virtual clock instead: no app, no workers, no
stand-in, only the routing engine's scripts on the Redis DB (flushed the same way), driven event
by event. Waits are exact (nothing is multiplied), a week takes seconds, and the roster's own
shifts and the line's hours say who is on and when (--all-on-shift: everyone, always, as above);
--arrivals gives rates by hour of the week.
"""


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _mix(text: str) -> dict[str, float]:
    try:
        return {key: float(value) for key, value in _pairs(text).items()}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"shares are numbers: {exc}") from None


def _setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected SETTING=VALUE, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def build_parser() -> argparse.ArgumentParser:
    default = Scenario()
    b = Behaviour()
    parser = argparse.ArgumentParser(prog="python -m warmline simulate", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    who = parser.add_argument_group("roster")
    who.add_argument("--roster", type=Path, help="a roster file (the format of `roster import`); "
                     "default: a built-in line with --peers peers")
    who.add_argument("--peers", type=int, default=default.peers,
                     help="peers of the built-in roster (default %(default)s)")
    who.add_argument("--line-setting", dest="line_settings", type=_setting, action="append",
                     default=[], metavar="SETTING=VALUE",
                     help="change a line setting, e.g. max_wait_seconds=120 (repeatable)")
    load = parser.add_argument_group("arrivals")
    load.add_argument("--shift-minutes", type=float, default=default.shift_minutes,
                      help="length of the shift (default %(default)s)")
    load.add_argument("--calls-per-hour", type=float, default=default.calls_per_hour,
                      help="calls arriving per hour (default %(default)s)")
    load.add_argument("--texts-per-hour", type=float, default=default.texts_per_hour,
                      help="text conversations starting per hour (default %(default)s)")
    load.add_argument("--mix", type=_mix, default=dict(DEFAULT_MIX), metavar="KEY=SHARE,...",
                      help="share of contacts asking for each experience; "
                           f"'{ANY}' is the next available peer (default "
                           + ",".join(f"{k}={v}" for k, v in DEFAULT_MIX.items()) + ")")
    people = parser.add_argument_group("people")
    people.add_argument("--talk-minutes", type=float, default=b.talk_minutes,
                        help="mean call length once bridged, log-normal (default %(default)s)")
    people.add_argument("--text-minutes", type=float, default=b.text_minutes,
                        help="mean text conversation length (default %(default)s)")
    people.add_argument("--patience-minutes", type=float, default=b.patience_minutes,
                        help="mean wait before a caller hangs up, exponential (default %(default)s)")
    people.add_argument("--answer-rate", type=float, default=b.answer_rate,
                        help="how often a peer answers a ring or takes a text (default %(default)s)")
    people.add_argument("--answer-seconds", type=_range, default=b.answer_seconds, metavar="LOW-HIGH",
                        help="how long a peer's phone rings before they answer (default 3-10)")
    people.add_argument("--callback-share", type=float, default=b.callback_share,
                        help="share of callers at the line's deadline who ask for a call back "
                             "(default %(default)s)")
    people.add_argument("--any-after-minutes", type=float, default=b.any_after_minutes,
                        help="a caller waiting for their match may press 0 (anyone) after this "
                             "long (default %(default)s)")
    people.add_argument("--any-share", type=float, default=b.any_share,
                        help="share of match-seekers who do (default %(default)s)")
    people.add_argument("--talk-distribution", choices=("lognormal", "exponential"),
                        default=b.talk_distribution,
                        help="shape of talk times around their mean (default %(default)s)")
    virtual = parser.add_argument_group("virtual time")
    virtual.add_argument("--virtual", action="store_true",
                         help="run on a virtual clock through the routing engine alone")
    virtual.add_argument("--start", metavar="'YYYY-MM-DD HH:MM'",
                         help="local start (default: the first Monday on or after the roster's first shift)")
    virtual.add_argument("--all-on-shift", action="store_true",
                         help="ignore the roster's shifts and hours: everyone on, always")
    virtual.add_argument("--record-history", action="store_true",
                         help="write the run's contacts into the event log of DATABASE_URL (not "
                              "in production), ending now, so `plan` has a history to read")
    virtual.add_argument("--arrivals", type=Path, metavar="CSV",
                         help="rates by hour of week: columns hour_of_week (0 = Monday 00:00), "
                              "channel (voice|sms), experience (or any), per_hour")
    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=int, default=default.seed, help="(default %(default)s)")
    run.add_argument("--speed", type=float, default=default.speed,
                     help="simulated seconds per wall second (default %(default)s)")
    run.add_argument("--drain-minutes", type=float, default=default.drain_minutes,
                     help="after the shift, time for contacts in hand to end (default %(default)s)")
    run.add_argument("--plot", type=Path, default=Path("simulate-shift.png"),
                     help="PNG or SVG of the shift (default %(default)s); '-' for none")
    run.add_argument("--compare", type=Path, metavar="ROSTER2",
                     help="also run ROSTER2 with the same seed and show both side by side")
    run.add_argument("--compare-line-setting", dest="compare_settings", type=_setting,
                     action="append", default=[], metavar="SETTING=VALUE",
                     help="also run the same roster with this line setting changed (repeatable)")
    run.add_argument("--redis-url", default=DEFAULT_SIM_REDIS_URL,
                     help="a Redis DB for the simulation alone: it is flushed (default %(default)s)")
    return parser


def scenario_from(args: argparse.Namespace) -> Scenario:
    behaviour = Behaviour(
        talk_minutes=args.talk_minutes, text_minutes=args.text_minutes,
        patience_minutes=args.patience_minutes, answer_rate=args.answer_rate,
        answer_seconds=args.answer_seconds, callback_share=args.callback_share,
        any_after_minutes=args.any_after_minutes, any_share=args.any_share,
        talk_distribution=args.talk_distribution)
    return Scenario(
        roster_text=args.roster.read_text() if args.roster else None, peers=args.peers,
        shift_minutes=args.shift_minutes, calls_per_hour=args.calls_per_hour,
        texts_per_hour=args.texts_per_hour, mix=args.mix, behaviour=behaviour,
        line_settings=dict(args.line_settings), seed=args.seed, speed=args.speed,
        drain_minutes=args.drain_minutes, start=args.start, roster_shifts=not args.all_on_shift,
        hour_rates=read_hour_rates(args.arrivals) if args.arrivals else ())


def read_hour_rates(path: Path) -> tuple[HourRate, ...]:
    """`hour_of_week,channel,experience,per_hour` rows (a header row first)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return tuple(HourRate(int(row["hour_of_week"]), row["channel"], row["experience"] or ANY,
                              float(row["per_hour"])) for row in rows)
    except (KeyError, ValueError) as exc:
        raise SystemExit(f"{path}: expected columns hour_of_week,channel,experience,per_hour "
                         f"({exc})") from None


def plan_runs(args: argparse.Namespace) -> list[tuple[str, Scenario]]:
    """The first run, and the one it is compared with (same seed), if any."""
    first = scenario_from(args)
    runs = [(args.roster.name if args.roster else f"{args.peers} peers", first)]
    if args.compare is not None:
        runs.append((args.compare.name,
                     dataclasses.replace(first, roster_text=args.compare.read_text())))
    if args.compare_settings:
        changed = {**first.line_settings, **dict(args.compare_settings)}
        label = ", ".join(f"{k}={v}" for k, v in args.compare_settings)
        runs.append((label, dataclasses.replace(first, line_settings=changed)))
    return runs


def _recording_start(scenario: Scenario) -> str:
    """A recorded run ends now, so the planner reads it as the last weeks of history."""
    from warmline.simulate.virtual_setup import load_virtual_line  # noqa: PLC0415

    line = load_virtual_line(scenario.roster_text or default_roster(scenario.peers),
                             scenario.line_settings, start=None, roster_shifts=False)
    minutes = scenario.shift_minutes + scenario.drain_minutes
    start = utc_now() - timedelta(minutes=minutes) - timedelta(hours=1)
    return f"{start.astimezone(line.zone):%Y-%m-%d %H}:00"


def _record(scenario: Scenario, result: VirtualResult) -> None:
    from config import load_settings  # noqa: PLC0415
    from warmline.runtime import build_runtime  # noqa: PLC0415
    from warmline.simulate.history_record import record_history  # noqa: PLC0415

    runtime = build_runtime(load_settings())
    try:
        written = record_history(runtime, result.line_number, result.start, result.contacts)
    finally:
        runtime.close()
    print(f"recorded {written} contacts into the event log of line {result.line_number}",
          file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.record_history and (not args.virtual or args.compare or args.compare_settings):
        raise SystemExit("simulate: --record-history goes with --virtual, and one run")
    runs = plan_runs(args)
    if args.record_history and runs[0][1].start is None:
        runs[0] = (runs[0][0], dataclasses.replace(runs[0][1], start=_recording_start(runs[0][1])))
    results: list[Figures] = []
    for title, scenario in runs:
        if args.virtual:
            print(f"simulating {scenario.shift_minutes:g} minutes ({title}) in virtual time...",
                  file=sys.stderr, flush=True)
            from warmline.simulate.virtual import simulate_virtual  # noqa: PLC0415

            virtual = simulate_virtual(scenario, redis_url=args.redis_url)
            results.append(virtual.figures)
            if args.record_history:
                _record(scenario, virtual)
            if virtual.closed:
                print(f"{title}: {virtual.closed} contact(s) arrived while the line was closed",
                      file=sys.stderr)
            continue
        print(f"simulating {scenario.shift_minutes:g} minutes ({title}) at speed {scenario.speed:g}...",
              file=sys.stderr, flush=True)
        results.append(simulate(scenario, redis_url=args.redis_url))
    titles = [title for title, _ in runs]
    print(format_table(results, titles))
    if str(args.plot) != "-":
        path = write_plot(results, titles, args.plot, runs[0][1].shift_minutes)
        print(f"plot: {path}")
    failed = sum(figures.job_errors for figures in results)
    if failed:
        print(f"warning: {failed} background job(s) failed during the run", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
