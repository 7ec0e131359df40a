"""After a busy stretch of calls, no caller's number is in a log line, SQL row, job or Redis."""

from __future__ import annotations

from tests.support.live import LEE, LINE, ROSTER, SAM, LiveWarmline
from tests.support.privacy import LogCapture, assert_nowhere, number_forms

CALLERS = ["+15005550011", "+15005550012", "+15005550013", "+15005550014"]


def test_no_caller_number_anywhere_after_calls(live: LiveWarmline, logs: LogCapture) -> None:
    live.import_roster(ROSTER)
    live.peer(SAM)
    live.peer(LEE, mode="no_answer")
    live.go_available(live.peer_id("sam@example.org"), live.peer_id("lee@example.org"))
    bridged = live.standin.caller(CALLERS[0], press={"For Substance use recovery": "1"}).dial(LINE)
    bridged.wait_until_bridged(timeout=60)
    in_menu = live.standin.caller(CALLERS[1]).dial(LINE)
    in_menu.wait_until_heard("not a crisis line", timeout=60)
    in_menu.hang_up()
    callback = live.standin.caller(CALLERS[2], press={
        "For Veteran": "4", "To be called back instead, press 1": "1", "To use it, press 1": "1",
        "as soon as a peer is free, press 1": "1", "Press 1 for yes": "1"}).dial(LINE)
    callback.wait_until_heard("A peer will call you back", timeout=60)
    crisis = live.standin.caller(CALLERS[3], press={"press 0": "9"}).dial(LINE)
    crisis.wait_until_heard("crisis counselor now", timeout=60)
    bridged.hang_up()
    for call in (bridged, in_menu, crisis):
        live.outcome_of(call.sid)

    needles = [form for number in CALLERS for form in number_forms(number)]
    assert len(logs.lines) > 20, "the capture saw the app's logging"
    # Redis: nothing in clear; the callback draft is gone, the live call state holds no number.
    assert_nowhere(live.runtime, logs, needles)


def test_no_caller_number_anywhere_after_a_transfer_a_mentor_and_a_reconnect(
    live: LiveWarmline, logs: LogCapture,
) -> None:
    """The conference features hold the same line: a dropped call linked to its peer, a mentor
    rung in, the crisis line brought in and handed over leave no number behind."""
    from datetime import UTC, datetime

    from tests.support.dashboard import post_form, sign_in
    from tests.support.live import CRISIS
    from warmline.services.accounts.users import set_password

    caller = CALLERS[0]
    live.import_roster(ROSTER.replace("wrap_up_seconds: 2", "wrap_up_seconds: 600").replace(
        'name: "Lee", phone: "+12125550103"', 'name: "Lee", phone: "+12125550103", mentor: true'))
    sam = live.peer(SAM)
    live.standin.phone(LEE, answer_after=0.5)
    live.standin.phone(CRISIS, answer_after=0.5)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    first = live.standin.caller(caller, press={"For Substance use recovery": "1"}).dial(LINE)
    assert first.wait_until_bridged(timeout=60) == [SAM]
    first.hang_up()  # dropped: the link to Sam is kept for ten minutes
    sam.rang()[0].wait_until_heard("The call has ended", timeout=60)
    sam.rang()[0].wait_until_ended(timeout=60)  # Sam's phone is free again (else: busy)
    live.wait_for(lambda: live.presence(sam_id) == "wrap_up", timeout=60)
    live.wait_for(lambda: live.runtime.redis.keys("wl:voice:dropped:*"), timeout=60)
    again = live.standin.caller(caller, press={"Welcome back": "1"}).dial(LINE)
    assert again.wait_until_bridged(timeout=60) == [SAM]
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", "correct horse battery staple",
                     now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", "correct horse battery staple")
    post_form(client, "/dashboard/mentor")
    again.wait_until_heard("Another peer has joined this call", timeout=60)
    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    live.wait_for(lambda: CRISIS in again.bridged_with(), timeout=60)
    live.wait_for(lambda: b"joined" in (live.runtime.redis.hget(
        next(iter(live.runtime.redis.keys("wl:voice:contact:*:transfer"))), "stage") or b""),
        timeout=60)
    post_form(client, "/dashboard/transfer/hand-over")
    assert live.outcome_of(again.sid) == "transferred_crisis"
    again.hang_up()

    assert_nowhere(live.runtime, logs, number_forms(caller))


def test_no_caller_number_anywhere_after_a_transfer_to_another_peer(
    live: LiveWarmline, logs: LogCapture,
) -> None:
    """A peer found through routing and handed the call: the linked contact, its offer, its
    ring and the room's callbacks hold no number either."""
    from datetime import UTC, datetime

    from tests.support.dashboard import post_form, sign_in
    from warmline.services.accounts.users import set_password

    caller = CALLERS[1]
    live.import_roster(ROSTER)
    sam = live.peer(SAM)
    lee = live.peer(LEE)
    live.go_available(live.peer_id("sam@example.org"))
    call = live.standin.caller(caller, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    live.go_available(live.peer_id("lee@example.org"))
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", "correct horse battery staple",
                     now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", "correct horse battery staple")
    post_form(client, "/dashboard/transfer", {"target": "peer"})
    live.wait_for(lambda: LEE in call.bridged_with(), timeout=60)
    live.wait_for(lambda: b"joined" in (live.runtime.redis.hget(
        next(iter(live.runtime.redis.keys("wl:voice:contact:*:transfer"))), "stage") or b""),
        timeout=60)
    post_form(client, "/dashboard/transfer/hand-over")
    sam.rang()[0].wait_until_heard("The call has ended", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    lee.rang()[0].hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"

    assert_nowhere(live.runtime, logs, number_forms(caller))
