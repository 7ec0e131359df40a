"""A call from the first ring to the peer's wrap-up, through the stand-in."""

from __future__ import annotations

from tests.e2e.conftest import LEE, LINE, ROSTER, SAM, LiveWarmline


def test_a_caller_who_asks_for_recovery_is_bridged_with_a_peer_in_recovery(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller("+15005550006", press={"For Substance use recovery": "1"}).dial(LINE)
    call.wait_until_heard("Connecting you with a peer", timeout=10)
    ring = sam.wait_for_ring(timeout=10)
    assert ring.caller_id == LINE
    bridged = call.wait_until_bridged(timeout=10)
    assert bridged
