"""Rebuilding live routing state after a Redis loss, from SQL and Twilio (DESIGN.md "Routing").

Waiting contacts come back from SQL (contacts with no outcome, not yet answered), each voice
contact kept only if Twilio still has its call live; texts have no call to check and are kept.
Peers come back `off` (nobody can know who was at their phone) and are told, through the
routing `PeerNotifier` (the default logs only; the texts issue sends the text).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from warmline.domain.matching import VOICE, Presence
from warmline.models import CallbackRequest, Contact, Line, Outcome, Peer
from warmline.routing import keys
from warmline.routing.engine import ArrivingContact
from warmline.routing.results import OffReason, PeerOff
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact
from warmline.services.schedules import peers_on_shift
from warmline.telephony.gateway import RestTwilioGateway, TelephonyError

log = logging.getLogger(__name__)

# Twilio call statuses of a call that is still there to be answered.
LIVE_CALL_STATUSES = frozenset({"queued", "ringing", "in-progress"})


@dataclass
class RebuildReport:
    lines: int = 0
    peers_off: list[int] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # calls Twilio no longer has live


def _epoch(value: datetime) -> float:
    # SQL holds naive UTC datetimes.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def rebuild_live_state(runtime: Runtime, call_is_live: Callable[[str], bool], now: float,
                       notifier: routing.PeerNotifier | None = None) -> RebuildReport:
    """Idempotent: running it twice re-queues nobody twice (arrivals are keyed by contact id)."""
    report = RebuildReport()
    engine = routing.routing_engine(runtime)
    at = datetime.fromtimestamp(now, UTC)
    with runtime.sessions() as session:
        lines = session.scalars(select(Line).where(Line.active.is_(True))).all()
        rosters = {line.id: peers_on_shift(session, line, at) for line in lines}
        rules = [routing.line_rules(runtime, x) for x in lines]
        peer_ids = session.scalars(select(Peer.id).where(Peer.active.is_(True))).all()
        waiting = session.scalars(
            select(Contact).where(Contact.outcome.is_(None), Contact.ended_at.is_(None),
                                  Contact.answered_at.is_(None), Contact.line_id.is_not(None))
            .order_by(Contact.arrived_at)).all()
        contacts = [
            (ArrivingContact(c.id, c.line_id or 0, c.channel, c.experience_key, c.language,
                             c.priority, _epoch(c.arrived_at), c.any_peer), c.provider_sid)
            for c in waiting
        ]
    for line_rules in rules:
        engine.sync_line(line_rules, now)
    report.lines = len(rules)
    for peer_id in peer_ids:
        routing.sync_peer(runtime, peer_id, now)
        engine.set_presence(peer_id, Presence.OFF, now)
        report.peers_off.append(peer_id)
    for line_id, on_shift in rosters.items():
        engine.set_on_shift(line_id, on_shift, now)
    for contact, provider_sid in contacts:
        if contact.channel == VOICE and not (provider_sid and call_is_live(provider_sid)):
            report.gone.append(contact.contact_id)
            continue
        engine.arrive(contact, now)
        report.requeued.append(contact.contact_id)
    _end_gone_contacts(runtime, report.gone, at)
    runtime.redis.set(keys.state_marker(), str(now))
    for peer_id in report.peers_off:
        routing.notify_peer(notifier, PeerOff(peer_id, OffReason.ROUTING_REBUILT))
    log.info("routing rebuilt: %d lines, %d peers off, %d contacts re-queued, %d calls gone",
             report.lines, len(report.peers_off), len(report.requeued), len(report.gone))
    return report


def _end_gone_contacts(runtime: Runtime, contact_ids: list[str], at: datetime) -> None:
    """A call that ended while Redis was gone ended unseen: abandoned (invariant 2), unless it
    left a callback request, whose outcome comes when the callback is placed."""
    if not contact_ids:
        return
    with runtime.sessions() as session:
        awaiting = set(session.scalars(select(CallbackRequest.contact_id).where(
            CallbackRequest.contact_id.in_(contact_ids))))
        for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids))):
            if contact.id not in awaiting:
                finish_contact(runtime, contact, Outcome.ABANDONED, at)


def ensure_live_state(runtime: Runtime, call_is_live: Callable[[str], bool], now: float,
                      notifier: routing.PeerNotifier | None = None) -> RebuildReport | None:
    """Rebuild by itself after a Redis loss: the sweeper calls this every run (one GET)."""
    if runtime.redis.exists(keys.state_marker()):
        return None
    lock = runtime.redis.lock(keys.rebuild_lock(), timeout=keys.REBUILD_LOCK_SECONDS, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        return None
    try:
        if runtime.redis.exists(keys.state_marker()):
            return None
        log.warning("routing state missing (Redis restarted or failed over): rebuilding")
        return rebuild_live_state(runtime, call_is_live, now, notifier)
    finally:
        lock.release()


def twilio_call_checker(runtime: Runtime) -> Callable[[str], bool]:
    gateway = RestTwilioGateway(runtime.settings)

    def call_is_live(call_sid: str) -> bool:
        try:
            return gateway.call_status(call_sid) in LIVE_CALL_STATUSES
        except TelephonyError:
            # Twilio unreachable: keep the caller waiting rather than drop them unseen; the
            # sweeper withdraws a contact that stays stale.
            return True

    return call_is_live


def rebuild_command(runtime: Runtime) -> int:
    """`python -m warmline routing rebuild`: the same rebuild, with Twilio asked for each call."""
    now = datetime.now(UTC).timestamp()
    report = rebuild_live_state(runtime, twilio_call_checker(runtime), now)
    print(f"routing rebuilt: {report.lines} lines, {len(report.peers_off)} peers set off, "
          f"{len(report.requeued)} contacts waiting again, {len(report.gone)} calls already over")
    return 0
