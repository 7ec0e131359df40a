"""Drop-ins: a peer outside their shift asks to work a line now; an admin says yes from the live
board or by texting "YES 12" back; the engine lets them work until the end they asked for, and
the sweeper ends it by itself (`allow_drop_in`, sweep.lua).

An ask lives in Redis (DROP_IN_REQUEST_TTL_SECONDS): it is a moment's question, not a record.
The answer is recorded in the audit trail. Exactly one answer counts (HSETNX on the ask).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from warmline import epoch, keys
from warmline.domain.matching import Presence
from warmline.models import AuditEntry, Line, Peer, User
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.admin.notices import NoticeKind, post_notice
from warmline.services.peers.dashboard import Refusal, change_presence, list_peer_lines
from warmline.services.peers.support import admins_of
from warmline.services.schedules import peers_on_shift
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.wording import N_

DROP_IN_MINUTES = (30, 60, 120, 240)


@dataclass(frozen=True)
class DropInAsk:
    id: int
    peer_id: int
    line_id: int
    minutes: int
    asked_at: datetime
    state: str  # pending | approved | declined


def read_ask(runtime: Runtime, request_id: int) -> DropInAsk | None:
    found: dict[bytes, bytes] = runtime.redis.hgetall(  # type: ignore[assignment]
        keys.drop_in_request(request_id))
    raw = {k.decode(): v.decode() for k, v in found.items()}
    if "peer" not in raw:
        return None
    return DropInAsk(request_id, int(raw["peer"]), int(raw["line"]), int(raw["minutes"]),
                     epoch.moment(float(raw["at"])), raw.get("state", "pending"))


def drop_in_ends_at(runtime: Runtime, peer_id: int, now: datetime) -> datetime | None:
    """When the peer's latest running drop-in ends, if they have one."""
    ends = routing.drop_in_lines(runtime, peer_id, now)
    return max(ends.values()) if ends else None


def pending_ask_ids(runtime: Runtime, ids: list[int]) -> set[int]:
    return {i for i in ids if (ask := read_ask(runtime, i)) is not None and ask.state == "pending"}


def ask_to_drop_in(runtime: Runtime, peer_id: int, line_id: int, minutes: int,
                   now: datetime) -> Refusal | int:
    """Record the ask, post it on the board and text the admins; the ask's number, or why not."""
    if minutes not in DROP_IN_MINUTES:
        return Refusal(N_("Choose how long you'd like to drop in."), 400)
    with runtime.sessions() as session:
        lines = {line.id: line for line in list_peer_lines(session, peer_id)}
        line = lines.get(line_id)
        peer = session.get(Peer, peer_id)
        if line is None or peer is None:
            return Refusal(N_("You can drop in only on a line you work."), 400)
        if peer_id in peers_on_shift(session, line, now):
            return Refusal(N_("You're on shift there already: go available instead."), 409)
        on_shift = peers_on_shift(session, line, now)
        admins = [a for a in admins_of(session, [line]) if a != peer_id]
        to_text = [a for a in admins if a in on_shift] or admins
        line_name, peer_name = line.name, peer.first_name
    request_id = int(runtime.redis.incr(keys.drop_in_sequence()))
    key = keys.drop_in_request(request_id)
    pipe = runtime.redis.pipeline()
    pipe.hset(key, mapping={"peer": peer_id, "line": line_id, "minutes": minutes,
                            "at": repr(epoch.seconds(now)), "state": "pending"})
    pipe.expire(key, keys.DROP_IN_REQUEST_TTL_SECONDS)
    pipe.execute()
    post_notice(runtime.redis, NoticeKind.DROP_IN_REQUEST,
                N_("%(name)s asks to drop in on %(line)s for %(minutes)d minutes (text YES "
                   "%(ask)d or NO %(ask)d).", name=peer_name, line=line_name, minutes=minutes,
                   ask=request_id),
                now, line_id=line_id, ref=str(request_id))
    TextPeerNotifier(runtime).notify_drop_in_ask(request_id, line_id, to_text, now)
    return request_id


def answer_ask(runtime: Runtime, request_id: int, *, approve: bool, user_id: int | None,
               actor: str, now: datetime) -> str:
    """Approve or decline; the first answer counts. Returns what to tell the admin."""
    ask = read_ask(runtime, request_id)
    if ask is None:
        return N_("Drop-in ask %(ask)s is not open any more (asks wait 2 hours).", ask=request_id)
    key = keys.drop_in_request(request_id)
    if not runtime.redis.hsetnx(key, "answered_by", actor):
        return N_("Drop-in ask %(ask)s was already answered (%(state)s).", ask=request_id, state=ask.state)
    state = "approved" if approve else "declined"
    runtime.redis.hset(key, "state", state)
    with runtime.sessions.begin() as session:
        line = session.get(Line, ask.line_id)
        peer = session.get(Peer, ask.peer_id)
        session.add(AuditEntry(user_id=user_id, actor=actor, action=f"drop_in_{state}",
                               target=f"peer:{ask.peer_id}",
                               detail={"line": ask.line_id, "minutes": ask.minutes}, at=now))
        line_name = line.name if line else "the line"
        zone = line.timezone if line else "UTC"
        name = peer.first_name if peer else "The peer"
    notifier = TextPeerNotifier(runtime)
    if not approve:
        notifier.notify_drop_in_answer(ask.peer_id, ask.line_id, approved=False, until=now)
        return N_("Declined: %(name)s is told.", name=name)
    until = now + timedelta(minutes=ask.minutes)
    routing.allow_drop_in(runtime, ask.peer_id, ask.line_id, until, now)
    change_presence(runtime, ask.peer_id, Presence.AVAILABLE.value, now)
    notifier.notify_drop_in_answer(ask.peer_id, ask.line_id, approved=True, until=until)
    clock = until.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    return N_("Approved: %(name)s works %(line)s until %(time)s and is available now.", name=name,
              line=line_name, time=clock)


def answer_by_text(runtime: Runtime, peer_id: int, request_id: int, *, approve: bool,
                   now: datetime) -> str:
    """"YES 12" / "NO 12" from a registered phone: only an admin's answer counts."""
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        user = session.scalars(select(User).where(User.peer_id == peer_id)).first()
        if peer is None or peer.role != "admin":
            return N_("Only an admin can answer a drop-in ask.")
        email, user_id = peer.email, user.id if user else None
    return answer_ask(runtime, request_id, approve=approve, user_id=user_id, actor=email, now=now)
