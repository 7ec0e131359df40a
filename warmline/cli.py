"""The command line: `python -m warmline db upgrade | roster ... | user password | twilio configure | ...`.

Each subcommand is a thin shell over one service function, so what it does is testable without
a shell; errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from config import ConfigError, load_settings
from warmline.clock import utc_now
from warmline.runtime import Runtime, build_runtime

Handler = Callable[[argparse.Namespace], int]


def _runtime() -> Runtime:
    from warmline.wiring import install_state_rebuilder

    install_state_rebuilder()  # a command that meets an empty Redis rebuilds it, as the app does
    return build_runtime(load_settings())


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from warmline.migrations.runner import upgrade_database

    upgrade_database(load_settings().database_url, args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def cmd_roster_import(args: argparse.Namespace) -> int:
    from warmline.roster.commands import import_roster_command

    return import_roster_command(_runtime(), args.file, prune=args.prune)


def cmd_roster_export(args: argparse.Namespace) -> int:
    from warmline.roster.commands import export_roster_command

    return export_roster_command(_runtime(), args.file)


def cmd_user_password(args: argparse.Namespace) -> int:
    from warmline.services.accounts.users import set_password_command

    return set_password_command(_runtime(), args.email, sys.stdin, utc_now())


def cmd_twilio_configure(args: argparse.Namespace) -> int:
    from warmline.telephony.configure import configure_numbers_command

    return configure_numbers_command(_runtime(), dry_run=args.dry_run)


def cmd_standin(args: argparse.Namespace) -> int:
    # The app's own account SID and token by default, and --configure-lines.
    from warmline.simulate.wiring import standin_command

    return standin_command(list(args.rest))


def cmd_simulate(args: argparse.Namespace) -> int:
    from warmline.simulate.__main__ import main as simulate_main

    return simulate_main(list(args.rest))


def cmd_soak(args: argparse.Namespace) -> int:
    from warmline.soak.__main__ import main as soak_main

    return soak_main(list(args.rest))


def cmd_plan(args: argparse.Namespace) -> int:
    from warmline.planning.command import main as plan_main

    return plan_main(list(args.rest))


def cmd_routing_rebuild(args: argparse.Namespace) -> int:
    from warmline.services.upkeep.recovery import rebuild_command

    return rebuild_command(_runtime(), utc_now())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m warmline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the SQL database").add_subparsers(dest="db", required=True)
    upgrade = db.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    roster = commands.add_parser("roster", help="lines, experiences, peers and shifts")
    roster_cmds = roster.add_subparsers(dest="roster", required=True)
    imp = roster_cmds.add_parser("import", help="load a roster file (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--prune", action="store_true",
                     help="deactivate lines, experiences and peers the file does not name")
    imp.set_defaults(handler=cmd_roster_import)
    exp = roster_cmds.add_parser("export", help="write the roster (to stdout without FILE)")
    exp.add_argument("file", nargs="?")
    exp.set_defaults(handler=cmd_roster_export)

    user = commands.add_parser("user", help="dashboard sign-ins")
    user_cmds = user.add_subparsers(dest="user", required=True)
    password = user_cmds.add_parser("password", help="set a password (read from stdin)")
    password.add_argument("email")
    password.set_defaults(handler=cmd_user_password)

    twilio = commands.add_parser("twilio", help="the Twilio account")
    twilio_cmds = twilio.add_subparsers(dest="twilio", required=True)
    configure = twilio_cmds.add_parser("configure", help="point each line's number at this app")
    configure.add_argument("--dry-run", action="store_true")
    configure.set_defaults(handler=cmd_twilio_configure)

    routing = commands.add_parser("routing", help="live routing state")
    routing_cmds = routing.add_subparsers(dest="routing", required=True)
    rebuild = routing_cmds.add_parser("rebuild", help="rebuild live state from SQL and Twilio")
    rebuild.set_defaults(handler=cmd_routing_rebuild)

    for name, handler, text in (
        ("standin", cmd_standin, "serve the local Twilio stand-in"),
        ("simulate", cmd_simulate, "simulate a shift through the stand-in"),
        ("soak", cmd_soak, "a shift full of faults against the processes as deployed"),
        ("plan", cmd_plan, "peers needed per hour, or for one pool with explicit rates"),
    ):
        sub = commands.add_parser(name, help=text, add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(handler=handler)
    return parser


# These hand every argument to their own parser. argparse's REMAINDER drops a leading
# `--option` (`standin --port 5077` failed), so they are dispatched before argparse sees them.
FORWARDED: dict[str, Handler] = {"standin": cmd_standin, "simulate": cmd_simulate,
                                 "soak": cmd_soak, "plan": cmd_plan}


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in FORWARDED:
        args = argparse.Namespace(command=words[0], rest=words[1:], handler=FORWARDED[words[0]])
    else:
        args = build_parser().parse_args(words)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
