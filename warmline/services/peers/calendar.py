"""A peer's private calendar feed: their shifts as RFC 5545 text, in UTC, with nothing about callers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from warmline.models import Peer
from warmline.runtime import Runtime
from warmline.services.peers.dashboard import UpcomingShift, list_occurrences, list_peer_shifts

FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=60)
"""Calendar apps re-fetch the feed every few hours, so two months ahead is plenty."""
TOKEN_BYTES = 32
PRODUCT_ID = "-//Warmline//Peer shifts//EN"
_MAX_LINE_OCTETS = 75
_MAX_TOKEN_CHARS = 200  # far above a real token's 43; nothing longer is worth hashing


def calendar_token_hash(token: str) -> str:
    """What is stored of a calendar token. A token has 256 random bits, so a plain SHA-256
    cannot be reversed by trying tokens (no key needed, unlike a phone number's pseudonym)."""
    return hashlib.sha256(token.encode()).hexdigest()


def has_calendar_link(runtime: Runtime, peer_id: int) -> bool:
    with runtime.sessions() as session:
        peer = session.get(Peer, peer_id)
        return peer is not None and peer.calendar_token_hash is not None


def issue_calendar_token(runtime: Runtime, peer_id: int) -> str:
    """A new calendar token for the peer, to show once; any earlier link stops working."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with runtime.sessions() as session, session.begin():
        peer = session.get(Peer, peer_id, with_for_update=True)
        if peer is None:
            raise LookupError(f"no peer {peer_id}")
        peer.calendar_token_hash = calendar_token_hash(token)
    return token


def build_feed_for_token(runtime: Runtime, token: str, now: datetime) -> str | None:
    """The iCal text for a calendar token, or None when no active peer has that token."""
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    with runtime.sessions() as session:
        peer = session.scalars(
            select(Peer).where(Peer.calendar_token_hash == calendar_token_hash(token),
                               Peer.active.is_(True))
        ).first()
        if peer is None:
            return None
        occurrences = list_occurrences(
            list_peer_shifts(session, peer.id), now - FEED_PAST, now + FEED_AHEAD
        )
        return render_calendar(peer.id, occurrences, now)


def render_calendar(peer_id: int, shifts: Sequence[UpcomingShift], now: datetime) -> str:
    """RFC 5545 text: one VEVENT per shift occurrence, times in UTC, CRLF line ends, folded."""
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT_ID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Warmline shifts",
        "REFRESH-INTERVAL;VALUE=DURATION:PT4H",
    ]
    for shift in shifts:
        lines += [
            "BEGIN:VEVENT",
            f"UID:shift-{peer_id}-{shift.line_id}-{_utc(shift.start)}@warmline",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(shift.start)}",
            f"DTEND:{_utc(shift.end)}",
            f"SUMMARY:{escape_text('Warmline shift: ' + shift.line_name)}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping (3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= _MAX_LINE_OCTETS:
        return line
    pieces: list[str] = []
    current = ""
    limit = _MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = char
            limit = _MAX_LINE_OCTETS - 1  # continuation lines start with a space
        else:
            current += char
    pieces.append(current)
    return "\r\n ".join(pieces)
