"""Every Redis key of the texts package, built here only, with the TTLs beside them.

Content (message bodies) and the texter's number are stored only encrypted with the data key,
and every key expires: while a conversation is open, a day after its last message; once
closed, after the policy's short while (at most 24 hours).
"""

from __future__ import annotations

PREFIX = "wl:text:"

# Twilio retries a webhook within minutes; a day covers every retry and late duplicate.
SEEN_TTL_SECONDS = 24 * 3600
# An offer's pointer outlives the offer itself (60 s) so a late accept is told "too late".
OFFER_TTL_SECONDS = 3600
SEND_LOCK_SECONDS = 30


def conversation(contact_id: str) -> str:
    """Hash: line, caller hash, number (encrypted), peer, offer, risk, times, next seq."""
    return f"{PREFIX}conv:{contact_id}"


def claims(contact_id: str) -> str:
    """Hash of once-only marks: the risk flag raised, crisis numbers sent, closing."""
    return f"{PREFIX}conv:{contact_id}:claims"


def messages(contact_id: str) -> str:
    """List of encrypted JSON entries: inbound, outbound (by seq) and notes, in order."""
    return f"{PREFIX}conv:{contact_id}:msgs"


def outbound(contact_id: str) -> str:
    """Hash seq -> encrypted body still to send, and seq -> delivery status / MessageSid."""
    return f"{PREFIX}conv:{contact_id}:out"


def send_lock(contact_id: str) -> str:
    return f"{PREFIX}conv:{contact_id}:sending"


def open_conversation(line_id: int, caller_hash: str) -> str:
    """The texter's open conversation on a line (their keyed hash, never the number)."""
    return f"{PREFIX}open:{line_id}:{caller_hash}"


def conversations_of(caller_hash: str) -> str:
    """Set of the texter's conversation ids, so DELETE finds every one of them."""
    return f"{PREFIX}texter:{caller_hash}"


def live() -> str:
    """Sorted set of open conversation ids by last activity (the inactivity close reads it)."""
    return f"{PREFIX}live"


def offer(offer_id: str) -> str:
    """Hash: contact and peer of a text offer shown on a dashboard."""
    return f"{PREFIX}offer:{offer_id}"


def peer_offers(peer_id: int) -> str:
    """Sorted set of the peer's text offers by expiry."""
    return f"{PREFIX}peer:{peer_id}:offers"


def seen(message_sid: str) -> str:
    """Inbound deduplication by MessageSid."""
    return f"{PREFIX}seen:{message_sid}"
