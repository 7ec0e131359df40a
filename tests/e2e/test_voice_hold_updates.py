"""Hold updates say only what is true, through the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.live import LINE, ROSTER, SAM, LiveWarmline
from warmline.domain.matching import Presence
from warmline.services import routing

FREE_SOON = "A peer will be with you as soon as one is free."
ALL_TALKING = "All of our peers are talking with callers right now."
ANYONE = {"next available peer, press 0.": "0"}


def _set(live: LiveWarmline, email: str, presence: Presence) -> None:
    change = routing.set_presence(live.runtime, live.peer_id(email), presence, datetime.now(UTC))
    assert change.presence == presence, change


def test_peers_on_shift_but_none_available_is_not_called_talking_with_callers(
        live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    live.go_available(live.peer_id("sam@example.org"))
    _set(live, "sam@example.org", Presence.BREAK)  # Lee stays off; nobody talks to anyone
    call = live.standin.caller("+15005550006", press=ANYONE).dial(LINE)
    call.wait_until_heard(FREE_SOON, timeout=60)
    call.wait_until_heard("You are number 1 in line.", timeout=60)
    assert not any("talking with" in words or "with callers" in words for words in call.heard)
    call.hang_up()


def test_talking_with_callers_only_while_every_peer_who_could_answer_is(
        live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    first = live.standin.caller("+15005550006", press={"For Substance use recovery": "1"}
                                ).dial(LINE)
    assert first.wait_until_bridged(timeout=60) == [SAM]
    second = live.standin.caller("+15005550007", press=ANYONE).dial(LINE)
    second.wait_until_heard(ALL_TALKING, timeout=60)
    second.wait_until_heard("You are number 1 in line.", timeout=60)
    # Lee (on shift, off until now) takes a break: not everyone is on a call any more.
    _set(live, "lee@example.org", Presence.BREAK)
    heard_before = len(second.heard)
    live.wait_for(lambda: FREE_SOON in second.heard[heard_before:], timeout=60)
    second.hang_up()
    first.hang_up()
