"""The peer dashboard's use-cases: heartbeat, the peer's lines, shifts and callbacks."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warmline import epoch, jobs, keys
from warmline.domain.matching import ANY_EXPERIENCE, Presence
from warmline.domain.schedule import ShiftOccurrence, list_shift_occurrences
from warmline.models import (
    AuditEntry,
    Block,
    CallbackRequest,
    CallbackStatus,
    Contact,
    Experience,
    Line,
    Peer,
    Shift,
)
from warmline.routing import keys as routing_keys
from warmline.routing.engine import RoutingEngine
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.schedules import shift_rule
from warmline.services.voice.common import is_withheld_identity
from warmline.wording import N_, LocalMoment, Wording

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 20
"""How often the page posts a heartbeat. The key lives keys.HEARTBEAT_TTL_SECONDS (60 s): three
missed beats and the dashboard counts as closed."""

UPCOMING_DAYS = 14


# --------------------------------------------------------------------------- heartbeat


def record_heartbeat(redis: Redis, peer_id: int) -> None:
    redis.set(keys.dashboard_heartbeat(peer_id), "1", ex=keys.HEARTBEAT_TTL_SECONDS)


def dashboard_is_open(redis: Redis, peer_id: int) -> bool:
    """Whether the peer's dashboard sent a heartbeat within the last minute.

    Asked before offering a text: no texts to a closed dashboard.
    """
    return bool(redis.exists(keys.dashboard_heartbeat(peer_id)))


def forget_heartbeat(redis: Redis, peer_id: int) -> None:
    redis.delete(keys.dashboard_heartbeat(peer_id))


# --------------------------------------------------------------------------- lines and shifts


def list_peer_shifts(session: Session, peer_id: int) -> list[Shift]:
    return list(
        session.scalars(
            select(Shift).join(Line, Shift.line_id == Line.id)
            .where(Shift.peer_id == peer_id, Line.active.is_(True))
            .order_by(Shift.id)
        ).unique()
    )


def list_peer_lines(session: Session, peer_id: int) -> list[Line]:
    """The lines a peer works: the active lines they have shifts on (DESIGN.md, People)."""
    return list(
        session.scalars(
            select(Line)
            .where(Line.active.is_(True), Line.id.in_(select(Shift.line_id).where(Shift.peer_id == peer_id)))
            .order_by(Line.name)
        )
    )


@dataclass(frozen=True)
class UpcomingShift:
    line_id: int
    line_name: str
    timezone: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC
    shift_id: int = 0

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))


def list_occurrences(shifts: Sequence[Shift], start: datetime, end: datetime) -> list[UpcomingShift]:
    found: list[UpcomingShift] = []
    for shift in shifts:
        zone = ZoneInfo(shift.line.timezone)
        for occurrence in list_shift_occurrences(shift_rule(shift), zone, start, end):
            found.append(_upcoming(shift, occurrence))
    found.sort(key=lambda s: (s.start, s.line_name))
    return found


def _upcoming(shift: Shift, occurrence: ShiftOccurrence) -> UpcomingShift:
    return UpcomingShift(
        line_id=shift.line_id,
        line_name=shift.line.name,
        timezone=shift.line.timezone,
        start=occurrence.start,
        end=occurrence.end,
        shift_id=shift.id,
    )


def list_upcoming_shifts(runtime: Runtime, peer_id: int, now: datetime) -> list[UpcomingShift]:
    """The peer's shift occurrences overlapping the next 14 days (the current one included)."""
    with runtime.sessions() as session:
        shifts = list_peer_shifts(session, peer_id)
        return list_occurrences(shifts, now, now + timedelta(days=UPCOMING_DAYS))


@dataclass(frozen=True)
class ShiftStanding:
    """What "available" means for the peer right now."""

    on_shift_until: datetime | None  # aware UTC; None when not on shift on any line
    on_shift_line_ids: frozenset[int]
    next_start: UpcomingShift | None

    @property
    def on_shift(self) -> bool:
        return self.on_shift_until is not None


def find_shift_standing(runtime: Runtime, peer_id: int, now: datetime) -> ShiftStanding:
    """Whether the peer is on shift now (on which lines, until when), and their next shift."""
    with runtime.sessions() as session:
        shifts = list_peer_shifts(session, peer_id)
    # Back-to-back shifts read as one stretch, so "until" follows them to the last end.
    window = list_occurrences(shifts, now - timedelta(days=2), now + timedelta(days=UPCOMING_DAYS))
    current = [s for s in window if s.start <= now < s.end]
    until: datetime | None = None
    if current:
        until = max(s.end for s in current)
        for _ in range(64):
            following = [s for s in window if s.start <= until < s.end]
            if not following:
                break
            until = max(s.end for s in following)
    upcoming = [s for s in window if s.start > now]
    return ShiftStanding(
        on_shift_until=until,
        on_shift_line_ids=frozenset(s.line_id for s in current),
        next_start=upcoming[0] if upcoming else None,
    )


# --------------------------------------------------------------------------- callbacks


@dataclass(frozen=True)
class CallbackView:
    """A pending callback as a peer may see it: experience and window, never a number."""

    id: int
    line_id: int
    line_name: str
    experience: str | None
    window_start: datetime
    window_end: datetime
    timezone: str
    taken_by_me: bool


def list_callbacks(runtime: Runtime, peer_id: int) -> list[CallbackView]:
    """Pending callbacks of the peer's lines that nobody else has taken."""
    with runtime.sessions() as session:
        lines = {line.id: line for line in list_peer_lines(session, peer_id)}
        if not lines:
            return []
        rows = session.scalars(
            select(CallbackRequest)
            .where(
                CallbackRequest.line_id.in_(lines),
                CallbackRequest.status == CallbackStatus.PENDING.value,
                (CallbackRequest.peer_id.is_(None)) | (CallbackRequest.peer_id == peer_id),
            )
            .order_by(CallbackRequest.window_start, CallbackRequest.id)
        ).all()
        labels = _experience_labels(session)
        return [_callback_view(row, lines, labels, peer_id) for row in rows]


def find_taken_callback(runtime: Runtime, peer_id: int, callback_id: int) -> CallbackView | None:
    """A callback this peer has taken, whatever its status now (a worker may have started it
    since), or None when it is not theirs or no longer exists."""
    with runtime.sessions() as session:
        lines = {line.id: line for line in list_peer_lines(session, peer_id)}
        row = session.get(CallbackRequest, callback_id)
        if row is None or row.line_id not in lines or row.peer_id != peer_id:
            return None
        return _callback_view(row, lines, _experience_labels(session), peer_id)


def _callback_view(row: CallbackRequest, lines: Mapping[int, Line], labels: Mapping[str, str],
                   peer_id: int) -> CallbackView:
    return CallbackView(
        id=row.id,
        line_id=row.line_id,
        line_name=lines[row.line_id].name,
        experience=labels.get(row.experience_key or "", row.experience_key),
        window_start=row.window_start,
        window_end=row.window_end,
        timezone=lines[row.line_id].timezone,
        taken_by_me=row.peer_id == peer_id,
    )


def _experience_labels(session: Session) -> dict[str, str]:
    return {e.key: e.label for e in session.scalars(select(Experience))}


class TakeRefusal(StrEnum):
    NOT_FOUND = "not_found"  # no such callback on the peer's lines
    TAKEN = "taken"  # someone else took it, or it is no longer pending


def take_callback(runtime: Runtime, peer_id: int, callback_id: int) -> TakeRefusal | None:
    """Assign a pending callback to the peer, atomically; placing the call is the workers' job."""
    with runtime.sessions() as session, session.begin():
        line_ids = [line.id for line in list_peer_lines(session, peer_id)]
        row = session.get(CallbackRequest, callback_id)
        if row is None or row.line_id not in line_ids:
            return TakeRefusal.NOT_FOUND
        # One UPDATE with the whole condition, so two peers taking at once cannot both win.
        taken = session.execute(
            update(CallbackRequest)
            .where(
                CallbackRequest.id == callback_id,
                CallbackRequest.status == CallbackStatus.PENDING.value,
                (CallbackRequest.peer_id.is_(None)) | (CallbackRequest.peer_id == peer_id),
            )
            .values(peer_id=peer_id)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return TakeRefusal.TAKEN
    # Placed with this peer as soon as they are available (and the window is open); the
    # recurring callback sweep retries until then.
    jobs.PLACE_CALLBACK.enqueue(runtime, callback_id)
    return None


def peer_first_name(runtime: Runtime, peer_id: int) -> str:
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        return peer.first_name if peer is not None else ""


def standing_zone(runtime: Runtime, standing: ShiftStanding) -> str | None:
    """The zone to tell times in: the line the peer is on shift for (lowest id if several)."""
    if not standing.on_shift_line_ids:
        return None
    with runtime.sessions() as session:
        line = session.get(Line, min(standing.on_shift_line_ids))
        return line.timezone if line is not None else None


# --------------------------------------------------------------------------- presence (routing)

BLOCK_DAYS = 30
"""An abuse block lasts 30 days unless an admin says otherwise (DOMAIN.md 6: always an expiry)."""

SETTABLE_PRESENCES = ("available", "break", "off")


@dataclass(frozen=True)
class PresenceSnapshot:
    presence: str  # off, available, break, wrap_up, offered, busy
    wrap_up_until: datetime | None = None
    contact_id: str | None = None  # the contact the peer is offered or connected to


@dataclass(frozen=True)
class Refusal:
    """A request the peer made that cannot be done, with what to tell them."""

    message: str
    status: int  # the HTTP status the API answers with


@dataclass(frozen=True)
class AbuseReport:
    """A reported contact was ended; `blocked_days` is 0 when the caller withheld their number
    (each such call is its own identity: there is nobody to block beyond this call)."""

    blocked_days: int


@dataclass(frozen=True)
class QueueRow:
    """Waiting contacts of one line, experience and channel: counts and waits, never who."""

    line_id: int
    line_name: str
    experience_key: str | None
    experience: str
    channel: str
    waiting: int
    longest_wait_seconds: int

    @property
    def channel_label(self) -> str:
        return "Call" if self.channel == "voice" else "Text"

    @property
    def longest_label(self) -> str:
        minutes, seconds = divmod(self.longest_wait_seconds, 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def read_presence(runtime: Runtime, peer_id: int, now: datetime) -> PresenceSnapshot:
    """The peer's presence as the routing engine holds it (off when routing does not know them)."""
    engine = routing.routing_engine(runtime, now)
    presence = engine.presence(peer_id) or Presence.OFF
    wrap_up_until: datetime | None = None
    if presence is Presence.WRAP_UP:
        raw = runtime.redis.hget(routing_keys.peer(peer_id), "wrap_until")
        if raw:
            wrap_up_until = epoch.moment(float(raw))
    return PresenceSnapshot(
        presence=presence.value,
        wrap_up_until=wrap_up_until,
        contact_id=current_contact_id(engine, peer_id),
    )


def current_contact_id(engine: RoutingEngine, peer_id: int) -> str | None:
    """The call the peer is connected to, if any (texts are the conversation pane's)."""
    for contact_id, holder, channel in engine.connections():
        if holder == peer_id and channel == "voice":
            return contact_id
    return None


def sync_peer_into_routing(runtime: Runtime, peer_id: int, standing: ShiftStanding, now: datetime) -> None:
    """Make sure the engine knows the peer, their lines and the shifts they are on right now.

    Idempotent. Roster import and the shift watch keep routing in step on their own; doing it
    again here lets a peer go available the moment their shift starts, without waiting for the
    next shift-watch run.
    """
    with runtime.sessions() as session:
        line_ids = [line.id for line in list_peer_lines(session, peer_id)]
    for line_id in line_ids:
        routing.sync_line(runtime, line_id, now)
    routing.sync_peer(runtime, peer_id, now)
    for line_id in standing.on_shift_line_ids:
        routing.start_shift(runtime, peer_id, line_id, now)


_PRESENCE_REFUSALS = {
    "refused_busy": N_("You're with a caller: change your presence when the call ends."),
    "refused_offered": N_("A call is being offered to you: answer or decline it first."),
    "refused_not_on_shift": N_("You can't go available: you're not on shift right now."),
}


def change_presence(runtime: Runtime, peer_id: int, wanted: str, now: datetime) -> Refusal | None:
    """Go available (only on shift), on break, or off; returns why not, or None when done."""
    if wanted not in SETTABLE_PRESENCES:
        return Refusal(N_("Choose available, break or off."), 400)
    standing = find_shift_standing(runtime, peer_id, now)
    dropping_in = bool(routing.drop_in_lines(runtime, peer_id, now))
    if wanted == "available" and not standing.on_shift and not dropping_in:
        return Refusal(_not_on_shift_message(standing), 409)
    sync_peer_into_routing(runtime, peer_id, standing, now)
    runtime.redis.delete(keys.rest_break(peer_id))  # the peer's own choice ends a timed break
    change = routing.set_presence(runtime, peer_id, Presence(wanted), now)
    if change.status in ("changed", "unchanged"):
        return None
    message = _PRESENCE_REFUSALS.get(change.status, N_("That change is not possible right now."))
    return Refusal(message, 409)


def _not_on_shift_message(standing: ShiftStanding) -> Wording:
    if standing.next_start is None:
        return N_("You can't go available: you're not on shift right now. "
                  "No shift is planned in the next 14 days.")
    return N_("You can't go available: you're not on shift right now. "
              "Your next shift starts %(start)s.",
              start=LocalMoment(standing.next_start.local_start, "EEE HH:mm"))


WRAP_UP_EXTENSION = timedelta(minutes=2)
"""What "I need more time" adds to the wrap-up, from now or from its current end if later."""


def extend_wrap_up(runtime: Runtime, peer_id: int, now: datetime) -> Refusal | None:
    current = read_presence(runtime, peer_id, now)
    if current.presence != Presence.WRAP_UP.value:
        return Refusal(N_("You're not in wrap-up: there is nothing to extend."), 409)
    base = max(now, current.wrap_up_until or now)
    change = routing.extend_wrap_up(runtime, peer_id, base + WRAP_UP_EXTENSION, now)
    if change.status not in ("extended", "unchanged"):
        return Refusal(N_("You're not in wrap-up: there is nothing to extend."), 409)
    return None


def read_queue(runtime: Runtime, peer_id: int, now: datetime) -> list[QueueRow]:
    """Waiting contacts on the peer's own lines only, by experience and channel."""
    with runtime.sessions() as session:
        lines = list_peer_lines(session, peer_id)
        labels = _experience_labels(session)
    rows: list[QueueRow] = []
    for line in lines:
        for cls in routing.queue_snapshot(runtime, line.id, now).classes:
            key = None if cls.experience == ANY_EXPERIENCE else cls.experience
            rows.append(
                QueueRow(
                    line_id=line.id,
                    line_name=line.name,
                    experience_key=key,
                    experience="Anyone" if key is None else labels.get(key, key),
                    channel=cls.channel,
                    waiting=cls.waiting,
                    longest_wait_seconds=int(cls.longest_wait_seconds),
                )
            )
    return rows


class AbuseReportHook(Protocol):
    """Ends a contact a peer reported for abuse (`peers.abuse.EndReportedContact`).

    Called after the block is recorded; must not raise (it logs its own failures).
    """

    def end_reported_contact(self, contact_id: str, channel: str, now: datetime) -> None: ...


class LoggingAbuseReportHook:
    """With no hook installed: records that the call could not be ended here."""

    def end_reported_contact(self, contact_id: str, channel: str, now: datetime) -> None:
        log.warning("contact %s reported for abuse: no hook installed to end it", contact_id)


def report_abuse(
    runtime: Runtime,
    *,
    user_id: int,
    actor: str,
    peer_id: int,
    now: datetime,
    hook: AbuseReportHook | None = None,
) -> Refusal | AbuseReport:
    """Block the caller of the peer's current call for BLOCK_DAYS, then end the call.

    A caller who withheld their number is nobody in particular: only their call is ended.
    """
    contact_id = current_contact_id(routing.routing_engine(runtime, now), peer_id)
    if contact_id is None:
        return Refusal(N_("You're not with a caller right now."), 409)
    with runtime.sessions() as session, session.begin():
        contact = session.get(Contact, contact_id)
        if contact is None:
            return Refusal(N_("This contact cannot be found; tell an admin."), 409)
        channel = contact.channel
        if is_withheld_identity(runtime.keys, contact.caller_hash, contact.provider_sid):
            session.add(AuditEntry(
                user_id=user_id, actor=actor, action="withheld_contact_ended",
                target=f"contact:{contact_id}", detail={"line": contact.line_id}, at=now))
            blocked_days = 0
        else:
            _block_caller(session, contact, user_id=user_id, actor=actor, now=now)
            blocked_days = BLOCK_DAYS
    (hook or LoggingAbuseReportHook()).end_reported_contact(contact_id, channel, now)
    return AbuseReport(blocked_days)


def _block_caller(session: Session, contact: Contact, *, user_id: int, actor: str,
                  now: datetime) -> None:
    block = Block(
        caller_hash=contact.caller_hash,
        line_id=contact.line_id,
        reason="abuse",
        created_by_user_id=user_id,
        created_at=now,
        expires_at=now + timedelta(days=BLOCK_DAYS),
    )
    session.add(block)
    session.flush()
    # The audit names the block, never the caller's pseudonym.
    session.add(
        AuditEntry(
            user_id=user_id, actor=actor, action="block_created", target=f"block:{block.id}",
            detail={"contact": contact.id, "days": BLOCK_DAYS, "line": contact.line_id},
            at=now,
        )
    )
