"""The "need support" alert: recorded at once for the admins on shift, texted when none is on.

How an alert travels
    1. It is recorded in Redis (the admins' live list, kept a day) and as an AuditEntry (durable).
    2. The admin pages show the Redis list (``list_support_alerts``); admins on shift see it there.
    3. The ``SupportAlertNotifier`` is told who to reach: the admins on shift of the peer's lines,
       or, when none is on shift, every active admin of those lines (admins with shifts on them,
       else every active admin). The app installs the one that texts them
       (``warmline.web.dashboard.install_support_notifier(app, notifier)``); without it,
       ``LoggingSupportNotifier`` records that nobody could be texted.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import keys
from warmline.models import AuditEntry, Line, Peer, Role, Shift
from warmline.runtime import Runtime
from warmline.services.peers.dashboard import list_peer_lines
from warmline.services.schedules import peers_on_shift

log = logging.getLogger(__name__)

# An alert older than its key's TTL is not shown, even if newer ones kept the list alive.
ALERTS_KEEP = timedelta(seconds=keys.SUPPORT_ALERTS_TTL_SECONDS)
ALERTS_MAX = 200


@dataclass(frozen=True)
class SupportAlert:
    """A peer asked for support. Holds nothing about any caller."""

    id: str
    peer_id: int
    peer_name: str
    line_ids: tuple[int, ...]
    line_names: tuple[str, ...]
    at: datetime
    admins_on_shift: tuple[int, ...]


class SupportAlertNotifier(Protocol):
    """Reaches admins outside the dashboard (by SMS, once the app installs it).

    ``notify_off_shift_admins`` is called only when no admin is on shift for the peer's lines,
    with the peer ids of the admins to text. It must not raise: a failure is logged by the
    implementation, and the alert stays recorded for the admin pages either way.
    """

    def notify_off_shift_admins(self, alert: SupportAlert, admin_peer_ids: Sequence[int]) -> None:
        ...


class LoggingSupportNotifier:
    """The notifier until texts exist: records that admins could not be texted."""

    def notify_off_shift_admins(self, alert: SupportAlert, admin_peer_ids: Sequence[int]) -> None:
        log.warning(
            "support alert %s: no admin on shift and no text notifier installed (%d admins)",
            alert.id, len(admin_peer_ids),
        )


def raise_support_alert(
    runtime: Runtime,
    notifier: SupportAlertNotifier,
    *,
    user_id: int,
    actor: str,
    peer_id: int,
    now: datetime,
) -> SupportAlert:
    """Record a peer's call for support and reach the admins (on shift, else by text)."""
    with runtime.sessions() as session, session.begin():
        peer = session.get(Peer, peer_id)
        lines = list_peer_lines(session, peer_id)
        on_shift: set[int] = set()
        for line in lines:
            on_shift |= peers_on_shift(session, line, now)
        admins = admins_of(session, lines)
        admins_on_shift = tuple(sorted(a for a in admins if a in on_shift and a != peer_id))
        alert = SupportAlert(
            id=uuid.uuid4().hex,
            peer_id=peer_id,
            peer_name=peer.first_name if peer is not None else "A peer",
            line_ids=tuple(line.id for line in lines),
            line_names=tuple(line.name for line in lines),
            at=now,
            admins_on_shift=admins_on_shift,
        )
        session.add(
            AuditEntry(
                user_id=user_id,
                actor=actor,
                action="support_requested",
                target=f"peer:{peer_id}",
                detail={"alert": alert.id, "lines": list(alert.line_ids),
                        "admins_on_shift": list(admins_on_shift)},
                at=now,
            )
        )
    _store(runtime.redis, alert)
    if not admins_on_shift:
        to_text = [a for a in admins if a != peer_id]
        notifier.notify_off_shift_admins(alert, to_text)
    return alert


def admins_of(session: Session, lines: Sequence[Line]) -> list[int]:
    line_ids = [line.id for line in lines]
    query = select(Peer.id).where(Peer.active.is_(True), Peer.role == Role.ADMIN.value)
    of_lines: list[int] = []
    if line_ids:
        working = select(Shift.peer_id).where(Shift.line_id.in_(line_ids))
        of_lines = list(session.scalars(query.where(Peer.id.in_(working))))
    # A line without admins of its own still has someone to reach: the organization's admins.
    return of_lines or list(session.scalars(query))


def _store(redis: Redis, alert: SupportAlert) -> None:
    record = json.dumps(
        {
            "id": alert.id,
            "peer_id": alert.peer_id,
            "peer_name": alert.peer_name,
            "line_ids": list(alert.line_ids),
            "line_names": list(alert.line_names),
            "at": alert.at.isoformat(),
            "admins_on_shift": list(alert.admins_on_shift),
        }
    )
    pipe = redis.pipeline()
    pipe.lpush(keys.support_alerts(), record)
    pipe.ltrim(keys.support_alerts(), 0, ALERTS_MAX - 1)
    pipe.expire(keys.support_alerts(), keys.SUPPORT_ALERTS_TTL_SECONDS)
    pipe.execute()


def list_support_alerts(redis: Redis, now: datetime) -> list[SupportAlert]:
    """Alerts of the last day, newest first (for the admin pages)."""
    found: list[SupportAlert] = []
    raw_items: list[bytes] = redis.lrange(keys.support_alerts(), 0, ALERTS_MAX - 1)  # type: ignore[assignment]
    for raw in raw_items:
        item = json.loads(raw)
        at = datetime.fromisoformat(item["at"])
        if now - at > ALERTS_KEEP:
            continue
        found.append(
            SupportAlert(
                id=item["id"],
                peer_id=item["peer_id"],
                peer_name=item["peer_name"],
                line_ids=tuple(item["line_ids"]),
                line_names=tuple(item["line_names"]),
                at=at,
                admins_on_shift=tuple(item["admins_on_shift"]),
            )
        )
    return found
