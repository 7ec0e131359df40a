"""The live board: every peer's presence and every waiting contact, support alerts first.

A waiting contact is shown by line, experience, channel, waiting time and risk flag only: never
its id, its caller's pseudonym or anything else that could tell one caller from another later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from warmline import epoch
from warmline.models import Experience, Line, OpenShift, Peer
from warmline.runtime import Runtime
from warmline.services import routing
from warmline.services.admin.blocks import channel_label
from warmline.services.admin.notices import AdminNotice, NoticeKind, list_notices
from warmline.services.peers.drop_ins import pending_ask_ids
from warmline.services.peers.support import SupportAlert, list_support_alerts
from warmline.voice.state import CallState
from warmline.wording import N_

PRESENCE_LABELS = {
    "available": N_("Available"), "break": N_("On a break"), "off": N_("Off"), "wrap_up": N_("Wrap-up"),
    "offered": N_("Being rung"), "busy": N_("With a caller or texter"),
}
PRESENCE_ORDER = ("busy", "offered", "wrap_up", "available", "break", "off")


def wait_label(seconds: float) -> str:
    minutes, rest = divmod(max(0, int(seconds)), 60)
    if minutes:
        return N_("%(minutes)d min %(seconds)02d s", minutes=minutes, seconds=rest)
    return N_("%(seconds)d s", seconds=rest)


@dataclass(frozen=True)
class WaitingRow:
    line_name: str
    experience: str
    channel: str  # "Call" or "Text"
    waiting_seconds: int
    risk: bool

    @property
    def waiting_label(self) -> str:
        return wait_label(self.waiting_seconds)


@dataclass(frozen=True)
class PeerRow:
    name: str
    presence: str
    presence_label: str
    working: str  # the lines they are working now, or ""
    load: str


@dataclass(frozen=True)
class Board:
    alerts: list[SupportAlert]
    notices: list[AdminNotice]
    pending_drop_ins: set[str]  # refs of drop-in asks still waiting for an answer
    pending_swaps: set[str]  # refs of taken open shifts waiting for an admin's yes
    waiting: list[WaitingRow]
    peers: list[PeerRow]
    counts: dict[str, int]
    # peers in a call looking for a colleague to hand it to (a warm transfer through routing):
    # in routing like a caller, but nobody new is waiting, so apart from `waiting`
    seeking: list[WaitingRow] = field(default_factory=list)


def _pending_swaps(runtime: Runtime, notices: list[AdminNotice]) -> set[str]:
    refs = [int(n.ref) for n in notices if n.kind is NoticeKind.OPEN_SHIFT and n.ref.isdigit()]
    if not refs:
        return set()
    with runtime.sessions() as session:
        return {str(i) for i in session.scalars(select(OpenShift.id).where(
            OpenShift.id.in_(refs), OpenShift.state == "pending_approval"))}


def build_board(runtime: Runtime, now: datetime) -> Board:
    engine = routing.routing_engine(runtime, now)
    at = epoch.seconds(now)  # the board reads the engine's own views, in its seconds
    with runtime.sessions() as session:
        line_names = {row.id: row.name for row in session.execute(select(Line.id, Line.name))}
        labels = {row.key: row.label for row in session.execute(select(Experience.key, Experience.label))}
        peers = [(p.id, p.name) for p in session.scalars(
            select(Peer).where(Peer.active.is_(True)).order_by(Peer.name))]
    waiting: list[WaitingRow] = []
    seeking: list[WaitingRow] = []
    state = CallState(runtime.redis)
    for contact_id in engine.waiting_contact_ids():
        view = engine.contact_view(contact_id)
        if view is None:
            continue
        rows_of = seeking if state.transfer_origin(contact_id) is not None else waiting
        rows_of.append(WaitingRow(
            line_name=line_names.get(view.line_id, "unknown line"),
            experience=(N_("Anyone") if view.experience is None
                        else labels.get(view.experience, view.experience)),
            channel=channel_label(view.channel),
            waiting_seconds=int(at - view.arrived_at),
            risk=view.priority > 0,
        ))
    # Risk first, then the longest wait: the order an admin should look in.
    waiting.sort(key=lambda row: (not row.risk, -row.waiting_seconds))
    seeking.sort(key=lambda row: -row.waiting_seconds)
    rows: list[PeerRow] = []
    counts = dict.fromkeys(PRESENCE_ORDER, 0)
    for peer_id, name in peers:
        peer = engine.peer_view(peer_id, at)
        presence = peer.presence.value if peer is not None else "off"
        counts[presence] = counts.get(presence, 0) + 1
        working = ", ".join(sorted(line_names.get(i, "?") for i in peer.working_lines)) if peer else ""
        load = ""
        if peer is not None and (peer.load.calls or peer.load.texts):
            load = N_("%(calls)s call(s), %(texts)s text(s)", calls=peer.load.calls, texts=peer.load.texts)
        reached = engine.back_to_back(peer_id, at) if presence == "available" else None
        if reached is not None:  # wearing thin: the admin may want to check in
            load = N_("%(count)s in a row: held until a break", count=reached[0])
        rows.append(PeerRow(name, presence, PRESENCE_LABELS.get(presence, presence), working, load))
    rows.sort(key=lambda r: (PRESENCE_ORDER.index(r.presence) if r.presence in PRESENCE_ORDER else 9,
                             r.name))
    notices = list_notices(runtime.redis, now)
    asks = [int(n.ref) for n in notices if n.kind is NoticeKind.DROP_IN_REQUEST and n.ref.isdigit()]
    return Board(alerts=list_support_alerts(runtime.redis, now), notices=notices,
                 pending_drop_ins={str(i) for i in pending_ask_ids(runtime, asks)},
                 pending_swaps=_pending_swaps(runtime, notices),
                 waiting=waiting, peers=rows,
                 counts=counts, seeking=seeking)
