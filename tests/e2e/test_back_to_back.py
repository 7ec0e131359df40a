"""The back-to-back limit end to end: a peer answering on their phone alone (no dashboard open)
takes the line's limit of calls, is told by text, is offered nothing more, and after a break the
waiting caller reaches them."""

from __future__ import annotations

from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from warmline.clock import utc_now
from warmline.services import routing

RECOVERY = {"For Substance use recovery": "1"}
CALLERS = ("+15005550011", "+15005550012", "+15005550013")
# Only Sam shares recovery; two calls in a row, then a break.
LIMITED = ROSTER.replace("    daily_contact_limit: 3\n",
                         "    daily_contact_limit: 3\n    back_to_back_limit: 2\n")


def test_after_the_limit_the_peer_is_texted_and_offered_nothing_until_a_break(
    live: LiveWarmline,
) -> None:
    live.import_roster(LIMITED)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    for number in CALLERS[:2]:
        call = live.standin.caller(number, press=RECOVERY).dial(LINE)
        assert call.wait_until_bridged(timeout=60) == [SAM]
        live.wait_for(lambda: live.presence(sam_id) == "busy", timeout=60)
        call.hang_up()
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
    notice = sam.wait_for_text("contacts in a row", timeout=60)
    assert notice.from_ == LINE and "take a 10-minute break" in notice.body
    assert not any(n in notice.body for n in CALLERS)

    # Available, but held: the third caller waits and Sam's phone does not ring.
    third = live.standin.caller(CALLERS[2], press=RECOVERY).dial(LINE)
    third.wait_until_heard("in line", timeout=60)
    # The arrival's match ran atomically before the caller was told to wait: no offer exists.
    engine = routing.routing_engine(live.runtime, utc_now())
    assert len(engine.waiting_contact_ids()) == 1 and engine.pending_offer_ids() == []
    assert third.bridged_with() == [] and live.presence(sam_id) == "available"

    sam.text(LINE, "BREAK")
    live.wait_for(lambda: live.presence(sam_id) == "break", timeout=60)
    sam.text(LINE, "ON")
    assert third.wait_until_bridged(timeout=60) == [SAM]
    third.hang_up()
