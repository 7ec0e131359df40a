"""Texts to and from peers: ON/OFF/BREAK/STATUS from their registered phone, and the notices
the engine and the workers send them (set off, shift reminder), from a line's number."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from warmline.domain.numbers import parse_id
from warmline.models import Line, Peer, Shift
from warmline.queues import QueueName
from warmline.routing.results import OffReason, PeerOff
from warmline.runtime import Runtime, process_runtime
from warmline.services import dashboard
from warmline.services.support import SupportAlert
from warmline.telephony.gateway import RestTwilioGateway, TelephonyError

log = logging.getLogger(__name__)

SEND_PEER_TEXT_JOB = "workers.text_jobs.send_peer_text"
OFF_NOTICES = {
    OffReason.MISSED_OFFERS.value: ("Warmline: you missed two offers in a row, so you're set to "
                                    "off. Text ON when you're ready."),
    OffReason.SHIFT_ENDED.value: "Warmline: your shift has ended, so you're off now. Thank you.",
    OffReason.ROUTING_REBUILT.value: ("Warmline restarted and set you to off. Text ON when "
                                      "you're ready."),
}
REMINDER_KIND = "reminder"


def _clock(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _day_clock(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %H:%M")


# --------------------------------------------------------------------------- commands


def _standing_words(runtime: Runtime, peer_id: int, texted_line: Line, now: datetime,
                    presence: str) -> str:
    standing = dashboard.find_shift_standing(runtime, peer_id, now)
    if standing.on_shift_until is None:
        nxt = standing.next_start
        if nxt is None:
            return "You're not on shift now, and no shift is planned in the next 14 days."
        return f"You're not on shift now; next shift {_day_clock(nxt.start, nxt.timezone)}."
    with runtime.sessions() as session:
        lines = sorted(session.scalars(select(Line).where(
            Line.id.in_(standing.on_shift_line_ids))).all(), key=lambda ln: ln.name)
    line = next((ln for ln in lines if ln.id == texted_line.id), lines[0] if lines else texted_line)
    until = _clock(standing.on_shift_until, line.timezone)
    state = {"available": "available", "break": "on a break", "off": "off",
             "wrap_up": "in wrap-up", "offered": "being offered a contact",
             "busy": "with a caller"}.get(presence, presence)
    return f"You're {state} on {line.name} until {until}."


def handle_peer_command(runtime: Runtime, peer_id: int, command: str, line: Line,
                        now: datetime) -> str:
    """One line back for ON, OFF, BREAK or STATUS."""
    wanted = {"ON": "available", "OFF": "off", "BREAK": "break"}.get(command)
    if wanted is not None:
        refusal = dashboard.change_presence(runtime, peer_id, wanted, now)
        if refusal is not None and refusal.status == 409 and wanted == "available":
            standing = dashboard.find_shift_standing(runtime, peer_id, now)
            if not standing.on_shift:
                return _standing_words(runtime, peer_id, line, now, "off")
        if refusal is not None:
            return refusal.message
    presence = dashboard.read_presence(runtime, peer_id, now).presence
    words = _standing_words(runtime, peer_id, line, now, presence)
    if command == "BREAK" and presence == "break":
        return words + " Text ON when you're ready."
    return words


# --------------------------------------------------------------------------- notices


def _peer_line(runtime: Runtime, peer_id: int, line_id: int | None) -> tuple[Peer, Line] | None:
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        line = session.get(Line, line_id) if line_id is not None else None
        if line is None:
            first = session.scalars(select(Shift.line_id).where(
                Shift.peer_id == peer_id).order_by(Shift.line_id)).first()
            line = session.get(Line, first) if first is not None else None
        if peer is None or line is None:
            return None
        session.expunge_all()
        return peer, line


SUPPORT_KIND_PREFIX = "support-"  # RQ job ids (which carry the kind) allow no colon


def _support_words(runtime: Runtime, asking_peer_id: str, line: Line) -> str | None:
    """The text to an off-shift admin: who asked, on which line; nothing about any caller."""
    asking_id = parse_id(asking_peer_id)
    if asking_id is None:
        return None
    with runtime.sessions() as session:
        asking = session.get(Peer, asking_id)
        name = asking.first_name if asking else None
    if name is None:
        return None
    return (f"Warmline: {name} pressed \"need support\" on {line.name} and no admin is on shift. "
            "Please check in with them.")


def send_peer_text(runtime: Runtime, peer_id: int, line_id: int | None, kind: str,
                   at_epoch: int) -> bool:
    """The job's work: build the notice from its kind (no text in the job) and send it."""
    found = _peer_line(runtime, peer_id, line_id)
    if found is None:
        return False
    peer, line = found
    if kind == REMINDER_KIND:
        starts = datetime.fromtimestamp(at_epoch, UTC)
        body = f"Warmline: your shift on {line.name} starts at {_clock(starts, line.timezone)}."
    elif kind in OFF_NOTICES:
        body = OFF_NOTICES[kind]
    elif kind.startswith(SUPPORT_KIND_PREFIX):
        support = _support_words(runtime, kind.removeprefix(SUPPORT_KIND_PREFIX), line)
        if support is None:
            return False
        body = support
    else:
        return False
    try:
        RestTwilioGateway(runtime.settings).send_message(
            to=runtime.keys.decrypt(peer.phone_encrypted), from_=line.number, body=body,
            status_callback=f"{runtime.settings.public_url}/twilio/sms/status")
    except TelephonyError as exc:
        if exc.transient:
            raise
        log.warning("could not text peer %s (%s)", peer_id, exc.code)
        return False
    return True


class TextPeerNotifier:
    """Tells peers by text: set off by the engine (routing), shift reminders (workers)."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> Runtime:
        # The process default is made at start, before the runtime: look it up on use.
        return self._runtime or process_runtime()

    def _enqueue(self, peer_id: int, line_id: int | None, kind: str, at_epoch: int) -> None:
        from rq import Retry  # noqa: PLC0415 - only where jobs are made

        self.runtime.queue(QueueName.MESSAGES).enqueue(
            SEND_PEER_TEXT_JOB, peer_id, line_id, kind, at_epoch,
            job_id=f"peer-text-{peer_id}-{kind}-{at_epoch}", unique=True,
            retry=Retry(max=3, interval=[5, 30, 120]), job_timeout=30, result_ttl=0,
            failure_ttl=86_400,
        )

    def notify_off(self, peer_off: PeerOff) -> None:
        try:
            self._enqueue(peer_off.peer_id, None, peer_off.reason.value, int(time.time()))
        except Exception as exc:  # noqa: BLE001 - a duplicate notice is refused by its id
            log.info("peer %s off notice not queued (%s)", peer_off.peer_id, type(exc).__name__)

    def send_shift_reminder(self, *, peer_id: int, line_id: int, starts_at: datetime) -> None:
        try:
            self._enqueue(peer_id, line_id, REMINDER_KIND, int(starts_at.timestamp()))
        except Exception as exc:  # noqa: BLE001
            log.info("reminder to peer %s not queued (%s)", peer_id, type(exc).__name__)

    def notify_off_shift_admins(self, alert: SupportAlert, admin_peer_ids: Sequence[int]) -> None:
        """The dashboard's SupportAlertNotifier: no admin on shift, so text the line's admins."""
        line_id = alert.line_ids[0] if alert.line_ids else None
        for admin_id in admin_peer_ids:
            try:
                self._enqueue(admin_id, line_id, f"{SUPPORT_KIND_PREFIX}{alert.peer_id}",
                              int(alert.at.timestamp()))
            except Exception as exc:  # noqa: BLE001 - the alert stays on the admin pages
                log.info("support text to admin %s not queued (%s)", admin_id, type(exc).__name__)
