"""`python -m warmline.standin`: serve the Twilio stand-in on a port."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from warmline.standin.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, StandinConfig
from warmline.standin.server import Standin


def parse(argv: list[str] | None) -> argparse.Namespace:
    tokens = os.environ.get("TWILIO_AUTH_TOKEN", "")
    parser = argparse.ArgumentParser(prog="python -m warmline standin",
                                     description="Serve a local Twilio stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--account-sid",
                        default=os.environ.get("TWILIO_ACCOUNT_SID") or DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=tokens.split(",")[0] or DEFAULT_AUTH_TOKEN,
                        help="signs webhooks (the first of TWILIO_AUTH_TOKEN's list by default)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="time compression: 2.0 halves every pause, timeout and ring")
    parser.add_argument("--calls-per-second", type=float, default=1.0)
    parser.add_argument("--number", action="append", default=[],
                        help="a phone number of the account (repeatable)")
    parser.add_argument("--public-url", "--app-url", dest="app_url",
                        default=os.environ.get("WARMLINE_PUBLIC_URL"),
                        help="the app's public URL: numbers get <url>/twilio/voice and /sms")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    standin = Standin(StandinConfig(account_sid=args.account_sid, auth_token=args.auth_token,
                                    speed=args.speed, calls_per_second=args.calls_per_second))
    base = (args.app_url or "").rstrip("/")
    for number in args.number:
        standin.add_number(number, voice_url=f"{base}/twilio/voice" if base else None,
                           sms_url=f"{base}/twilio/sms" if base else None)
    url = f"http://{args.host}:{args.port}"
    print(f"Twilio stand-in on {url} (account {args.account_sid}, speed {args.speed})",
          f"\n  TWILIO_API_URL={url}\n  control API: {url}/_standin/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        standin.serve_forever(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
