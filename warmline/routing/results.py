"""What the routing engine answers: offers, verdicts and the outcomes of each operation."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from warmline.domain.matching import Presence, Verdict


class LapseReason(StrEnum):
    """Why an offer ended without an accept. The first five are the peer's misses."""

    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    BUSY = "busy"
    FAILED = "failed"
    EXPIRED = "expired"
    # Texts: the peer's dashboard is closed, so the offer cannot be shown. Not a miss; the peer
    # stops taking texts until their dashboard is open again (warmline.services.texts_offers).
    NO_DASHBOARD = "no_dashboard"


class OffReason(StrEnum):
    """Why the engine set a peer off; the peer is told (PeerNotifier)."""

    MISSED_OFFERS = "missed_offers"
    SHIFT_ENDED = "shift_ended"
    ROUTING_REBUILT = "routing_rebuilt"  # live state was lost and rebuilt: please go on again


@dataclass(frozen=True)
class Offer:
    offer_id: str
    contact_id: str
    peer_id: int
    line_id: int
    channel: str
    experience: str | None
    language: str
    expires_at: float


@dataclass(frozen=True)
class Arrival:
    """The answer to arrive / choose_any: the verdict for the contact and the offers the pass took."""

    contact_id: str
    state: str  # waiting, offered, connected, or unknown
    verdict: Verdict
    offers: list[Offer]


@dataclass(frozen=True)
class PeerOff:
    peer_id: int
    reason: OffReason


@dataclass(frozen=True)
class OfferEnd:
    """decline / lapse: `ended` the first time, `already_<state>` or `unknown` after."""

    status: str
    contact_id: str
    peer_id: int | None
    line_id: int | None
    peer_off: PeerOff | None = None

    @property
    def ended(self) -> bool:
        return self.status == "ended"


@dataclass(frozen=True)
class AcceptResult:
    """accepted (also on a repeated accept), lapsed (too late, or already ended) or unknown."""

    status: str
    contact_id: str
    peer_id: int | None
    line_id: int | None
    channel: str
    peer_off: PeerOff | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


@dataclass(frozen=True)
class ContactEnd:
    """withdraw / complete: `ended` with the state the contact was in, or `unknown` after."""

    status: str
    previous_state: str
    line_id: int | None
    peer_id: int | None
    presence_after: Presence | None = None
    wrap_up_until: float | None = None
    peer_off: PeerOff | None = None


@dataclass(frozen=True)
class PresenceChange:
    """changed, unchanged, or refused_<why> (refused_busy, refused_not_on_shift, ...)."""

    status: str
    presence: Presence | None
    returned_line_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.status == "changed"


@dataclass(frozen=True)
class WrapUpChange:
    status: str  # extended, unchanged, ended, not_due, not_in_wrap_up
    presence: Presence | None
    wrap_up_until: float | None


@dataclass(frozen=True)
class ShiftChange:
    went_off: list[PeerOff]
    lines_to_match: list[int]


@dataclass(frozen=True)
class SweepReport:
    lapsed: list[OfferEnd] = field(default_factory=list)
    readied_peers: list[tuple[int, Presence]] = field(default_factory=list)
    stale_contacts: list[str] = field(default_factory=list)
    went_off: list[PeerOff] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.lapsed or self.readied_peers or self.stale_contacts or self.went_off)


@dataclass(frozen=True)
class ClassSnapshot:
    """Waiting contacts of one channel and experience: counts and waits, never identities."""

    channel: str
    experience: str
    waiting: int
    longest_wait_seconds: float
    median_wait_seconds: float


@dataclass(frozen=True)
class QueueSnapshot:
    line_id: int
    classes: list[ClassSnapshot]
    offered: int
    connected: int
    peers_by_presence: dict[str, int]

    @property
    def waiting(self) -> int:
        return sum(c.waiting for c in self.classes)
