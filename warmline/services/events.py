"""The anonymized event log: every flow records a contact's state changes through here.

``record_contact_event`` never touches SQL: it enqueues a job on the slow ``events`` queue, so a
webhook never waits on the database, and the job retries with backoff, so an event survives a
database that is briefly down. The job's arguments are ids, enum values, ISO times and the
caller's keyed hash only; ``detail`` takes a few small scalars (a digit chosen, a count, a number
of seconds) and is checked, so a phone number or a message's text cannot ride along.

``store_contact_event`` is what the job runs: an insert that does nothing when the event's key
is already there (a retried or repeated job), and, for an event that carries an outcome, the
contact's outcome and end time set once and never overwritten (DESIGN.md invariant 2).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from redis.client import Pipeline
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warmline import jobs, redis_batch
from warmline.models import Contact, ContactEvent, EventKind, Outcome
from warmline.runtime import Runtime

# The shape of what `detail` may hold: a handful of short, non-identifying facts.
DETAIL_MAX_ITEMS = 8
DETAIL_MAX_KEY_LENGTH = 32
DETAIL_MAX_TEXT_LENGTH = 32
_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# Four digits in a row is more than any menu choice or code we record, and less than any number.
_DIGIT_RUN = re.compile(r"\d{4,}")
_CALLER_HASH = re.compile(r"^[0-9a-f]{64}$")

# Events whose kind says the contact reached a peer; the first one sets `answered_at`.
_ANSWER_KINDS = frozenset({EventKind.BRIDGED.value})

DetailValue = str | int | float | bool | None


class UnsafeEventError(ValueError):
    """An event argument could carry personal data (a number, message text); nothing was enqueued."""


def check_detail(detail: Mapping[str, Any] | None) -> dict[str, DetailValue]:
    """Return `detail` as a plain dict after checking it holds only small scalar values.

    Keys are short snake_case names; values are numbers, booleans, None, or short strings with
    no run of four or more digits. Raises UnsafeEventError otherwise.
    """
    if not detail:
        return {}
    if len(detail) > DETAIL_MAX_ITEMS:
        raise UnsafeEventError(f"detail holds {len(detail)} items; at most {DETAIL_MAX_ITEMS}")
    checked: dict[str, DetailValue] = {}
    for key, value in detail.items():
        if not (isinstance(key, str) and len(key) <= DETAIL_MAX_KEY_LENGTH and _DETAIL_KEY.match(key)):
            raise UnsafeEventError("detail keys are short snake_case names")
        if isinstance(value, bool) or value is None:
            checked[key] = value
        elif isinstance(value, int | float):
            if isinstance(value, int) and abs(value) >= 10**6:
                # A large integer could be a number with its punctuation stripped.
                raise UnsafeEventError(f"detail[{key!r}] is too large to be a count or duration")
            checked[key] = value
        elif isinstance(value, str):
            if len(value) > DETAIL_MAX_TEXT_LENGTH or _DIGIT_RUN.search(value):
                raise UnsafeEventError(f"detail[{key!r}] must be a short label, not text or a number")
            checked[key] = value
        else:
            raise UnsafeEventError(f"detail[{key!r}] must be a scalar")
    return checked


def _check_caller_hash(caller_hash: str | None) -> None:
    if caller_hash is not None and not _CALLER_HASH.match(caller_hash):
        raise UnsafeEventError("caller_hash must be the keyed hash (64 hex digits), never a number")


def record_contact_event(
    runtime: Runtime,
    *,
    contact_id: str,
    kind: EventKind,
    line_id: int | None,
    channel: str,
    at: datetime,
    caller_hash: str | None = None,
    experience_key: str | None = None,
    peer_id: int | None = None,
    outcome: Outcome | None = None,
    detail: Mapping[str, Any] | None = None,
) -> str:
    """Enqueue the write of one contact event; returns its event key.

    Call it from any flow (voice, texts, routing, callbacks) at the moment something happens;
    `at` is that moment (timezone-aware). An event with an `outcome` also ends the contact, once.
    Raises UnsafeEventError before enqueueing anything if an argument could carry personal data.
    """
    if at.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    _check_caller_hash(caller_hash)
    event_key = uuid.uuid4().hex
    payload: dict[str, Any] = {
        "event_key": event_key,
        "contact_id": str(contact_id),
        "kind": EventKind(kind).value,
        "line_id": line_id,
        "channel": str(channel),
        "at": at.isoformat(),
        "caller_hash": caller_hash,
        "experience_key": experience_key,
        "peer_id": peer_id,
        "outcome": Outcome(outcome).value if outcome is not None else None,
        "detail": check_detail(detail),
    }
    # Inside a webhook (web/twilio_guard.py) its events go in one job with its other deferred
    # writes, in one round trip once the answer is decided; elsewhere each is enqueued at once.
    if not redis_batch.collect(runtime.jobs_redis, "contact-events", payload,
                              lambda pipe, payloads: _enqueue_events(runtime, pipe, payloads)):
        jobs.WRITE_CONTACT_EVENT.enqueue(runtime, kwargs=payload, job_id=f"event-{event_key}",
                                         description=f"contact event {payload['kind']}")
    return event_key


def _enqueue_events(runtime: Runtime, pipe: Pipeline, payloads: list[dict[str, Any]]) -> None:
    first = payloads[0]
    if len(payloads) == 1:
        jobs.WRITE_CONTACT_EVENT.enqueue_on(
            runtime, pipe, kwargs=first, job_id=f"event-{first['event_key']}",
            description=f"contact event {first['kind']}")
        return
    kinds = ", ".join(payload["kind"] for payload in payloads)
    jobs.WRITE_CONTACT_EVENTS.enqueue_on(
        runtime, pipe, kwargs={"events": payloads}, job_id=f"events-{first['event_key']}",
        description=f"contact events {kinds}")


def _insert_ignoring_duplicates(session: Session, values: dict[str, Any]) -> bool:
    """Insert one event; False when its event key was already written."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ContactEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(ContactEvent.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def store_contact_event(
    runtime: Runtime,
    *,
    event_key: str,
    contact_id: str,
    kind: str,
    line_id: int | None,
    channel: str,
    at: str,
    caller_hash: str | None = None,
    experience_key: str | None = None,
    peer_id: int | None = None,
    outcome: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Write one event (the job's body). Idempotent; returns False if it was already written."""
    _check_caller_hash(caller_hash)
    moment = datetime.fromisoformat(at)
    values: dict[str, Any] = {
        "event_key": event_key,
        "contact_id": contact_id,
        "kind": EventKind(kind).value,
        "line_id": line_id,
        "channel": channel,
        "at": moment,
        "caller_hash": caller_hash,
        "experience_key": experience_key,
        "peer_id": peer_id,
        "outcome": Outcome(outcome).value if outcome is not None else None,
        "detail": check_detail(detail),
    }
    with runtime.sessions.begin() as session:
        written = _insert_ignoring_duplicates(session, values)
        if outcome is not None:
            # `outcome IS NULL` makes the first outcome win: a late or repeated event never
            # overwrites how a contact ended.
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.outcome.is_(None))
                .values(outcome=values["outcome"], ended_at=moment)
            )
        if values["kind"] in _ANSWER_KINDS:
            answered: dict[str, Any] = {"answered_at": moment}
            if peer_id is not None:
                answered["peer_id"] = peer_id
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.answered_at.is_(None))
                .values(**answered)
            )
    return written
