"""Live routing state after Redis came back empty, rebuilt from SQL and Twilio (DESIGN.md "Routing").

When it runs
    Every routing script refuses to act while the state marker is missing, and every routing
    read checks it (warmline.routing.engine). The first operation that meets the loss calls
    `ensure_live_state` (the services' engine hook, with the `now` of the service call that
    made the engine: `services.routing.routing_engine`), which rebuilds under a lock and returns;
    the operation is then retried on the rebuilt state. A process that finds the lock taken
    waits for the other's rebuild. A first boot on an empty Redis is the same path: the first
    operation rebuilds (from a database that may hold nothing yet).

What comes back, as it was
    * lines, peers' profiles and who is on shift, from SQL;
    * contacts connected with a peer (answered, not ended, the call still live at Twilio): the
      peer stays `busy` (a text conversation stays in their load while its content is still
      held), and the long-call reminder is scheduled again;
    * each live call's link to its contact, so the caller's hang-up is seen;
    * a call offer whose peer's phone is still ringing (SQL noted the ring, Twilio says it is
      live): pending again, so the peer's "1" bridges the caller and nobody else is rung;
    * waiting contacts (no outcome, not answered, each voice call checked at Twilio), re-queued
      at their own arrival and priority, so they keep their order; calls that ended unseen get
      their one outcome (`abandoned`, or `connected` if a peer had answered); so do text
      conversations whose content (and the texter's number, which SQL never holds) went with
      Redis: nobody could answer them;
    * each peer's presence as they last asked for it (`peers.presence`, written on every
      change): `available` peers are available again, and in wrap-up if their call ended less
      than the line's wrap_up_seconds ago (its end scheduled again); `break` and `off` as were;
    * scheduled work: wrap-up ends and long-call reminders are scheduled again here; the
      recurring jobs (the sweeper, callbacks, shift checks...) by every worker within seconds
      (workers.main); callback attempts are the callbacks job's, from SQL.

Nothing written after Redis returned is wiped: while the marker is missing no other script runs,
so the only state written is the rebuild's own, and the operations that waited are applied after.
Nobody is set `off` and nobody has to turn themselves on again. Drop-ins (admin-approved, outside a
shift) lived in Redis only and are not restored.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import select

from warmline import epoch, jobs
from warmline.domain.matching import VOICE, ContactView, LineRules, Presence
from warmline.models import CallbackRequest, Contact, Line, Outcome, Peer
from warmline.routing import keys
from warmline.routing.engine import PeerProfile, RoutingEngine, RoutingStateLostError
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.contacts import finish_contact
from warmline.services.schedules import peers_on_shift
from warmline.services.texts.conversation import conversation_store
from warmline.telephony.gateway import TelephonyError
from warmline.voice.state import CallState

log = logging.getLogger(__name__)

# Twilio call statuses of a call that is still there to be answered.
LIVE_CALL_STATUSES = frozenset({"queued", "ringing", "in-progress"})
# How long an operation waits for another process's rebuild before it gives up (and degrades).
REBUILD_WAIT_SECONDS = 20.0
# Twilio's REST API takes a few concurrent requests per account well.
TWILIO_CHECKS_AT_ONCE = 8
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass
class RebuildReport:
    lines: int = 0
    peers: int = 0
    available: list[int] = field(default_factory=list)
    connected: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    offered: list[str] = field(default_factory=list)  # a peer's phone still ringing for them
    gone: list[str] = field(default_factory=list)  # calls Twilio no longer has live
    gone_connected: list[tuple[str, int]] = field(default_factory=list)  # (contact, peer)
    wrap_ups: dict[int, float] = field(default_factory=dict)  # peer -> wrap-up end
    reminders: dict[str, tuple[int, float]] = field(default_factory=dict)  # contact -> (peer, at)
    line_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Ring:
    """The call offer SQL says was being rung for a waiting contact."""

    offer_id: str
    peer_id: int
    call_sid: str | None  # None while the ring's REST request is on its way
    expires_at: float


@dataclass(frozen=True)
class _OpenContact:
    arriving: ContactView
    provider_sid: str | None
    peer_id: int | None
    answered_at: float | None
    ring: _Ring | None = None


def _ring_of(contact: Contact) -> _Ring | None:
    if not (contact.offer_id and contact.offer_peer_id and contact.offer_expires_at):
        return None
    return _Ring(contact.offer_id, contact.offer_peer_id, contact.offer_call_sid,
                 epoch.seconds(contact.offer_expires_at))


@dataclass(frozen=True)
class _Snapshot:
    """What SQL says, read once before Redis is written."""

    rules: list[LineRules]
    rosters: dict[int, frozenset[int]]
    wrap_up_seconds: dict[int, float]
    max_call_minutes: dict[int, int]
    profiles: list[PeerProfile]
    presences: dict[int, Presence]
    contacts: list[_OpenContact]
    last_call_end: dict[int, tuple[int, float]]  # peer -> (line, ended at)


def _presence(value: str) -> Presence:
    try:
        wanted = Presence(value)
    except ValueError:
        return Presence.OFF
    return wanted if wanted in (Presence.AVAILABLE, Presence.BREAK) else Presence.OFF


def _read_sql(runtime: Runtime, at: datetime) -> _Snapshot:
    with runtime.sessions() as session:
        lines = session.scalars(select(Line).where(Line.active.is_(True))).all()
        peers = session.scalars(select(Peer).where(Peer.active.is_(True))).all()
        profiles = [p for peer in peers if (p := routing.peer_profile(session, peer.id))]
        open_rows = session.scalars(
            select(Contact).where(Contact.outcome.is_(None), Contact.ended_at.is_(None),
                                  Contact.line_id.is_not(None))
            .order_by(Contact.arrived_at)).all()
        longest_wrap_up = max((line.wrap_up_seconds for line in lines), default=0)
        ends = session.execute(
            select(Contact.peer_id, Contact.line_id, Contact.ended_at).where(
                Contact.peer_id.is_not(None), Contact.answered_at.is_not(None),
                Contact.ended_at >= at - timedelta(seconds=longest_wrap_up))).all()
        last_call_end: dict[int, tuple[int, float]] = {}
        for peer_id, line_id, ended_at in ends:
            if peer_id is None or line_id is None or ended_at is None:
                continue
            if peer_id not in last_call_end or last_call_end[peer_id][1] < epoch.seconds(ended_at):
                last_call_end[peer_id] = (line_id, epoch.seconds(ended_at))
        return _Snapshot(
            rules=[routing.line_rules(runtime, line) for line in lines],
            rosters={line.id: peers_on_shift(session, line, at) for line in lines},
            wrap_up_seconds={line.id: line.wrap_up_seconds / runtime.clock_speed for line in lines},
            max_call_minutes={line.id: line.max_call_minutes for line in lines},
            profiles=profiles,
            presences={peer.id: _presence(peer.presence) for peer in peers},
            contacts=[
                _OpenContact(
                    ContactView(c.id, c.line_id or 0, c.channel, c.experience_key,
                                c.language, c.priority, epoch.seconds(c.arrived_at), c.any_peer),
                    c.provider_sid, c.peer_id,
                    epoch.seconds(c.answered_at) if c.answered_at is not None else None, _ring_of(c))
                for c in open_rows
            ],
            last_call_end=last_call_end,
        )


def rebuild_live_state(runtime: Runtime, call_is_live: Callable[[str], bool], at: datetime,
                       token: str) -> RebuildReport:
    """Write live state from SQL and Twilio as of `at`; the caller holds the rebuild lock with
    `token`. It drives the engine itself, so it counts in the engine's epoch seconds.

    Idempotent: a second run re-queues nobody twice (contacts are keyed by id). Offers nothing:
    matching runs once the state is marked built (`ensure_live_state`).
    """
    report = RebuildReport()
    engine = RoutingEngine(runtime.redis, rebuild_token=token)
    sql = _read_sql(runtime, at)
    now = epoch.seconds(at)
    # Twilio first, before anything is written: the writes that follow then take milliseconds
    # (operations waiting for the rebuild wait less, and a peer's half-written state lasts
    # no longer than it must).
    live_calls = _ask_twilio(sql, call_is_live)
    for rules in sql.rules:
        engine.sync_line(rules, now)
    report.lines, report.line_ids = len(sql.rules), [r.line_id for r in sql.rules]
    for profile in sql.profiles:
        engine.sync_peer(profile, now)
    report.peers = len(sql.profiles)
    for line_id, on_shift in sql.rosters.items():
        engine.set_on_shift(line_id, on_shift, now)
    _restore_contacts(engine, sql, report, call_is_live=live_calls.__contains__, runtime=runtime,
                      now=now)
    _restore_presences(engine, sql, report, now)
    engine.mark_state_built(secrets.token_hex(4))
    return report


def _ask_twilio(sql: _Snapshot, call_is_live: Callable[[str], bool]) -> frozenset[str]:
    """Which of the calls SQL knows (callers' legs, peers' rings) Twilio still has live, asked
    side by side: a rebuild holds up the operations that wait for it, so it must not take one
    round trip to Twilio per caller in a row."""
    sids = sorted({c.provider_sid for c in sql.contacts
                   if c.arriving.channel == VOICE and c.provider_sid}
                  | {c.ring.call_sid for c in sql.contacts if c.ring and c.ring.call_sid})
    if not sids:
        return frozenset()
    with ThreadPoolExecutor(max_workers=min(TWILIO_CHECKS_AT_ONCE, len(sids))) as pool:
        answers = dict(zip(sids, pool.map(call_is_live, sids), strict=True))
    return frozenset(sid for sid, live in answers.items() if live)


def _restore_contacts(engine: RoutingEngine, sql: _Snapshot, report: RebuildReport, *,
                      call_is_live: Callable[[str], bool], runtime: Runtime, now: float) -> None:
    texts = None
    calls = CallState(runtime.redis)
    for open_contact in sql.contacts:
        contact = open_contact.arriving
        live = contact.channel != VOICE or bool(
            open_contact.provider_sid and call_is_live(open_contact.provider_sid))
        if live and contact.channel == VOICE and open_contact.provider_sid:
            # so the caller's status callback finds their contact when they hang up
            calls.link_call(open_contact.provider_sid, contact.contact_id)
        if contact.channel != VOICE:
            if texts is None:
                texts = conversation_store(runtime)
            # The texter's number and words live with the conversation, in Redis only (never in
            # SQL): a conversation Redis lost cannot be shown to a peer nor answered, waiting or
            # not. Its contact ends (one outcome); the texter's next text starts a new one.
            live = texts.get(contact.contact_id) is not None
        answered = open_contact.answered_at is not None and open_contact.peer_id is not None
        if answered and open_contact.peer_id is not None and open_contact.answered_at is not None:
            if not live:
                report.gone_connected.append((contact.contact_id, open_contact.peer_id))
                continue
            engine.restore_connection(contact, open_contact.peer_id, open_contact.answered_at, now)
            report.connected.append(contact.contact_id)
            if contact.channel == VOICE:
                minutes = sql.max_call_minutes.get(contact.line_id, 0)
                report.reminders[contact.contact_id] = (
                    open_contact.peer_id, open_contact.answered_at + minutes * 60)
            continue
        if not live:
            report.gone.append(contact.contact_id)
            continue
        if contact.channel == VOICE and contact.experience is None and not contact.accepts_any_peer:
            continue  # still at the menu: their choice queues them, as for any caller
        if _restore_ring(engine, sql, open_contact, call_is_live=call_is_live, calls=calls,
                         now=now):
            report.offered.append(contact.contact_id)
            continue
        engine.arrive(contact, now, limit=0)
        report.requeued.append(contact.contact_id)


def _restore_ring(engine: RoutingEngine, sql: _Snapshot, open_contact: _OpenContact, *,
                  call_is_live: Callable[[str], bool], calls: CallState, now: float) -> bool:
    """A peer's phone still ringing for this caller: the offer is theirs again (their "1"
    bridges the caller, and nobody else is rung). False to queue the caller instead."""
    ring, contact = open_contact.ring, open_contact.arriving
    if (ring is None or ring.expires_at <= now
            or sql.presences.get(ring.peer_id) != Presence.AVAILABLE
            or (ring.call_sid is not None and not call_is_live(ring.call_sid))):
        return False
    if not engine.restore_offer(contact, ring.offer_id, ring.peer_id, ring.expires_at, now):
        return False
    # Rung already (or being rung by a job that outlives the loss): never ring again for it.
    # A ring whose REST request failed lapses the offer; one nobody answers expires (sweeper).
    calls.claim_ring(ring.offer_id)
    calls.link_offer(ring.offer_id, contact.contact_id)
    if ring.call_sid is not None:
        calls.set_offer_call(ring.offer_id, ring.call_sid)
        calls.set_ringing_call(contact.contact_id, ring.call_sid)
    return True


def _restore_presences(engine: RoutingEngine, sql: _Snapshot, report: RebuildReport,
                       now: float) -> None:
    ended_unseen = {peer: cid for cid, peer in report.gone_connected}
    lines_of = {c.arriving.contact_id: c.arriving.line_id for c in sql.contacts}
    for peer_id, wanted in sql.presences.items():
        if wanted == Presence.OFF:
            continue  # every peer starts off; busy ones (a live call) stay busy
        change = engine.set_presence(peer_id, wanted, now)
        if wanted != Presence.AVAILABLE or change.presence != Presence.AVAILABLE:
            continue
        report.available.append(peer_id)
        if peer_id in ended_unseen:  # their call ended while Redis was gone: wrap-up from now
            line_id, ended_at = lines_of[ended_unseen[peer_id]], now
        elif peer_id in sql.last_call_end:
            line_id, ended_at = sql.last_call_end[peer_id]
        else:
            continue
        until = ended_at + sql.wrap_up_seconds.get(line_id, 0)
        if until > now and engine.restore_wrap_up(peer_id, until, now):
            report.wrap_ups[peer_id] = until


def _finish_gone_contacts(runtime: Runtime, report: RebuildReport, at: datetime) -> None:
    """Calls that ended while Redis was gone ended unseen: each gets its one outcome
    (invariant 2). Unanswered: abandoned, unless it left a callback request (whose outcome comes
    when the callback is placed); answered: connected."""
    peers = dict(report.gone_connected)
    ids = [*report.gone, *peers]
    if not ids:
        return
    with runtime.sessions() as session:
        awaiting = set(session.scalars(select(CallbackRequest.contact_id).where(
            CallbackRequest.contact_id.in_(ids))))
        for contact in session.scalars(select(Contact).where(Contact.id.in_(ids))):
            if contact.id in peers:
                finish_contact(runtime, contact, Outcome.CONNECTED, at, peer_id=peers[contact.id])
            elif contact.id not in awaiting:
                finish_contact(runtime, contact, Outcome.ABANDONED, at)


def _reschedule(runtime: Runtime, report: RebuildReport, now: datetime) -> None:
    """The scheduled work that lived in the lost Redis, scheduled again."""
    for peer_id, until in report.wrap_ups.items():
        routing.schedule_end_wrap_up(runtime, peer_id, epoch.moment(until))
    for contact_id, (peer_id, at) in report.reminders.items():
        jobs.REMIND_LONG_CALL.enqueue_at(runtime, max(epoch.moment(at), now),
                                         contact_id, peer_id, job_id=f"remind-{contact_id}")
    # The recurring jobs (the sweeper, callbacks, shift checks...) are the workers' own: each
    # worker checks every few seconds that each has its next run (workers.main), so they come
    # back even when no operation meets the loss.


def _acquire(redis: Redis, token: str) -> bool:
    """True with the lock held; False once the state is there (someone else rebuilt)."""
    deadline = time.monotonic() + REBUILD_WAIT_SECONDS
    while not redis.set(keys.rebuild_lock(), token, nx=True, ex=keys.REBUILD_LOCK_SECONDS):
        if redis.exists(keys.state_marker()):
            return False
        if time.monotonic() > deadline:
            raise RoutingStateLostError("another process has been rebuilding for too long")
        time.sleep(0.05)
    return True


def ensure_live_state(runtime: Runtime, now: datetime,
                      call_is_live: Callable[[str], bool] | None = None) -> RebuildReport | None:
    """Rebuild as of `now` if Redis lost the routing state (None if it is there, or another
    process rebuilt it meanwhile); then schedule again what was lost, and match."""
    redis = runtime.redis
    if redis.exists(keys.state_marker()):
        return None
    token = secrets.token_hex(16)
    if not _acquire(redis, token):
        return None
    try:
        if redis.exists(keys.state_marker()):
            return None
        log.warning("routing state missing (Redis restarted empty or failed over): rebuilding")
        report = rebuild_live_state(runtime, call_is_live or twilio_call_checker(runtime), now,
                                    token)
    finally:
        redis.eval(_RELEASE_LOCK, 1, keys.rebuild_lock(), token)
    log.info("routing rebuilt: %d lines, %d peers (%d available, %d in wrap-up), %d connected, "
             "%d being rung, %d waiting, %d calls over", report.lines, report.peers,
             len(report.available), len(report.wrap_ups), len(report.connected),
             len(report.offered), len(report.requeued),
             len(report.gone) + len(report.gone_connected))
    _finish_gone_contacts(runtime, report, now)
    _reschedule(runtime, report, now)
    routing.match_lines(runtime, report.line_ids, now)
    return report


def twilio_call_checker(runtime: Runtime) -> Callable[[str], bool]:
    gateway = runtime.twilio

    def call_is_live(call_sid: str) -> bool:
        try:
            return gateway.call_status(call_sid) in LIVE_CALL_STATUSES
        except TelephonyError:
            # Twilio unreachable: keep the caller waiting rather than drop them unseen; the
            # sweeper withdraws a contact that stays stale.
            return True

    return call_is_live


def rebuild_command(runtime: Runtime, now: datetime) -> int:
    """`python -m warmline routing rebuild`: the same rebuild, if Redis lost the state."""
    report = ensure_live_state(runtime, now)
    if report is None:
        print("routing state is there: nothing to rebuild")
        return 0
    print(f"routing rebuilt: {report.lines} lines, {report.peers} peers "
          f"({len(report.available)} available again), {len(report.connected)} contacts "
          f"connected, {len(report.requeued)} waiting again, "
          f"{len(report.gone) + len(report.gone_connected)} calls already over")
    return 0
