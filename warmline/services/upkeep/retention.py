"""Retention and erasure: what is deleted, when, and what is deliberately kept.

Daily retention (``apply_retention``), per line, with cut-off = now - ``retention_days``:
    * events: whole line-local days before the cut-off's day are deleted, each only after it is
      aggregated (a day never aggregated is aggregated first, then marked purged, in the same
      transaction); daily aggregates are kept.
    * contacts older than the cut-off keep their row (outcome, times) but lose the caller's
      keyed hash (set to "").
    * callback requests: the encrypted number is erased once a request is over (connected,
      failed, cancelled) or past its expiry (status ``expired``); one still in progress gets an
      hour's grace past its expiry, so a callback job never loses the number mid-call.
    * blocks are deleted at their expiry; opt-outs are kept (texting someone who sent STOP is
      against the law and Twilio's rules).
    * Redis: leftovers of the background jobs' own keys (``keys.jobs_pattern``) are purged with SCAN.
    * Twilio: calls to or from a line's number that ended before the cut-off are deleted, and
      the bodies of its messages sent before it are redacted, through the REST API.

Erasure of one person (``erase_person``, a texter's ``DELETE`` or a caller's request), by keyed hash:
    * callback requests (and their attempts) are deleted outright, number included;
    * each of their contacts gets a fresh random pseudonym, in the contact row and its events,
      so nothing left links to them or to each other; events on days already aggregated are
      deleted, the others go once counted (deleting them earlier would change the counts);
    * blocks are kept until they expire (abuse protection for peers) and opt-outs are kept
      (see above): both hold only the keyed hash;
    * calls at Twilio (their contacts' CallSids) are deleted; message bodies at Twilio need the
      number to be found, so the caller of ``erase_person`` passes the encrypted number when it
      has one (a texter's ``DELETE`` does).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update

from warmline import keys
from warmline.jobs import RECURRING_JOBS
from warmline.models import (
    AggregateDay,
    Block,
    CallbackRequest,
    CallbackStatus,
    Contact,
    ContactEvent,
    EventKind,
    Line,
)
from warmline.runtime import Runtime
from warmline.services.upkeep.aggregates import is_day_final, local_day_bounds, recompute_day
from warmline.telephony.gateway import ProviderRecords, TelephonyError

log = logging.getLogger(__name__)

IN_PROGRESS_GRACE = timedelta(hours=1)
_OVER = (
    CallbackStatus.CONNECTED.value,
    CallbackStatus.FAILED.value,
    CallbackStatus.CANCELLED.value,
    CallbackStatus.EXPIRED.value,
)
SCAN_BATCH = 500


@dataclass
class RetentionReport:
    """What one retention run removed (counts only)."""

    events_deleted: int = 0
    days_purged: int = 0
    contacts_unlinked: int = 0
    callback_numbers_erased: int = 0
    blocks_deleted: int = 0
    redis_keys_deleted: int = 0
    provider_calls_deleted: int = 0
    provider_messages_redacted: int = 0
    provider_errors: list[str] = field(default_factory=list)


def _purge_line_events(runtime: Runtime, line: Line, cutoff: datetime, now: datetime) -> tuple[int, int]:
    """Delete the events of `line`'s local days entirely before the cut-off's day, once aggregated."""
    zone = ZoneInfo(line.timezone)
    last_day = cutoff.astimezone(zone).date() - timedelta(days=1)
    purge_before = local_day_bounds(zone, last_day)[1]
    with runtime.sessions.begin() as session:
        arrival_times = session.scalars(
            select(ContactEvent.at).where(
                ContactEvent.line_id == line.id,
                ContactEvent.kind == EventKind.ARRIVED.value,
                ContactEvent.at < purge_before,
            )
        ).all()
        days = sorted({at.astimezone(zone).date() for at in arrival_times})
        for day in days:
            marker = session.get(AggregateDay, (line.id, day))
            if marker is not None and marker.purged_at is not None:
                continue
            if marker is None or not is_day_final(marker, zone):
                recompute_day(session, line, day, now)
                session.flush()
                marker = session.get_one(AggregateDay, (line.id, day))
            marker.purged_at = now
        # Events of a contact that arrived on a purged day but went on past midnight are in
        # the purged day's figures already, so the time cut alone is safe.
        result = session.execute(
            delete(ContactEvent).where(ContactEvent.line_id == line.id, ContactEvent.at < purge_before)
        )
        return int(getattr(result, "rowcount", 0) or 0), len(days)


def purge_redis_leftovers(runtime: Runtime) -> int:
    """Delete background-job Redis keys that nothing will read again; returns how many."""
    known = {keys.recurring_next(entry.name) for entry in RECURRING_JOBS}
    deleted = 0
    for raw in runtime.redis.scan_iter(match=keys.recurring_next_pattern(), count=SCAN_BATCH):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        if key not in known:
            deleted += int(runtime.redis.delete(key))
    for raw in runtime.redis.scan_iter(match=keys.jobs_pattern(), count=SCAN_BATCH):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        # Once-only markers always carry a TTL; one without (a crash between SET and EXPIRE in
        # older code, a hand-made key) would live forever.
        if key not in known and key != keys.recurring_lock() and runtime.redis.ttl(key) == -1:
            deleted += int(runtime.redis.delete(key))
    return deleted


def _purge_provider_records(
    provider: ProviderRecords, line: Line, cutoff: datetime, report: RetentionReport
) -> None:
    try:
        for sid in provider.list_calls_before(line.number, cutoff):
            provider.delete_call(sid)
            report.provider_calls_deleted += 1
        for sid in provider.list_messages_before(line.number, cutoff):
            provider.redact_message(sid)
            report.provider_messages_redacted += 1
    except TelephonyError as exc:
        # The rest of retention must not wait on Twilio; the next daily run tries again.
        report.provider_errors.append(f"line {line.id}: {type(exc).__name__}")
        log.warning("retention at Twilio for line %s failed: %s", line.id, type(exc).__name__)


def apply_retention(
    runtime: Runtime, now: datetime, provider: ProviderRecords | None = None
) -> RetentionReport:
    """Apply every line's retention at `now` (see the module's list); returns counts."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    report = RetentionReport()
    with runtime.sessions() as session:
        lines = session.scalars(select(Line).order_by(Line.id)).all()
    for line in lines:
        cutoff = now - timedelta(days=line.retention_days)
        deleted, days = _purge_line_events(runtime, line, cutoff, now)
        report.events_deleted += deleted
        report.days_purged += days
        with runtime.sessions.begin() as session:
            result = session.execute(
                update(Contact)
                .where(Contact.line_id == line.id, Contact.arrived_at < cutoff, Contact.caller_hash != "")
                .values(caller_hash="")
            )
            report.contacts_unlinked += int(getattr(result, "rowcount", 0) or 0)
        if provider is not None:
            _purge_provider_records(provider, line, cutoff, report)
    with runtime.sessions.begin() as session:
        expired = session.execute(
            update(CallbackRequest)
            .where(
                CallbackRequest.number_encrypted.is_not(None),
                or_(
                    (CallbackRequest.status == CallbackStatus.PENDING.value)
                    & (CallbackRequest.expires_at <= now),
                    (CallbackRequest.status == CallbackStatus.IN_PROGRESS.value)
                    & (CallbackRequest.expires_at <= now - IN_PROGRESS_GRACE),
                ),
            )
            .values(number_encrypted=None, status=CallbackStatus.EXPIRED.value, ended_at=now)
        )
        over = session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.number_encrypted.is_not(None), CallbackRequest.status.in_(_OVER))
            .values(number_encrypted=None)
        )
        report.callback_numbers_erased = int(getattr(expired, "rowcount", 0) or 0) + int(
            getattr(over, "rowcount", 0) or 0
        )
        blocks = session.execute(delete(Block).where(Block.expires_at <= now))
        report.blocks_deleted = int(getattr(blocks, "rowcount", 0) or 0)
    report.redis_keys_deleted = purge_redis_leftovers(runtime)
    return report


# --------------------------------------------------------------------------- erasure


@dataclass
class ErasureReport:
    callbacks_deleted: int = 0
    contacts_unlinked: int = 0
    events_deleted: int = 0
    events_unlinked: int = 0
    provider_calls_deleted: int = 0
    provider_messages_redacted: int = 0
    provider_errors: list[str] = field(default_factory=list)


def _new_pseudonym() -> str:
    # Same shape as a keyed hash, so every column and check still holds, but keyed by nothing.
    return secrets.token_hex(32)


def erase_person(
    runtime: Runtime,
    caller_hash: str,
    *,
    now: datetime,
    provider: ProviderRecords | None = None,
    encrypted_number: str | None = None,
) -> ErasureReport:
    """Erase what is held about the person behind `caller_hash` (see the module's list)."""
    report = ErasureReport()
    call_sids: list[str] = []
    with runtime.sessions.begin() as session:
        callbacks = session.execute(delete(CallbackRequest).where(CallbackRequest.caller_hash == caller_hash))
        report.callbacks_deleted = int(getattr(callbacks, "rowcount", 0) or 0)
        contacts = session.scalars(select(Contact).where(Contact.caller_hash == caller_hash)).all()
        lines = {line.id: line for line in session.scalars(select(Line))}
        for contact in contacts:
            pseudonym = _new_pseudonym()
            contact.caller_hash = pseudonym
            if contact.channel == "voice" and contact.provider_sid:
                call_sids.append(contact.provider_sid)
            report.contacts_unlinked += 1
            session.execute(
                update(ContactEvent)
                .where(ContactEvent.contact_id == contact.id)
                .values(caller_hash=pseudonym)
            )
        # Events of contacts that have no contact row (a flow that only logs) are unlinked too.
        orphans = session.execute(
            update(ContactEvent)
            .where(ContactEvent.caller_hash == caller_hash)
            .values(caller_hash=_new_pseudonym())
        )
        report.events_unlinked = int(getattr(orphans, "rowcount", 0) or 0)
        for contact in contacts:
            line = lines.get(contact.line_id) if contact.line_id is not None else None
            if line is None:
                continue
            zone = ZoneInfo(line.timezone)
            day: date = contact.arrived_at.astimezone(zone).date()
            if is_day_final(session.get(AggregateDay, (line.id, day)), zone):
                deleted = session.execute(delete(ContactEvent).where(ContactEvent.contact_id == contact.id))
                report.events_deleted += int(getattr(deleted, "rowcount", 0) or 0)
    if provider is not None:
        try:
            for sid in call_sids:
                provider.delete_call(sid)
                report.provider_calls_deleted += 1
            if encrypted_number is not None:
                number = runtime.keys.decrypt(encrypted_number)
                for sid in provider.list_messages_before(number, now + timedelta(seconds=1)):
                    provider.redact_message(sid)
                    report.provider_messages_redacted += 1
        except TelephonyError as exc:
            report.provider_errors.append(type(exc).__name__)
            log.warning("erasure at Twilio failed: %s", type(exc).__name__)
    return report
