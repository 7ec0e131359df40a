"""Pure routing rules: which peer may be offered which contact, in what order, and what to tell a caller."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

VOICE = "voice"
SMS = "sms"
# A web chat: answered in the dashboard's texts pane, so a peer who takes texts takes chats,
# and chats count against the same capacity (max_texts).
CHAT = "chat"
CHANNELS = (VOICE, SMS, CHAT)
# The experience a contact asks for when any peer will do (or none was asked for).
ANY_EXPERIENCE = "*"

# Priorities are small integers (texts with risk words get raised); the queue score packs the
# priority above the arrival time so one sorted set orders by priority, then arrival.
MAX_PRIORITY = 9
PRIORITY_STEP = 1e10  # larger than any epoch second until the year 2286
# An estimate of the wait is only given when it rests on this many observed waits.
MIN_WAIT_SAMPLES = 5


class Presence(StrEnum):
    """A peer's state (DESIGN.md "Words")."""

    OFF = "off"
    AVAILABLE = "available"
    BREAK = "break"
    WRAP_UP = "wrap_up"
    OFFERED = "offered"
    BUSY = "busy"


class Outlook(StrEnum):
    """What the engine can say to a waiting contact."""

    MATCH_NOW = "match_now"  # a peer has been (or is being) offered this contact
    ALL_BUSY = "all_busy"  # matching peers are on shift, none free
    NO_MATCH = "no_match"  # nobody on shift shares the experience (the caller chooses what next)


@dataclass(frozen=True)
class LineRules:
    line_id: int
    wrap_up_seconds: float = 90  # a fraction only under the simulator's compressed clock
    calls_while_texting: bool = False
    back_to_back_limit: int = 0  # contacts in a row before a break; 0 = no limit


@dataclass(frozen=True)
class PeerLoad:
    calls: int = 0
    texts: int = 0


@dataclass(frozen=True)
class PeerView:
    """A peer as the rules see them at one instant; `working_lines` comes from the schedule."""

    peer_id: int
    presence: Presence
    working_lines: frozenset[int]
    experiences: frozenset[str]
    languages: frozenset[str]
    channels: frozenset[str]
    max_texts: int
    idle_since: float
    load: PeerLoad = field(default_factory=PeerLoad)
    has_pending_offer: bool = False
    in_a_row: int = 0  # contacts taken since the peer's last break (or since going on)


@dataclass(frozen=True)
class ContactView:
    contact_id: str
    line_id: int
    channel: str
    experience: str | None
    language: str
    priority: int
    arrived_at: float
    accepts_any_peer: bool = False

    @property
    def wanted_experience(self) -> str:
        return wanted_experience(self.experience, self.accepts_any_peer)


def wanted_experience(experience: str | None, accepts_any_peer: bool) -> str:
    """The experience class a contact waits in: ANY_EXPERIENCE when any peer will do."""
    if accepts_any_peer or not experience:
        return ANY_EXPERIENCE
    return experience


@dataclass(frozen=True)
class Verdict:
    outlook: Outlook
    # Seconds, only when estimated from observed waits; None means "we can't say", never a guess.
    expected_wait_seconds: float | None = None


def routing_channels(channels: Iterable[str]) -> frozenset[str]:
    """The channels a peer is offered contacts on: their roster channels, and chat with texts."""
    found = frozenset(channels)
    return found | {CHAT} if SMS in found else found


def has_capacity(load: PeerLoad, channel: str, max_texts: int, calls_while_texting: bool) -> bool:
    """DESIGN.md: a call needs no other call and (unless the line allows it) no open text;
    a text needs fewer than max_texts open and no call."""
    if channel == VOICE:
        return load.calls == 0 and (load.texts == 0 or calls_while_texting)
    return load.calls == 0 and load.texts < max_texts


def is_rested(in_a_row: int, back_to_back_limit: int) -> bool:
    """DESIGN.md: a peer who took the line's back_to_back_limit contacts without a break is
    offered nothing on it until they take one."""
    return back_to_back_limit <= 0 or in_a_row < back_to_back_limit


def shares_experience(peer: PeerView, contact: ContactView) -> bool:
    wanted = contact.wanted_experience
    return wanted == ANY_EXPERIENCE or wanted in peer.experiences


def can_serve(peer: PeerView, contact: ContactView) -> bool:
    """Staffing, regardless of the moment: works the line, not off, takes the channel, speaks
    the language, shares the experience. Peers on break or busy still count: the contact may wait."""
    return (
        contact.line_id in peer.working_lines
        and peer.presence != Presence.OFF
        and contact.channel in peer.channels
        and contact.language in peer.languages
        and shares_experience(peer, contact)
    )


def is_eligible(peer: PeerView, contact: ContactView, line: LineRules) -> bool:
    """May this peer be offered this contact right now (DESIGN.md "Routing")."""
    return (
        can_serve(peer, contact)
        and peer.presence == Presence.AVAILABLE
        and not peer.has_pending_offer
        and has_capacity(peer.load, contact.channel, peer.max_texts, line.calls_while_texting)
        and is_rested(peer.in_a_row, line.back_to_back_limit)
    )


def queue_score(priority: int, arrived_at: float) -> float:
    """One number ordering contacts by priority (higher first), then arrival (earlier first)."""
    clamped = min(max(priority, 0), MAX_PRIORITY)
    return (MAX_PRIORITY - clamped) * PRIORITY_STEP + arrived_at


def arrival_from_score(score: float) -> float:
    return score % PRIORITY_STEP


def priority_from_score(score: float) -> int:
    return MAX_PRIORITY - round((score - arrival_from_score(score)) / PRIORITY_STEP)


def contact_order_key(contact: ContactView) -> tuple[float, str]:
    return (queue_score(contact.priority, contact.arrived_at), contact.contact_id)


def peer_order_key(peer: PeerView) -> tuple[float, str]:
    # Ties go by the id as text, as a Redis sorted set orders equal scores.
    return (peer.idle_since, str(peer.peer_id))


def order_contacts(contacts: Iterable[ContactView]) -> list[ContactView]:
    return sorted(contacts, key=contact_order_key)


def order_peers(peers: Iterable[PeerView]) -> list[PeerView]:
    """Longest idle first."""
    return sorted(peers, key=peer_order_key)


def choose_peer(
    contact: ContactView, peers: Iterable[PeerView], line: LineRules
) -> PeerView | None:
    eligible = [p for p in peers if is_eligible(p, contact, line)]
    return min(eligible, key=peer_order_key) if eligible else None


def plan_matches(
    contacts: Iterable[ContactView],
    peers: Iterable[PeerView],
    lines: Mapping[int, LineRules],
) -> list[tuple[str, int]]:
    """The reference match pass: contacts in order, each to its longest-idle eligible peer.

    A peer offered one contact holds a pending offer, so takes no second one in the same pass.
    The Redis engine must reach exactly these pairs; the property tests hold it to that.
    """
    free = {p.peer_id: p for p in peers}
    pairs: list[tuple[str, int]] = []
    for contact in order_contacts(contacts):
        line = lines.get(contact.line_id, LineRules(contact.line_id))
        peer = choose_peer(contact, free.values(), line)
        if peer is not None:
            pairs.append((contact.contact_id, peer.peer_id))
            del free[peer.peer_id]
    return pairs


def estimate_wait(recent_waits: Sequence[float], min_samples: int = MIN_WAIT_SAMPLES) -> float | None:
    """The median of recently observed waits for the same line, channel and experience."""
    if len(recent_waits) < min_samples:
        return None
    return float(statistics.median(recent_waits))


def judge(offered_now: bool, staffed_matching: int, recent_waits: Sequence[float]) -> Verdict:
    """The verdict for a waiting contact: offered now, all busy (with a wait if known), or no match."""
    if offered_now:
        return Verdict(Outlook.MATCH_NOW)
    if staffed_matching > 0:
        return Verdict(Outlook.ALL_BUSY, estimate_wait(recent_waits))
    return Verdict(Outlook.NO_MATCH)


def verdict_for(
    contact: ContactView,
    peers: Iterable[PeerView],
    line: LineRules,
    recent_waits: Sequence[float] = (),
) -> Verdict:
    """The verdict from whole peer views (the engine computes the same from its indexes)."""
    peer_list = list(peers)
    if choose_peer(contact, peer_list, line) is not None:
        return Verdict(Outlook.MATCH_NOW)
    staffed = sum(1 for p in peer_list if can_serve(p, contact))
    return judge(False, staffed, recent_waits)
