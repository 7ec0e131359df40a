"""Routing jobs (queue `routing`): ids in, one service call each, idempotent."""

from __future__ import annotations

from warmline import epoch
from warmline.clock import utc_now
from warmline.runtime import process_runtime
from warmline.services import routing
from warmline.services.peers import rest
from warmline.services.upkeep import contact_repair, recovery


def run_match_pass(line_id: int) -> int:
    """Offer what can be offered on the line now; a repeat finds nothing more to offer."""
    return len(routing.run_match_pass(process_runtime(), line_id, utc_now()))


def sweep() -> None:
    """The sweeper (recurring, every few seconds): repairs what a crash left behind. After a
    Redis loss it is one more operation that meets it first, and rebuilds, like any other."""
    routing.sweep(process_runtime(), utc_now())


def end_wrap_up(peer_id: int) -> str:
    """Ends the peer's wrap-up if due; early, late or repeated runs change nothing twice."""
    return routing.end_wrap_up(process_runtime(), peer_id, utc_now()).status


def end_rest_break(peer_id: int, until: int) -> str:
    """The dashboard's 10-minute break is over: back to available, once, if still on it.
    `until` stays whole epoch seconds on the wire (jobs already queued carry it so)."""
    return rest.end_rest_break(process_runtime(), peer_id, epoch.moment(until), utc_now())


def close_unseen_hangups() -> int:
    """Recurring: voice contacts whose hang-up nobody saw get their outcome."""
    runtime = process_runtime()
    return len(contact_repair.close_unseen_hangups(runtime, recovery.twilio_call_checker(runtime),
                                                    utc_now()))
