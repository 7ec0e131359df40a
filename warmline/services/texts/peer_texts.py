"""Texts to and from peers: ON/OFF/BREAK/STATUS from their registered phone, and the notices
the engine and the workers send them (set off, shift reminder), from a line's number."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from warmline import epoch, jobs, keys
from warmline.domain.numbers import parse_id
from warmline.models import Line, OpenShift, Peer, Shift
from warmline.routing.results import PeerOff
from warmline.runtime import Runtime
from warmline.services.peers import dashboard
from warmline.services.peers.language import peer_language
from warmline.services.peers.support import SupportAlert
from warmline.telephony.gateway import TelephonyError
from warmline.texts import peer_words
from warmline.wording import said_in

log = logging.getLogger(__name__)

REMINDER_KIND = "reminder"
# Open shifts, + the open shift's id: "open-" to peers who could take it, "open-taken-" to the
# peer who offered it, "open-yes-"/"open-no-" to a taker on a line that approves swaps.
OPEN_SHIFT_KINDS = ("open-taken-", "open-yes-", "open-no-", "open-")
DROP_IN_ASK_PREFIX = "dropin-ask-"  # + the ask's number; to admins
DROP_IN_YES, DROP_IN_NO = "dropin-yes", "dropin-no"  # to the peer; `at`: the end
FLOOD_KIND_PREFIX = "flood-"  # + caller | line, with "-chat" when the flood is of chats
FLOOD_KINDS = ("caller", "line", "caller-chat", "line-chat")
REST_KIND_PREFIX = "rest-"  # + contacts in a row: the back-to-back limit was reached
COVERAGE_KIND_PREFIX = "coverage-"  # + the number of new thin hours; `at`: the first one


# --------------------------------------------------------------------------- commands


def _standing_words(runtime: Runtime, peer_id: int, texted_line: Line, now: datetime,
                    presence: str, *, language: str) -> str:
    standing = dashboard.find_shift_standing(runtime, peer_id, now)
    if standing.on_shift_until is None:
        nxt = standing.next_start
        when = nxt.start.astimezone(ZoneInfo(nxt.timezone)) if nxt is not None else None
        return peer_words.not_on_shift(language, when)
    with runtime.sessions() as session:
        lines = sorted(session.scalars(select(Line).where(
            Line.id.in_(standing.on_shift_line_ids))).all(), key=lambda ln: ln.name)
    line = next((ln for ln in lines if ln.id == texted_line.id), lines[0] if lines else texted_line)
    until = standing.on_shift_until.astimezone(ZoneInfo(line.timezone))
    return peer_words.on_shift(language, presence, line.name, until)


def _language_of(runtime: Runtime, peer_id: int, line: Line) -> str:
    with runtime.sessions() as session:
        return peer_language(session, peer_id, line.default_language)


def handle_peer_command(runtime: Runtime, peer_id: int, command: str, line: Line,
                        now: datetime) -> str:
    """One line back for ON, OFF, BREAK or STATUS, in the peer's language."""
    language = _language_of(runtime, peer_id, line)
    wanted = {"ON": "available", "OFF": "off", "BREAK": "break"}.get(command)
    if wanted is not None:
        refusal = dashboard.change_presence(runtime, peer_id, wanted, now)
        if refusal is not None and refusal.status == 409 and wanted == "available":
            standing = dashboard.find_shift_standing(runtime, peer_id, now)
            if not standing.on_shift:
                return _standing_words(runtime, peer_id, line, now, "off", language=language)
        if refusal is not None:
            return str(said_in(language, refusal.message))
    presence = dashboard.read_presence(runtime, peer_id, now).presence
    words = _standing_words(runtime, peer_id, line, now, presence, language=language)
    if command == "BREAK" and presence == "break":
        return f"{words} {peer_words.on_when_ready(language)}"
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


def _support_words(runtime: Runtime, asking_peer_id: str, line: Line,
                   language: str) -> str | None:
    """The text to an off-shift admin: who asked, on which line; nothing about any caller."""
    asking_id = parse_id(asking_peer_id)
    if asking_id is None:
        return None
    with runtime.sessions() as session:
        asking = session.get(Peer, asking_id)
        name = asking.first_name if asking else None
    if name is None:
        return None
    return peer_words.notice(language, "support_needed", name=name, line=line.name)


def _open_shift_words(runtime: Runtime, kind: str, line: Line, language: str) -> str | None:
    prefix = next((p for p in OPEN_SHIFT_KINDS if kind.startswith(p)), None)
    if prefix is None or not kind.removeprefix(prefix).isdigit():
        return None
    with runtime.sessions() as session:
        row = session.get(OpenShift, int(kind.removeprefix(prefix)))
        if row is None:
            return None
        zone = ZoneInfo(line.timezone)
        when = peer_words.when(language, row.starts_at.astimezone(zone),
                               row.ends_at.astimezone(zone))
        offered = session.get(Peer, row.offered_by_peer_id)
        taker = session.get(Peer, row.taken_by_peer_id) if row.taken_by_peer_id else None
        state = row.state
    someone = peer_words.notice(language, "someone")
    if prefix == "open-":
        if state != "open":
            return None  # taken before this text went out: say nothing
        name = offered.first_name if offered else someone
        return peer_words.notice(language, "open_shift", name=name, line=line.name, when=when)
    if prefix == "open-taken-":
        name = taker.first_name if taker else someone
        return peer_words.notice(language, "open_taken", name=name, line=line.name, when=when)
    kind_words = "swap_yes" if prefix == "open-yes-" else "swap_no"
    return peer_words.notice(language, kind_words, line=line.name, when=when)


def _drop_in_ask_words(runtime: Runtime, request_id: int, line: Line,
                       language: str) -> str | None:
    raw: list[bytes | None] = runtime.redis.hmget(  # type: ignore[assignment]
        keys.drop_in_request(request_id), ["peer", "minutes", "state"])
    if raw[0] is None or raw[2] != b"pending":
        return None  # answered on the board before the text went out, or expired
    with runtime.sessions() as session:
        peer = session.get(Peer, int(raw[0]))
        name = peer.first_name if peer else peer_words.notice(language, "someone")
    return peer_words.notice(language, "drop_in_ask", name=name, line=line.name,
                             minutes=int(raw[1] or 0), ask=request_id)


def send_peer_text(runtime: Runtime, peer_id: int, line_id: int | None, kind: str,
                   at: datetime) -> bool:
    """The job's work: build the notice from its kind (no text in the job) and send it; `at`
    is the moment it speaks of (a shift's start, a drop-in's end), to the second."""
    found = _peer_line(runtime, peer_id, line_id)
    if found is None:
        return False
    peer, line = found
    language = _language_of(runtime, peer_id, line)  # every notice in the peer's own language
    local = at.astimezone(ZoneInfo(line.timezone))
    if kind == REMINDER_KIND:
        body = peer_words.notice(language, "shift_reminder", line=line.name,
                                 time=peer_words.clock(language, local))
    elif kind in peer_words.OFF_NOTICES:
        body = peer_words.off_notice(language, kind) or ""
    elif kind.startswith("open-"):
        words = _open_shift_words(runtime, kind, line, language)
        if words is None:
            return False
        body = words
    elif kind.startswith(DROP_IN_ASK_PREFIX) and kind.removeprefix(DROP_IN_ASK_PREFIX).isdigit():
        ask = _drop_in_ask_words(runtime, int(kind.removeprefix(DROP_IN_ASK_PREFIX)), line,
                                 language)
        if ask is None:
            return False
        body = ask
    elif kind == DROP_IN_YES:
        body = peer_words.notice(language, "drop_in_yes", line=line.name,
                                 time=peer_words.clock(language, local))
    elif kind == DROP_IN_NO:
        body = peer_words.notice(language, "drop_in_no", line=line.name)
    elif kind.startswith(FLOOD_KIND_PREFIX) and kind.removeprefix(FLOOD_KIND_PREFIX) in FLOOD_KINDS:
        flood = kind.removeprefix(FLOOD_KIND_PREFIX).replace("-", "_")
        body = peer_words.notice(language, f"flood_{flood}", line=line.name)
    elif kind.startswith(REST_KIND_PREFIX) and kind.removeprefix(REST_KIND_PREFIX).isdigit():
        body = peer_words.rest_due(language, int(kind.removeprefix(REST_KIND_PREFIX)))
    elif kind.startswith(COVERAGE_KIND_PREFIX) and kind.removeprefix(COVERAGE_KIND_PREFIX).isdigit():
        body = peer_words.thin_hours(language, line.name,
                                     int(kind.removeprefix(COVERAGE_KIND_PREFIX)), local)
    elif kind.startswith(SUPPORT_KIND_PREFIX):
        support = _support_words(runtime, kind.removeprefix(SUPPORT_KIND_PREFIX), line, language)
        if support is None:
            return False
        body = support
    else:
        return False
    try:
        runtime.twilio.send_message(
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

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _enqueue(self, peer_id: int, line_id: int | None, kind: str, at: datetime,
                 delay: timedelta | None = None) -> None:
        # The job carries `at` as whole epoch seconds, as jobs already in Redis do (its id, made
        # from it, refuses a second notice of the same moment); workers/text_jobs.py turns it
        # back into a datetime.
        at_epoch = int(epoch.seconds(at))
        job_id = f"peer-text-{peer_id}-{kind}-{at_epoch}"
        if delay is not None:
            jobs.SEND_PEER_TEXT.enqueue_in(self.runtime, delay, peer_id, line_id, kind, at_epoch,
                                           job_id=job_id)
            return
        jobs.SEND_PEER_TEXT.enqueue(self.runtime, peer_id, line_id, kind, at_epoch, job_id=job_id,
                                    unique=True)

    def notify_off(self, runtime: Runtime, peer_off: PeerOff, now: datetime) -> None:
        try:
            TextPeerNotifier(runtime)._enqueue(peer_off.peer_id, None, peer_off.reason.value,
                                               now)
        except Exception as exc:  # noqa: BLE001 - a duplicate notice is refused by its id
            log.info("peer %s off notice not queued (%s)", peer_off.peer_id, type(exc).__name__)

    def notify_open_shift(self, open_id: int, line_id: int, peer_ids: Sequence[int],
                          starts_at: datetime, delay: timedelta | None) -> None:
        for peer_id in peer_ids:
            try:
                self._enqueue(peer_id, line_id, f"open-{open_id}", starts_at, delay=delay)
            except Exception as exc:  # noqa: BLE001 - the dashboard lists it too
                log.info("open shift text to peer %s not queued (%s)", peer_id, type(exc).__name__)

    def notify_open_shift_taken(self, open_id: int, line_id: int, offered_by: int,
                                starts_at: datetime) -> None:
        try:
            self._enqueue(offered_by, line_id, f"open-taken-{open_id}", starts_at)
        except Exception as exc:  # noqa: BLE001
            log.info("open shift text to peer %s not queued (%s)", offered_by, type(exc).__name__)

    def notify_open_shift_answer(self, open_id: int, line_id: int, taker: int,
                                 starts_at: datetime,
                                 *, approved: bool) -> None:
        kind = f"open-yes-{open_id}" if approved else f"open-no-{open_id}"
        try:
            self._enqueue(taker, line_id, kind, starts_at)
        except Exception as exc:  # noqa: BLE001
            log.info("swap answer to peer %s not queued (%s)", taker, type(exc).__name__)

    def notify_drop_in_ask(self, request_id: int, line_id: int, admin_peer_ids: Sequence[int],
                           at: datetime) -> None:
        for admin_id in admin_peer_ids:
            try:
                self._enqueue(admin_id, line_id, f"{DROP_IN_ASK_PREFIX}{request_id}", at)
            except Exception as exc:  # noqa: BLE001 - the ask stays on the board
                log.info("drop-in text to admin %s not queued (%s)", admin_id, type(exc).__name__)

    def notify_drop_in_answer(self, peer_id: int, line_id: int, *, approved: bool,
                              until: datetime) -> None:
        try:
            self._enqueue(peer_id, line_id, DROP_IN_YES if approved else DROP_IN_NO, until)
        except Exception as exc:  # noqa: BLE001 - the dashboard shows it too
            log.info("drop-in answer to peer %s not queued (%s)", peer_id, type(exc).__name__)

    def notify_flood(self, line_id: int, kind: str, admin_peer_ids: Sequence[int],
                     at: datetime) -> None:
        for admin_id in admin_peer_ids:
            try:
                self._enqueue(admin_id, line_id, f"{FLOOD_KIND_PREFIX}{kind}", at)
            except Exception as exc:  # noqa: BLE001 - the alert stays on the board
                log.info("flood text to admin %s not queued (%s)", admin_id, type(exc).__name__)

    def notify_rest_due(self, runtime: Runtime, peer_id: int, in_a_row: int, at: datetime) -> None:
        try:
            TextPeerNotifier(runtime)._enqueue(peer_id, None, f"{REST_KIND_PREFIX}{in_a_row}", at)
        except Exception as exc:  # noqa: BLE001 - the dashboard says it too
            log.info("rest notice to peer %s not queued (%s)", peer_id, type(exc).__name__)

    def send_shift_reminder(self, *, peer_id: int, line_id: int, starts_at: datetime) -> None:
        try:
            self._enqueue(peer_id, line_id, REMINDER_KIND, starts_at)
        except Exception as exc:  # noqa: BLE001
            log.info("reminder to peer %s not queued (%s)", peer_id, type(exc).__name__)

    def send_coverage_gaps(self, *, line_id: int, admin_peer_ids: Sequence[int], hours: int,
                           first_start: datetime) -> None:
        for admin_id in admin_peer_ids:
            try:
                self._enqueue(admin_id, line_id, f"{COVERAGE_KIND_PREFIX}{hours}", first_start)
            except Exception as exc:  # noqa: BLE001 - the notice stays on the board
                log.info("coverage text to admin %s not queued (%s)", admin_id, type(exc).__name__)

    def notify_off_shift_admins(self, alert: SupportAlert, admin_peer_ids: Sequence[int]) -> None:
        """The dashboard's SupportAlertNotifier: no admin on shift, so text the line's admins."""
        line_id = alert.line_ids[0] if alert.line_ids else None
        for admin_id in admin_peer_ids:
            try:
                self._enqueue(admin_id, line_id, f"{SUPPORT_KIND_PREFIX}{alert.peer_id}",
                              alert.at)
            except Exception as exc:  # noqa: BLE001 - the alert stays on the admin pages
                log.info("support text to admin %s not queued (%s)", admin_id, type(exc).__name__)


class RoutingPeerTexts:
    """Routing's process-wide `PeerNotifier` and `RestNotifier` (installed by warmline.wiring at
    start, before any runtime exists): each call brings the runtime of the service that made it."""

    def notify_off(self, runtime: Runtime, peer_off: PeerOff, now: datetime) -> None:
        TextPeerNotifier(runtime).notify_off(runtime, peer_off, now)

    def notify_rest_due(self, runtime: Runtime, peer_id: int, in_a_row: int, at: datetime) -> None:
        TextPeerNotifier(runtime).notify_rest_due(runtime, peer_id, in_a_row, at)
