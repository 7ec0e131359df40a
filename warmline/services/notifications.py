"""What the background jobs ask others to say or do, as Protocols, with a logging stand-in.

The texts and admin issues implement the real senders (SMS to a peer, email or the dashboard
to admins) and the routing engine implements the shift-end hook; until then the jobs run with
``LoggingNotifier``, which records "would send" lines holding ids and times only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


class PeerNotifier(Protocol):
    def send_shift_reminder(self, *, peer_id: int, line_id: int, starts_at: datetime) -> None:
        """Tell a peer their shift on a line starts at `starts_at` (about 30 minutes ahead)."""
        ...


class AdminNotifier(Protocol):
    def send_coverage_report(self, *, subject: str, body: str) -> None:
        """Hand the admins the coverage report (plain text, no personal data)."""
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

    def send_coverage_report(self, *, subject: str, body: str) -> None:
        self.sent.append(("coverage_report", {"subject": subject, "body": body}))
        log.info("would send the coverage report to admins: %s", subject)

    def end_shift(self, *, peer_id: int, line_id: int, ended_at: datetime) -> None:
        # Not wired to the routing engine yet: nothing sets the peer off here.
        self.sent.append(("shift_ended", {"peer_id": peer_id, "line_id": line_id, "ended_at": ended_at}))
        log.warning(
            "shift of peer %s on line %s ended at %s: routing engine hook not wired",
            peer_id,
            line_id,
            ended_at.isoformat(),
        )
