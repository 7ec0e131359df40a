"""Reconnect with the same peer (DESIGN step 10): a caller whose call dropped calls back."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline import keys
from warmline.clock import utc_now
from warmline.domain.matching import Presence
from warmline.models import ContactEvent
from warmline.services import routing
from warmline.services.voice.common import caller_identity

CALLER = "+15005550006"
# Long enough that Sam is still in wrap-up after this very call when the caller rings back.
SLOW_WRAP_UP = ROSTER.replace("wrap_up_seconds: 2", "wrap_up_seconds: 600")
RECOVERY = {"For Substance use recovery": "1"}


def _call_that_drops(live: LiveWarmline) -> int:
    """The caller talks with Sam, and the caller's side ends the call. Returns Sam's id."""
    live.import_roster(SLOW_WRAP_UP)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    call.hang_up()  # the signal dropped: to Twilio and to us, the caller's leg ended
    sam.rang()[0].wait_until_heard("The call has ended", timeout=60)
    sam.rang()[0].wait_until_ended(timeout=60)  # Sam's phone is free again (else: busy)
    live.wait_for(lambda: live.presence(sam_id) == "wrap_up", timeout=60)
    # The room's end (its callback names the caller's leg as the one that ended it) links them.
    link = keys.voice_dropped_call(caller_identity(live.runtime.keys, CALLER, ""))
    live.wait_for(lambda: live.runtime.redis.exists(link), timeout=60)
    return sam_id


def test_a_caller_back_after_a_drop_is_asked_and_reaches_the_same_peer_first(
    live: LiveWarmline,
) -> None:
    sam_id = _call_that_drops(live)
    lee = live.peer(LEE)
    lee_id = live.peer_id("lee@example.org")
    live.go_available(lee_id)  # Lee is free and shares the experience: routing alone picks Lee
    # The link is a keyed hash in Redis that expires within ten minutes; no number anywhere.
    caller_hash = caller_identity(live.runtime.keys, CALLER, "")
    link = keys.voice_dropped_call(caller_hash)
    assert 0 < live.runtime.redis.ttl(link) <= keys.RECONNECT_SECONDS
    assert not any(CALLER[-7:] in key.decode() for key in live.runtime.redis.keys("*"))

    again = live.standin.caller(CALLER, press={"Welcome back": "1"}).dial(LINE)
    again.wait_until_heard("We'll try the same peer first", timeout=60)
    assert again.wait_until_bridged(timeout=60) == [SAM]
    sam_ring = live.peers[SAM].rang()[-1]
    sam_ring.wait_until_heard("they asked for you again", timeout=60)
    assert lee.rang() == []  # Sam, in wrap-up after this caller's call, was offered first
    assert live.runtime.redis.exists(link) == 0  # used once
    contact = live.contact_of_call(again.sid)
    assert contact is not None
    with live.runtime.sessions() as session:
        details = [e.detail for e in session.scalars(select(ContactEvent).where(
            ContactEvent.contact_id == contact.id, ContactEvent.kind == "menu_choice"))]
    # Anonymous: that the caller asked for the same peer, never whom or who they are.
    assert details == [{"choice": "recovery", "same_peer": True}]
    again.hang_up()
    live.wait_for(lambda: live.presence(sam_id) == "wrap_up", timeout=60)


def test_someone_else_is_the_usual_way_in_and_the_question_is_asked_once(
    live: LiveWarmline,
) -> None:
    _call_that_drops(live)
    lee = live.peer(LEE)
    live.go_available(live.peer_id("lee@example.org"))
    again = live.standin.caller(CALLER, press={"Welcome back": "2", **RECOVERY}).dial(LINE)
    again.wait_until_heard("To talk with a peer who shares an experience", timeout=60)
    assert again.wait_until_bridged(timeout=60) == [LEE]
    assert len(live.peers[SAM].rang()) == 1  # only the first call
    again.hang_up()
    third = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    third.wait_until_heard("To talk with a peer who shares an experience", timeout=60)
    assert not any("Welcome back" in words for words in third.heard)
    third.hang_up()
    assert lee.rang()


def test_no_question_when_the_peer_ended_the_call(live: LiveWarmline) -> None:
    live.import_roster(SLOW_WRAP_UP)
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    sam.rang()[0].hang_up()  # the peer ended it: a goodbye, not a drop
    assert call.wait_until_ended(timeout=60) == "completed"
    assert live.outcome_of(call.sid) == "connected"
    caller_hash = caller_identity(live.runtime.keys, CALLER, "")
    assert live.runtime.redis.exists(keys.voice_dropped_call(caller_hash)) == 0


def test_no_question_when_the_same_peer_cannot_take_a_call_now(live: LiveWarmline) -> None:
    sam_id = _call_that_drops(live)
    # Sam went off duty meanwhile: the caller is not asked for someone who cannot come.
    routing.set_presence(live.runtime, sam_id, Presence.OFF, utc_now())
    back = live.standin.caller(CALLER, press=RECOVERY).dial(LINE)
    back.wait_until_heard("To talk with a peer who shares an experience", timeout=60)
    assert not any("Welcome back" in words for words in back.heard)
    back.hang_up()
