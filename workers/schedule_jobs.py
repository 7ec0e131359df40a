"""Scheduled jobs: the recurring-job runner, shift boundaries and reminders, the coverage report."""

from __future__ import annotations

from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services.admin.coverage import send_coverage_gap_notices
from warmline.services.peers.shift_watch import check_shift_boundaries
from warmline.services.peers.shift_watch import send_shift_reminders as remind
from warmline.services.routing import RoutingShiftEnd
from warmline.services.texts.peer_texts import TextPeerNotifier
from warmline.services.upkeep.recurring import run_recurring_job


def run_recurring(name: str, slot: str) -> None:
    """One run of the recurring job `name` (table in warmline.services.upkeep.recurring)."""
    run_recurring_job(process_runtime(), name, slot, utc_now())


def check_shifts() -> None:
    """Every minute: shift ends handed to the routing engine (set off, told), shift starts synced."""
    runtime = process_runtime()
    check_shift_boundaries(runtime, utc_now(), RoutingShiftEnd(runtime))


def send_shift_reminders() -> None:
    runtime = process_runtime()
    remind(runtime, utc_now(), TextPeerNotifier(runtime))


def send_coverage_report() -> None:
    """Daily: newly found coverage gaps on the admins' board and by text, each gap once."""
    runtime = process_runtime()
    send_coverage_gap_notices(runtime, utc_now(), TextPeerNotifier(runtime))
