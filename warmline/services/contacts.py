"""A contact's life in SQL: open it, check blocks and daily limits, end it with exactly one outcome."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, or_, select
from sqlalchemy.orm import Session

from warmline.config_cache import config_of
from warmline.models import Block, Contact, EventKind, Line, Outcome
from warmline.runtime import Runtime
from warmline.services.events import record_contact_event
from warmline.voice.state import CallState

# DOMAIN.md #5: a reconnect within minutes is the same contact, not another one against the limit.
RECONNECT_WINDOW = timedelta(minutes=10)
# Contacts that never reached the line's peers do not count towards a caller's daily limit.
_NOT_COUNTED = (Outcome.OVER_LIMIT, Outcome.BLOCKED, Outcome.UNKNOWN_LINE, Outcome.CLOSED_HOURS,
                Outcome.OPTED_OUT)


# What a new contact's row holds: the rest of its columns start empty.
_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
_INSERTED_COLUMNS = tuple(_CONTACTS.c[name] for name in (
    "id", "line_id", "channel", "caller_hash", "language", "provider_sid", "arrived_at",
    "is_callback", "experience_key", "priority", "any_peer", "risk_flagged"))
_INSERT_CONTACT = insert(_CONTACTS)
# The caller's contacts to the line since local midnight (what the daily limit counts), and the
# same with a new contact's insert in its WITH. Built once: SQLAlchemy only binds them.
_TODAY_ROWS = select(Contact.arrived_at, Contact.ended_at, Contact.outcome).where(
    Contact.line_id == bindparam("today_line"), Contact.caller_hash == bindparam("today_caller"),
    Contact.arrived_at >= bindparam("today_from"), Contact.is_callback.is_(False),
).order_by(Contact.arrived_at)
_INSERT_AND_COUNT_TODAY = _TODAY_ROWS.add_cte(insert(_CONTACTS).values(
    {column.key: bindparam(column.key) for column in _INSERTED_COLUMNS}).cte("inserted"))


def new_contact_id() -> str:
    return uuid.uuid4().hex


def open_contact(
    runtime: Runtime, session: Session, *, line: Line | None, channel: str, caller_hash: str,
    provider_sid: str | None, now: datetime, language: str = "en", is_callback: bool = False,
    contact_id: str | None = None, at_once: bool = False,
) -> Contact:
    """Insert the contact (committed by the caller) and log its arrival.

    With `at_once`, the row is inserted now by one statement and the contact returned is not
    kept by the session (change it with an UPDATE): an insert the database refuses logs no
    arrival, and a call's first webhook skips the unit of work's bookkeeping, a third of its
    SQL time (bench/profile_voice.py). The statement joins the session's transaction when one
    is open, and otherwise commits by itself (`Runtime.autocommit`): one round trip."""
    contact = _new_contact(line, channel, caller_hash, provider_sid=provider_sid, now=now,
                           language=language, is_callback=is_callback, contact_id=contact_id)
    if at_once:
        row = _row_of(contact)
        if session.in_transaction():
            session.connection().execute(_INSERT_CONTACT, row)
        else:  # nothing else to commit with it: the statement commits by itself
            with runtime.autocommit.connect() as connection:
                connection.execute(_INSERT_CONTACT, row)
    else:
        session.add(contact)
    _log_arrival(runtime, contact)
    return contact


def counts_in_one_statement(runtime: Runtime) -> bool:
    """Whether `open_contact_counting_today` can run here: PostgreSQL runs an INSERT inside a
    WITH; SQLite does not (there, insert and count share a transaction instead)."""
    return runtime.engine.dialect.name == "postgresql"


def open_contact_counting_today(
    runtime: Runtime, *, line: Line, channel: str, caller_hash: str, provider_sid: str | None,
    now: datetime, language: str, contact_id: str | None = None,
) -> tuple[Contact, int]:
    """`open_contact(at_once=True)` and `count_contacts_today` in one statement that commits by
    itself: one round trip for a line's daily limit, not four (BEGIN, the insert, the count,
    COMMIT). The insert is a WITH, which runs whether or not the count reads it; the count does
    not see its row (PostgreSQL's data-modifying WITH), so the row is added to what it read, in
    its place by arrival: the same rows `count_contacts_today` folds after the insert. Raises
    IntegrityError, and logs nothing, when the database refuses the row."""
    contact = _new_contact(line, channel, caller_hash, provider_sid=provider_sid, now=now,
                           language=language, is_callback=False, contact_id=contact_id)
    with runtime.autocommit.connect() as connection:
        rows = connection.execute(_INSERT_AND_COUNT_TODAY, {
            **_row_of(contact), **_today_of(line, caller_hash, now)}).all()
    _log_arrival(runtime, contact)
    counted = [(row[0], row[1], row[2]) for row in rows] + [(now, None, None)]
    return contact, _fold_today(sorted(counted, key=lambda row: row[0]), now)


def _new_contact(line: Line | None, channel: str, caller_hash: str, *, provider_sid: str | None,
                 now: datetime, language: str, is_callback: bool,
                 contact_id: str | None) -> Contact:
    return Contact(
        id=contact_id or new_contact_id(), line_id=line.id if line else None, channel=channel,
        caller_hash=caller_hash, language=language, provider_sid=provider_sid, arrived_at=now,
        is_callback=is_callback, experience_key=None, priority=0, any_peer=False,
        risk_flagged=False,
    )


def _row_of(contact: Contact) -> dict[str, object]:
    return {column.key: getattr(contact, column.key) for column in _INSERTED_COLUMNS}


def _log_arrival(runtime: Runtime, contact: Contact) -> None:
    record_contact_event(runtime, contact_id=contact.id, kind=EventKind.ARRIVED,
                         line_id=contact.line_id, channel=contact.channel, at=contact.arrived_at,
                         caller_hash=contact.caller_hash)


def is_blocked(session: Session, caller_hash: str, line_id: int, now: datetime) -> bool:
    """Asked of the process's snapshot (config_cache: an admin's block is seen everywhere
    within a second), or of SQL for a session without one."""
    config = config_of(session)
    if config is not None:
        return config.is_blocked(caller_hash, line_id, now)
    query = select(Block.id).where(
        Block.caller_hash == caller_hash,
        or_(Block.line_id.is_(None), Block.line_id == line_id),
        Block.expires_at > now,
    )
    return session.scalars(query.limit(1)).first() is not None


def count_contacts_today(session: Session, line: Line, caller_hash: str, now: datetime) -> int:
    """Contacts this caller made to the line since local midnight, reconnects folded in."""
    rows = session.execute(_TODAY_ROWS, _today_of(line, caller_hash, now)).all()
    return _fold_today([(row[0], row[1], row[2]) for row in rows], now)


def _today_of(line: Line, caller_hash: str, now: datetime) -> dict[str, object]:
    """The parameters of the rows a caller's day counts (`_TODAY_ROWS`)."""
    zone = ZoneInfo(line.timezone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today_line": line.id, "today_caller": caller_hash, "today_from": midnight}


def _fold_today(rows: list[tuple[datetime, datetime | None, str | None]], now: datetime) -> int:
    """How many contacts the rows (in order of arrival) count as: a reconnect within minutes
    continues the contact before it."""
    counted = 0
    previous_end: datetime | None = None
    for arrived, ended, outcome in rows:
        if outcome in _NOT_COUNTED:
            continue
        if previous_end is None or arrived - previous_end > RECONNECT_WINDOW:
            counted += 1
        previous_end = ended or arrived
    if previous_end is not None and now - previous_end <= RECONNECT_WINDOW:
        counted -= 1  # this contact continues the last one
    return max(counted, 0)


def is_over_daily_limit(session: Session, line: Line, caller_hash: str, now: datetime) -> bool:
    if line.daily_contact_limit <= 0:
        return False
    return count_contacts_today(session, line, caller_hash, now) >= line.daily_contact_limit


def finish_contact(
    runtime: Runtime, contact: Contact, outcome: Outcome, now: datetime, *,
    peer_id: int | None = None, detail: dict[str, int | str | bool] | None = None,
) -> bool:
    """Record the contact's one outcome. Returns False (and records nothing) if it already has one.

    The claim is atomic in Redis, so a status callback racing a TwiML action cannot both end
    the contact; the SQL row is then set by the event writer, once.
    """
    if not CallState(runtime.redis).claim_outcome(contact.id, outcome.value):
        return False
    record_contact_event(
        runtime, contact_id=contact.id, kind=EventKind.ENDED, line_id=contact.line_id,
        channel=contact.channel, at=now, caller_hash=contact.caller_hash,
        experience_key=contact.experience_key, peer_id=peer_id, outcome=outcome, detail=detail,
    )
    return True


def note_event(
    runtime: Runtime, contact: Contact, kind: EventKind, now: datetime, *,
    peer_id: int | None = None, detail: dict[str, int | str | bool] | None = None,
) -> None:
    record_contact_event(
        runtime, contact_id=contact.id, kind=kind, line_id=contact.line_id,
        channel=contact.channel, at=now, caller_hash=contact.caller_hash,
        experience_key=contact.experience_key, peer_id=peer_id, detail=detail,
    )
