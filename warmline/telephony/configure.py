"""`python -m warmline twilio configure`: point each line's Twilio number at this app."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import select

from warmline.models import Line
from warmline.runtime import Runtime
from warmline.telephony.gateway import NumberConfig, TelephonyError, TwilioGateway
from warmline.voice import urls


@dataclass(frozen=True)
class NumberChange:
    line_number: str
    status: str  # updated, unchanged, missing (the account has no such number)
    changed_fields: tuple[str, ...] = ()


def wanted_config(public_url: str, current: NumberConfig) -> NumberConfig:
    return NumberConfig(
        sid=current.sid, phone_number=current.phone_number,
        voice_url=urls.absolute(public_url, urls.INCOMING),
        sms_url=urls.absolute(public_url, urls.SMS_INCOMING),
        status_callback=urls.absolute(public_url, urls.INBOUND_STATUS),
        voice_fallback_url=urls.absolute(public_url, urls.FALLBACK),
    )


def configure_numbers(
    runtime: Runtime, gateway: TwilioGateway, *, dry_run: bool = False,
) -> list[NumberChange]:
    """Set voice, SMS, status and fallback URLs on every active line's number; idempotent."""
    with runtime.sessions() as session:
        numbers = list(session.scalars(
            select(Line.number).where(Line.active.is_(True)).order_by(Line.number)))
    owned = {n.phone_number: n for n in gateway.list_numbers()}
    changes: list[NumberChange] = []
    for number in numbers:
        current = owned.get(number)
        if current is None:
            changes.append(NumberChange(number, "missing"))
            continue
        wanted = wanted_config(runtime.settings.public_url, current)
        fields = tuple(
            name for name in ("voice_url", "sms_url", "status_callback", "voice_fallback_url")
            if getattr(current, name) != getattr(wanted, name)
        )
        if not fields:
            changes.append(NumberChange(number, "unchanged"))
            continue
        if not dry_run:
            gateway.update_number(current.sid, voice_url=wanted.voice_url, sms_url=wanted.sms_url,
                                  status_callback=wanted.status_callback,
                                  voice_fallback_url=wanted.voice_fallback_url)
        changes.append(NumberChange(number, "would update" if dry_run else "updated", fields))
    return changes


def configure_numbers_command(runtime: Runtime, *, dry_run: bool, out: TextIO = sys.stdout) -> int:
    try:
        changes = configure_numbers(runtime, runtime.twilio, dry_run=dry_run)
    except TelephonyError as exc:
        print(f"twilio configure: {exc}", file=sys.stderr)
        return 1
    for change in changes:
        detail = f" ({', '.join(change.changed_fields)})" if change.changed_fields else ""
        print(f"{change.line_number}: {change.status}{detail}", file=out)
    missing = [c for c in changes if c.status == "missing"]
    if missing:
        print(f"{len(missing)} line number(s) are not in this Twilio account: buy or port them, "
              "then run this again.", file=sys.stderr)
        return 1
    return 0
