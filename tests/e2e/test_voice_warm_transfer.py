"""Warm transfer from the dashboard (DESIGN step 8): bring someone in, brief them, hand over."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.bridged import CALLER, bridged_call, dashboard_page, sams_dashboard
from tests.support.dashboard import post_form, post_text
from tests.support.live import CRISIS, LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.models import ContactEvent


def test_the_peer_brings_in_the_crisis_line_briefs_them_and_hands_over(
    live: LiveWarmline,
) -> None:
    call, ring, sam_id = bridged_call(live)
    client = sams_dashboard(live)
    page = dashboard_page(client)
    assert "Ask the caller first" in page and 'id="transfer-crisis"' in page
    crisis_phone = live.standin.phone(CRISIS, answer_after=0.5)

    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    counselor = crisis_phone.wait_for_ring(timeout=60)
    live.wait_for(lambda: CRISIS in call.bridged_with(), timeout=60)
    live.wait_for(lambda: 'id="transfer-hand-over"' in dashboard_page(client), timeout=60)
    counselor.say("crisis line, I'm here")
    call.wait_until_heard("crisis line, I'm here", timeout=60)

    # The peer holds the caller and briefs the counselor: the caller hears music, not them.
    post_form(client, "/dashboard/transfer/hold", {"held": "1"})
    call.wait_until_heard("hold.wav", timeout=60)  # the hold audio, played by URL
    ring.say("they have been struggling since Tuesday")
    counselor.wait_until_heard("they have been struggling since Tuesday", timeout=60)
    assert "they have been struggling since Tuesday" not in call.heard
    post_form(client, "/dashboard/transfer/hold", {"held": "0"})
    live.wait_for(lambda: CRISIS in call.bridged_with() and SAM in call.bridged_with(), timeout=60)

    # Hand over: the peer leaves, the caller stays with the counselor.
    post_form(client, "/dashboard/transfer/hand-over")
    ring.wait_until_heard("The call has ended", timeout=60)
    assert live.outcome_of(call.sid) == "transferred_crisis"
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    assert call.status == "in-progress" and call.bridged_with() == [CRISIS]
    call.say("thank you for staying")
    counselor.wait_until_heard("thank you for staying", timeout=60)
    contact = live.contact_of_call(call.sid)
    assert contact is not None

    def transfer_details() -> list[object]:
        with live.runtime.sessions() as session:
            return [e.detail for e in session.scalars(select(ContactEvent).where(
                ContactEvent.contact_id == contact.id, ContactEvent.kind == "transferred"))]

    # The event log's job writes the transfer after the outcome: wait for it, not for the outcome.
    live.wait_for(transfer_details, timeout=60)
    assert transfer_details() == [{"to": "crisis", "warm": True}]  # anonymous: no number, no peer

    # The counselor ending the call ends the room: the caller is never left alone in it.
    counselor.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"
    assert "Your peer has ended the call" not in " ".join(call.heard)


def test_when_the_crisis_line_does_not_answer_the_peer_and_caller_go_on(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live)
    client = sams_dashboard(live)
    live.standin.phone(CRISIS, mode="no_answer")
    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    live.wait_for(lambda: 'id="transfer-failed"' in dashboard_page(client), timeout=120)
    assert call.bridged_with() == [SAM]
    assert 'id="transfer-crisis"' in dashboard_page(client)  # the peer may try again
    # The peer's leaving ends the room again (they were given back their hold on it).
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert live.outcome_of(call.sid) == "connected"


def test_the_admin_on_shift_can_be_brought_in_and_the_peer_can_stop(live: LiveWarmline) -> None:
    roster = ROSTER.replace('name: "Lee", phone: "+12125550103"',
                            'name: "Lee", phone: "+12125550103", role: admin')
    call, ring, _ = bridged_call(live, roster)
    client = sams_dashboard(live)
    lee = live.standin.phone(LEE, answer_after=0.5)
    post_form(client, "/dashboard/transfer", {"target": "admin"})
    admin = lee.wait_for_ring(timeout=60)
    live.wait_for(lambda: LEE in call.bridged_with(), timeout=60)
    live.wait_for(lambda: 'id="transfer-cancel"' in dashboard_page(client), timeout=60)
    post_form(client, "/dashboard/transfer/cancel")
    assert admin.wait_until_ended(timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    ring.hang_up()
    assert live.outcome_of(call.sid) == "connected"


def test_nothing_to_transfer_without_a_call(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    client = sams_dashboard(live)
    assert "not on a call" in post_text(client, "/dashboard/transfer", target="crisis")


MENTOR_ROSTER = ROSTER.replace('name: "Lee", phone: "+12125550103"',
                               'name: "Lee", phone: "+12125550103", mentor: true')


def test_a_mentor_listens_in_heard_by_the_peer_only_until_the_peer_lets_them_speak(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live, MENTOR_ROSTER)
    client = sams_dashboard(live)
    lee = live.standin.phone(LEE, answer_after=0.5)
    post_form(client, "/dashboard/mentor")
    heads_up = lee.wait_for_text("asked for support on a call", timeout=60)
    assert "Sam" in heads_up.body and CALLER not in heads_up.body and heads_up.from_ == LINE
    mentor = lee.wait_for_ring(timeout=60)
    # The caller is told that a second person is on the line; only the peer hears the mentor.
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    live.wait_for(lambda: LEE in ring.bridged_with(), timeout=60)
    assert LEE not in call.bridged_with()
    mentor.say("ask how they slept")
    ring.wait_until_heard("ask how they slept", timeout=60)
    call.say("I could not sleep")
    mentor.wait_until_heard("I could not sleep", timeout=60)
    assert "ask how they slept" not in call.heard
    live.wait_for(lambda: 'id="mentor-speak"' in dashboard_page(client), timeout=60)
    post_form(client, "/dashboard/mentor/speak")
    live.wait_for(lambda: LEE in call.bridged_with(), timeout=60)
    mentor.say("hello, I'm here too")
    call.wait_until_heard("hello, I'm here too", timeout=60)
    ring.hang_up()
    assert live.outcome_of(call.sid) == "connected"


def test_no_mentor_on_shift_is_said_plainly(live: LiveWarmline) -> None:
    bridged_call(live)  # nobody in this roster is a mentor or an admin
    client = sams_dashboard(live)
    assert "No mentor is free on shift" in post_text(client, "/dashboard/mentor")


def test_the_peer_hanging_up_while_the_crisis_line_rings_leaves_the_caller_with_them(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live)
    client = sams_dashboard(live)
    crisis_phone = live.standin.phone(CRISIS, mode="manual")
    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    counselor = crisis_phone.wait_for_ring(timeout=60)
    ring.hang_up()  # the peer goes before the counselor answers
    assert live.outcome_of(call.sid) == "connected"
    assert call.status == "in-progress"  # still in the room, waiting for the counselor
    counselor.answer()
    live.wait_for(lambda: call.bridged_with() == [CRISIS], timeout=60)
    # The counselor is the caller's now: their leaving (even before the app heard that they
    # joined) ends the call, nobody is left alone in the room.
    counselor.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"


def test_the_peer_gone_and_nobody_answering_the_caller_hears_a_word_not_an_empty_room(
    live: LiveWarmline,
) -> None:
    call, ring, _ = bridged_call(live)
    client = sams_dashboard(live)
    crisis_phone = live.standin.phone(CRISIS, mode="manual")
    post_form(client, "/dashboard/transfer", {"target": "crisis"})
    crisis_phone.wait_for_ring(timeout=60)
    ring.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    # The crisis line never answers: its leg gives up, and the caller is taken out of the room.
    call.wait_until_heard("Your peer has ended the call", timeout=120)
    assert call.wait_until_ended(timeout=60) == "completed"
