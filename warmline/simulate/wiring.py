"""Puts the app's lines and peers into a Twilio stand-in: `standin --configure-lines` and the simulator."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
from dataclasses import dataclass
from types import FrameType

from sqlalchemy import select

from config import Settings, load_settings
from warmline.models import Line, Peer
from warmline.runtime import Runtime, build_runtime
from warmline.standin import Standin, StandinConfig
from warmline.telephony.configure import NumberChange, configure_numbers


@dataclass(frozen=True)
class PeerPhone:
    """A peer's phone as the stand-in should know it (the number decrypted only to make the phone)."""

    peer_id: int
    email: str
    first_name: str
    number: str


def active_line_numbers(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(
            select(Line.number).where(Line.active.is_(True)).order_by(Line.number)))


def active_peer_phones(runtime: Runtime) -> list[PeerPhone]:
    with runtime.sessions() as session:
        peers = list(session.scalars(select(Peer).where(Peer.active.is_(True)).order_by(Peer.id)))
        return [PeerPhone(p.id, p.email, p.first_name, runtime.keys.decrypt(p.phone_encrypted))
                for p in peers]


def provision_lines(runtime: Runtime, standin: Standin) -> list[NumberChange]:
    """Give the stand-in every active line's number, then point it at the app like
    `twilio configure` does against Twilio (same code path, so the demo tests it too), through
    the runtime's one gateway: its settings must name the stand-in."""
    if runtime.settings.twilio_api_url != standin.url:
        # Configuring through a runtime that reaches real Twilio would repoint real numbers.
        raise ValueError(f"the runtime's Twilio is {runtime.settings.twilio_api_url}, "
                         f"not the stand-in at {standin.url}")
    for number in active_line_numbers(runtime):
        standin.add_number(number)
    return configure_numbers(runtime, runtime.twilio)


def add_peer_phones(runtime: Runtime, standin: Standin, mode: str = "manual") -> list[PeerPhone]:
    """A phone for every active peer; `manual` rings until someone answers it (on the page)."""
    phones = active_peer_phones(runtime)
    for phone in phones:
        standin.peer_phone(phone.number, mode=mode)
        standin.label_phone(phone.number, f"{phone.first_name} (peer)")
    return phones


def standin_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m warmline standin",
        description="Serve the local Twilio stand-in, with a phone page at its root URL. "
                    "The account SID and auth token default to the app's settings, so the app "
                    "and the stand-in agree on signatures.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--account-sid", default=settings.twilio_account_sid)
    parser.add_argument("--auth-token", default=settings.twilio_auth_token,
                        help="signs webhooks (the first of TWILIO_AUTH_TOKEN's list by default)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="time compression: 2.0 halves every pause, timeout and ring")
    parser.add_argument("--calls-per-second", type=float, default=1.0)
    parser.add_argument("--number", action="append", default=[],
                        help="a phone number of the account (repeatable)")
    parser.add_argument("--public-url", "--app-url", dest="app_url", default=settings.public_url,
                        help="the app's public URL: numbers get <url>/twilio/voice and /sms "
                             "(default WARMLINE_PUBLIC_URL)")
    parser.add_argument("--configure-lines", action="store_true",
                        help="provision every active line of the database as a number pointed "
                             "at the app (as `twilio configure` would) and give every active "
                             "peer a phone that rings on the page")
    return parser


def standin_command(argv: list[str]) -> int:
    """`python -m warmline standin [...]`: the stand-in as a process, optionally wired to the app."""
    settings = load_settings()
    args = standin_parser(settings).parse_args(argv)
    standin = Standin(StandinConfig(account_sid=args.account_sid, auth_token=args.auth_token,
                                    speed=args.speed, calls_per_second=args.calls_per_second))
    base = (args.app_url or "").rstrip("/")
    for number in args.number:
        standin.add_number(number, voice_url=f"{base}/twilio/voice" if base else None,
                           sms_url=f"{base}/twilio/sms" if base else None)
    standin.start(args.host, args.port)
    print(f"Twilio stand-in on {standin.url} (account {args.account_sid}, speed {args.speed})"
          f"\n  TWILIO_API_URL={standin.url}\n  control API: {standin.url}/_standin/"
          f"\n  phone page:  {standin.url}/", flush=True)
    if args.configure_lines:
        runtime = build_runtime(dataclasses.replace(
            settings, public_url=base or settings.public_url, twilio_api_url=standin.url))
        try:
            for change in provision_lines(runtime, standin):
                print(f"  line {change.line_number}: {change.status} -> {base}", flush=True)
            for phone in add_peer_phones(runtime, standin):
                print(f"  peer phone of {phone.first_name} ({phone.email})", flush=True)
        finally:
            runtime.close()
    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    # honcho ends its processes with SIGTERM: stop serving cleanly rather than die mid-request.
    with contextlib.suppress(ValueError):  # not the main thread (tests): Ctrl-C still works
        signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        while not stopped.wait(0.5):
            pass
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(standin_command(sys.argv[1:]))
