"""What the background jobs ask others to say or do, as Protocols, with a logging stand-in.

The real senders live in ``warmline.services.texts.peer_texts`` (``TextPeerNotifier``: shift reminders,
coverage gaps) and ``warmline.services.routing`` (the shift-end hook). ``LoggingNotifier``
records what would be sent (ids and times only), for tests and tools that must not text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


class PeerNotifier(Protocol):
    def send_shift_reminder(self, *, peer_id: int, line_id: int, starts_at: datetime) -> None:
        """Tell a peer their shift on a line starts at `starts_at` (about 30 minutes ahead)."""
        ...


class AdminNotifier(Protocol):
    def send_coverage_gaps(self, *, line_id: int, admin_peer_ids: Sequence[int], hours: int,
                           first_start: datetime) -> None:
        """Tell a line's admins (by text) that `hours` newly found thin hours start at
        `first_start`; the board notice is already posted. Must not raise."""
        ...


class ShiftEndHook(Protocol):
    def end_shift(self, *, peer_id: int, line_id: int, ended_at: datetime) -> None:
        """A peer's shift on a line ended: set them `off` there and tell them (routing engine)."""
        ...


@dataclass
class LoggingNotifier:
    """Logs and keeps what would be sent; the default until the real senders exist."""

    sent: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def send_shift_reminder(self, *, peer_id: int, line_id: int, starts_at: datetime) -> None:
        self.sent.append(("shift_reminder", {"peer_id": peer_id, "line_id": line_id, "starts_at": starts_at}))
        log.info(
            "would send a shift reminder to peer %s (line %s, %s)", peer_id, line_id, starts_at.isoformat()
        )

    def send_coverage_gaps(self, *, line_id: int, admin_peer_ids: Sequence[int], hours: int,
                           first_start: datetime) -> None:
        self.sent.append(("coverage_gaps", {"line_id": line_id, "admins": list(admin_peer_ids),
                                            "hours": hours, "first_start": first_start}))
        log.info("would text %d admins about %d thin hours on line %s", len(admin_peer_ids),
                 hours, line_id)

    def end_shift(self, *, peer_id: int, line_id: int, ended_at: datetime) -> None:
        # Not wired to the routing engine yet: nothing sets the peer off here.
        self.sent.append(("shift_ended", {"peer_id": peer_id, "line_id": line_id, "ended_at": ended_at}))
        log.warning(
            "shift of peer %s on line %s ended at %s: routing engine hook not wired",
            peer_id,
            line_id,
            ended_at.isoformat(),
        )
