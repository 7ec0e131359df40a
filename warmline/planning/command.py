"""`python -m warmline plan`: peers needed, for one pool with explicit rates or per line from history."""

from __future__ import annotations

import argparse
import sys

from warmline.planning.pool import PoolRates, describe

DESCRIPTION = """\
How many peers are needed to answer a share of callers within a target time.

With explicit rates (--calls-per-hour, --handle-minutes, --answer-within, --share) it answers
for one pool of peers with no experience split and prints `peers needed: K`: for patient callers
Erlang C's answer, the fewest peers whose predicted share answered within the target is at least
the share; with --patience-minutes, Erlang A's (callers who hang up).

Without them it plans each active line's coming week (DATABASE_URL) from its history in the event
log: per local hour, the calls and texts the same hour of the week brought (handle time = talk +
the line's wrap-up; patience estimated from hang-ups), the peers needed to meet the line's
service_target (roster file), the peers scheduled, and the experiences asked for at that hour
that nobody on shift shares.
"""

EXPLICIT = ("calls_per_hour", "handle_minutes", "answer_within", "share")


def _share(text: str) -> float:
    """0.8, 80% or 80: a whole number above 1 can only be a percent."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError("a share such as 0.8 or 80%") from None
    if text.strip().endswith("%") or 1 < value < 100:
        value /= 100
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1, e.g. 0.8 or 80%")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("not negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m warmline plan", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    rates = parser.add_argument_group("one pool with explicit rates")
    rates.add_argument("--calls-per-hour", type=_positive, help="arrivals per hour")
    rates.add_argument("--handle-minutes", type=_positive,
                       help="mean time a peer spends per call: talk plus wrap-up")
    rates.add_argument("--answer-within", type=_positive, metavar="SECONDS",
                       help="the target time to answer")
    rates.add_argument("--share", type=_share, help="share to answer within it (0.8 or 80%%)")
    rates.add_argument("--patience-minutes", type=_positive,
                       help="mean patience of callers who hang up (Erlang A); default: they wait")
    week = parser.add_argument_group("each line's week, from its history")
    week.add_argument("--line", metavar="NUMBER", help="only this line (E.164)")
    week.add_argument("--start", metavar="YYYY-MM-DD",
                      help="plan the week from this local date (default: the next hour)")
    week.add_argument("--weeks", type=float, default=8.0,
                      help="weeks of history to read (default %(default)g)")
    week.add_argument("--simulate", action="store_true",
                      help="also play the week in virtual time with the roster as it is (its "
                           "experience split), and show each hour's simulated share answered "
                           "within the target")
    week.add_argument("--seeds", type=int, default=3, help="virtual runs to average (default 3)")
    week.add_argument("--redis-url", default="redis://127.0.0.1:6379/4",
                      help="a Redis DB for the simulation alone: it is flushed (default %(default)s)")
    return parser


def explicit_rates(args: argparse.Namespace) -> PoolRates | None:
    given = [name for name in EXPLICIT if getattr(args, name) is not None]
    if not given:
        return None
    missing = [name for name in EXPLICIT if name not in given]
    if missing:
        raise SystemExit("plan: with explicit rates, also give "
                         + ", ".join("--" + m.replace("_", "-") for m in missing))
    if args.handle_minutes <= 0:
        raise SystemExit("plan: --handle-minutes must be above 0")
    return PoolRates(args.calls_per_hour, args.handle_minutes, args.answer_within, args.share,
                     args.patience_minutes or None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rates = explicit_rates(args)
    if rates is not None:
        print("\n".join(describe(rates)))
        return 0
    from warmline.planning.history_command import plan_from_history  # noqa: PLC0415 - needs SQL

    return plan_from_history(args)


if __name__ == "__main__":
    sys.exit(main())
