"""`python -m warmline soak`: a shift full of faults against the processes as deployed."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from types import FrameType

from warmline.soak.faults import KINDS
from warmline.soak.run import DEFAULT_PG_ADMIN_URL, SoakPlan, SoakResult, soak
from warmline.soak.tally import COLUMNS

DESCRIPTION = """\
Run the Procfile's processes for real (the release phase, gunicorn as `web`, the two RQ workers)
under a supervisor that starts again whatever dies, with the Twilio stand-in, its own
redis-server (append-only) on a free port and a throwaway PostgreSQL database behind a proxy it
controls; play a scripted shift of callers, texters and peers (the simulator's), and inject every
fault once on the schedule it prints. At the end it prints, per fault and in total, the contacts
offered and the counts that must all be 0; the exit code is 1 when one is not.

Nothing shared is touched: no other Redis, no other database (PostgreSQL itself keeps running;
only the soak's proxy refuses connections).
"""
NOTES_SHOWN = 40
CSV_HEADERS = ("offered", "1 outcome", "none", "several", "double", "held", "off live",
               "cb twice", "bad TwiML", "5xx")


def build_parser() -> argparse.ArgumentParser:
    d = SoakPlan()
    parser = argparse.ArgumentParser(prog="python -m warmline soak", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=d.shift_seconds / 60,
                        help="wall minutes of the shift (default %(default)g); then a drain")
    parser.add_argument("--speed", type=float, default=d.speed,
                        help="simulated seconds per wall second for the people (default %(default)g)")
    parser.add_argument("--peers", type=int, default=d.peers, help="(default %(default)s)")
    parser.add_argument("--calls-per-hour", type=float, default=d.calls_per_hour,
                        help="per simulated hour (default %(default)g)")
    parser.add_argument("--texts-per-hour", type=float, default=d.texts_per_hour,
                        help="per simulated hour (default %(default)g)")
    parser.add_argument("--fault-seconds", type=float, default=d.lasting_seconds,
                        help="how long callback and REST faults last (default %(default)g)")
    parser.add_argument("--postgres-seconds", type=float, default=d.postgres_seconds,
                        help="how long PostgreSQL refuses connections (default %(default)g)")
    parser.add_argument("--drain-seconds", type=float, default=d.drain_seconds,
                        help="after the shift, for contacts in hand to end (default %(default)g)")
    parser.add_argument("--settle-seconds", type=float, default=d.settle_seconds,
                        help="then at most this long for every outcome (default %(default)g)")
    parser.add_argument("--seed", type=int, default=d.seed, help="(default %(default)s)")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL,
                        help="where to create and drop the throwaway database")
    parser.add_argument("--faults", default="all",
                        help="all (default), or a comma-separated list of: "
                             + ", ".join(kind.name for kind in KINDS))
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (process logs, Redis's files) and the database")
    return parser


def plan_from(args: argparse.Namespace) -> SoakPlan:
    return SoakPlan(shift_seconds=args.minutes * 60, speed=args.speed, peers=args.peers,
                    calls_per_hour=args.calls_per_hour, texts_per_hour=args.texts_per_hour,
                    lasting_seconds=args.fault_seconds, postgres_seconds=args.postgres_seconds,
                    drain_seconds=args.drain_seconds, settle_seconds=args.settle_seconds,
                    seed=args.seed, pg_admin_url=args.pg_admin_url, faults=args.faults)


def format_result(result: SoakResult) -> str:
    widths = [max(len(w) for w in [*result.windows, "total"]) + 2]
    widths += [max(len(h), 4) + 2 for h in CSV_HEADERS]
    out = ["", "".join(h.rjust(w) if i else h.ljust(w)
                       for i, (h, w) in enumerate(zip(("fault window", *CSV_HEADERS), widths,
                                                      strict=True)))]
    rows = [(window, result.tally.counts(window)) for window in result.windows]
    rows.append(("total", result.tally.total()))
    for label, counts in rows:
        values = [getattr(counts, name) for name, _ in COLUMNS]
        out.append(label.ljust(widths[0]) + "".join(str(v).rjust(w)
                                                    for v, w in zip(values, widths[1:], strict=True)))
    out.append("")
    out.append("columns: " + "; ".join(f"{short} = {long}" for short, (_, long)
                                       in zip(CSV_HEADERS, COLUMNS, strict=True)))
    out.append(f"a window runs from its fault's start to the next fault's; {result.callers} "
               f"callers and {result.texters} texters; wall time {result.wall_seconds:.0f} s")
    restarts = ", ".join(f"{name} {count}" for name, count in result.restarts.items())
    out.append(f"processes started again by the supervisor: {restarts}; dashboard calls "
               f"that failed and were tried again: {result.driver_errors}")
    for happened in result.happened:
        if happened.note:
            out.append(f"  {happened.planned.kind.name}: {happened.note}")
    for error in result.injector_errors:
        out.append(f"fault injection failed: {error}")
    if result.unsettled:
        out.append(f"still unsettled when the soak stopped waiting: {result.unsettled}")
    failures = result.failures
    notes = sorted(set(result.tally.notes), key=result.tally.notes.index)
    if notes:
        out.append(f"what was counted ({len(notes)} distinct, first {NOTES_SHOWN}):")
        out += [f"  {note}" for note in notes[:NOTES_SHOWN]]
    out.append("verdict: " + ("every count is 0" if not failures else
                              "NOT 0: " + ", ".join(f"{k} {v}" for k, v in failures.items())))
    return "\n".join(out)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = plan_from(args)
    try:
        schedule = plan.schedule()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"soak: {plan.shift_seconds / 60:g} wall minutes at speed {plan.speed:g} "
          f"({plan.shift_seconds * plan.speed / 3600:.1f} simulated hours), {plan.peers} peers, "
          f"{plan.calls_per_hour:g} calls and {plan.texts_per_hour:g} texts per simulated hour; "
          "faults (wall seconds after the shift starts):", flush=True)
    print("\n".join(schedule.lines()), flush=True)
    # SIGTERM stops the soak like Ctrl-C: its processes, Redis and database are cleaned up.
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, _interrupt)
    result = soak(plan, keep_workdir=args.keep)
    print(format_result(result), flush=True)
    if args.keep:
        print(f"work directory: {result.workdir}")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
