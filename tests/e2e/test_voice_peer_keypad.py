"""The peer's keypad during the call (DESIGN step 8), for a peer without a screen: `*` steps out of
the room to a short menu while the caller waits on hold in it; 9 brings in the crisis line, 5 asks
a mentor, 0 or silence goes back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.support.dashboard import post_form, sign_in
from tests.support.live import CRISIS, LEE, LINE, ROSTER, SAM, LiveWarmline, running_warmline
from tests.support.services import TEST_AUTH_TOKEN
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.services.accounts.users import set_password
from warmline.standin import CallbackOrder, CallbackPolicy, PhoneCall
from warmline.voice import urls

CALLER = "+15005550006"
MENU = "To go back to your caller, press 0."
MENTOR_ROSTER = ROSTER.replace('name: "Lee", phone: "+12125550103"',
                               'name: "Lee", phone: "+12125550103", mentor: true')


def _bridged_call(live: LiveWarmline, roster: str = ROSTER,
                  choice: str | None = None) -> tuple[PhoneCall, PhoneCall, int]:
    """A bridged call with Sam; `choice` is what Sam presses on hearing the keypad's menu (None:
    nothing, the menu's silence)."""
    live.import_roster(roster)
    sam = live.peer(SAM, press={"Press 1 to accept": "1", **({MENU: choice} if choice else {})})
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = live.standin.caller(CALLER, press={"For Substance use recovery": "1"}).dial(LINE)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    ring = sam.rang()[0]
    ring.wait_until_heard("During the call, press star for options.", timeout=60)
    return call, ring, sam_id


def _step_out(live: LiveWarmline, call: PhoneCall, ring: PhoneCall, menus_before: int = 0) -> None:
    """`*`: the peer hears the menu; the caller stays in the room, on hold music."""
    holds_before = sum("hold.wav" in heard for heard in call.heard)
    ring.press("*")
    live.wait_for(lambda: sum(MENU in heard for heard in ring.heard) > menus_before, timeout=60)
    live.wait_for(lambda: sum("hold.wav" in heard for heard in call.heard) > holds_before,
                  timeout=60)
    # The peer left the room (silence may have brought them back since); the caller never did.
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    assert len(live.standin.events("conference_left", call_sid=ring.sid)) > menus_before
    assert not live.standin.events("conference_left", call_sid=call.sid)
    assert call.sid in {p.leg.sid for p in live.standin.net.conferences[contact.id].participants}


def _answers_valid(live: LiveWarmline, *calls: PhoneCall) -> None:
    for call in calls:
        answers = [e for e in live.standin.events("webhook", call_sid=call.sid)
                   if e.data["purpose"] in ("voice", "voice_fallback")
                   and e.data["status"] == 200]
        assert answers
        for event in answers:
            assert_valid_voice_twiml(event.data["body"])
    assert not live.standin.events("schema_failure")
    assert not live.standin.events("application_error")


def test_star_steps_out_to_the_menu_and_0_brings_the_peer_back(live: LiveWarmline) -> None:
    call, ring, sam_id = _bridged_call(live, choice="0")
    _step_out(live, call, ring)
    ring.wait_until_heard("Back to your caller.", timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    assert not any("Your caller is on hold" in heard for heard in call.heard)  # the peer's only
    assert ("Back to your caller.", "Polly.Joanna-Neural", "en-US") in ring.said()
    call.say("are you still there")
    ring.wait_until_heard("are you still there", timeout=60)
    assert live.presence(sam_id) == "busy"
    assert live.contact_of_call(call.sid) is not None
    # The peer really hanging up still ends the call for the caller, with the word after.
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    assert live.outcome_of(call.sid) == "connected"
    assert live.event_kinds(call.sid).count("ended") == 1
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    _answers_valid(live, call, ring)


def test_silence_at_the_menu_goes_back_to_the_caller_and_star_works_again(
    live: LiveWarmline,
) -> None:
    call, ring, _ = _bridged_call(live)
    _step_out(live, call, ring)
    ring.wait_until_heard("Back to your caller.", timeout=60)  # nothing pressed: back
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    _step_out(live, call, ring, menus_before=1)  # and again, as often as the peer needs
    live.wait_for(lambda: sum("Back to your caller." in h for h in ring.heard) == 2, timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    # The caller hanging up ends it as ever: the peer hears that the call ended.
    call.hang_up()
    ring.wait_until_heard("The call has ended", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    _answers_valid(live, call, ring)


def test_the_peer_hanging_up_at_the_menu_ends_the_call_once(live: LiveWarmline) -> None:
    call, ring, sam_id = _bridged_call(live)
    _step_out(live, call, ring)
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert call.wait_until_ended(timeout=60) == "completed"
    assert live.outcome_of(call.sid) == "connected"
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    assert live.event_kinds(call.sid).count("ended") == 1


def test_the_caller_hanging_up_while_the_peer_is_at_the_menu_ends_the_call(
    live: LiveWarmline,
) -> None:
    call, ring, sam_id = _bridged_call(live)
    _step_out(live, call, ring)
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    # Back (silence) to a caller who has gone: told kindly, and the call ends.
    ring.wait_until_heard("The call has ended", timeout=60)
    assert ring.wait_until_ended(timeout=60) == "completed"
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    assert live.event_kinds(call.sid).count("ended") == 1
    _answers_valid(live, call, ring)


def test_9_brings_in_the_crisis_line_and_the_peer_hands_over_by_hanging_up(
    live: LiveWarmline,
) -> None:
    call, ring, sam_id = _bridged_call(live, choice="9")
    crisis_phone = live.standin.phone(CRISIS, answer_after=0.5)
    _step_out(live, call, ring)
    ring.wait_until_heard("We're calling the crisis line into your call.", timeout=60)
    counselor = crisis_phone.wait_for_ring(timeout=60)
    live.wait_for(lambda: sorted(call.bridged_with()) == sorted([SAM, CRISIS]), timeout=60)
    counselor.say("crisis line, I'm here")
    call.wait_until_heard("crisis line, I'm here", timeout=60)
    ring.wait_until_heard("crisis line, I'm here", timeout=60)
    # Then the transfer as from the dashboard: the peer leaving hands the caller over.
    ring.hang_up()
    assert live.outcome_of(call.sid) == "transferred_crisis"
    live.wait_for(lambda: live.presence(sam_id) in ("wrap_up", "available"), timeout=60)
    live.wait_for(lambda: call.bridged_with() == [CRISIS], timeout=60)
    call.say("thank you for staying")
    counselor.wait_until_heard("thank you for staying", timeout=60)
    counselor.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"
    assert "Your peer has ended the call" not in " ".join(call.heard)
    _answers_valid(live, call, ring)


def test_star_while_the_crisis_line_rings_and_a_hang_up_leave_the_caller_off_hold_for_them(
    live: LiveWarmline,
) -> None:
    call, ring, _ = _bridged_call(live, choice="9")
    crisis_phone = live.standin.phone(CRISIS, mode="manual")
    with live.runtime.sessions() as session:
        set_password(session, "sam@example.org", "correct horse battery staple",
                     now=datetime.now(UTC))
        session.commit()
    client = live.app.test_client()
    sign_in(client, "sam@example.org", "correct horse battery staple")
    post_form(client, "/dashboard/transfer", {"target": "crisis"})  # from the dashboard first
    counselor = crisis_phone.wait_for_ring(timeout=60)
    _step_out(live, call, ring)  # 9 again: they are on their way already
    ring.wait_until_heard("Someone is already being brought into this call.", timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    _step_out(live, call, ring, menus_before=1)
    ring.hang_up()  # at the menu (or just back): the caller waits for the counselor
    assert live.outcome_of(call.sid) == "connected"
    counselor.answer()
    live.wait_for(lambda: call.bridged_with() == [CRISIS], timeout=60)
    counselor.say("crisis line, I'm here")
    call.wait_until_heard("crisis line, I'm here", timeout=60)
    counselor.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"


def test_5_rings_a_mentor_who_coaches_the_peer(live: LiveWarmline) -> None:
    call, ring, _ = _bridged_call(live, MENTOR_ROSTER, choice="5")
    lee = live.standin.phone(LEE, answer_after=0.5)
    _step_out(live, call, ring)
    ring.wait_until_heard("We're asking a mentor to join you.", timeout=60)
    mentor = lee.wait_for_ring(timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    call.wait_until_heard("Another peer has joined this call", timeout=60)
    live.wait_for(lambda: LEE in ring.bridged_with(), timeout=60)
    mentor.say("ask how they slept")
    ring.wait_until_heard("ask how they slept", timeout=60)
    assert "ask how they slept" not in call.heard
    ring.hang_up()
    call.wait_until_heard("Your peer has ended the call", timeout=60)
    assert live.outcome_of(call.sid) == "connected"
    assert mentor.wait_until_ended(timeout=60)


def test_without_a_mentor_on_shift_5_says_so_and_goes_back(live: LiveWarmline) -> None:
    call, ring, _ = _bridged_call(live, choice="5")
    _step_out(live, call, ring)
    ring.wait_until_heard("No mentor is free right now. Back to your caller.", timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    keypad = [e for e in live.standin.events("webhook", call_sid=ring.sid)
              if urlsplit(e.data["url"]).path == urls.PEER_KEYPAD]
    assert keypad
    ring.hang_up()
    assert call.wait_until_ended(timeout=60) == "completed"


def _post_signed(live: LiveWarmline, path: str, query: dict[str, str],
                 params: dict[str, str]) -> None:
    url = urls.absolute(live.url, path, **query)
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    answer = requests.post(url, data=params, headers={"X-Twilio-Signature": signature},
                           timeout=30)
    assert answer.status_code == 200 and "<Response" in answer.text
    assert_valid_voice_twiml(answer.text)


@pytest.mark.parametrize("order", [CallbackOrder.REVERSED, CallbackOrder.SHUFFLED])
def test_star_then_a_hang_up_with_callbacks_twice_and_out_of_order_end_the_call_once(
    database_url: str, tmp_path: Path, order: CallbackOrder,
) -> None:
    policy = CallbackPolicy(duplicate=True, order=order, seed=7)
    with running_warmline(database_url, tmp_path, standin_options={"callbacks": policy}) as live:
        call, ring, sam_id = _bridged_call(live, choice="0")
        ring.press("*")
        ring.wait_until_heard(MENU, timeout=60)
        live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
        assert live.contact_of_call(call.sid) is not None
        assert live.presence(sam_id) == "busy"  # the room's `*` leave ended nothing
        ring.hang_up()
        call.wait_until_heard("Your peer has ended the call", timeout=60)
        assert call.wait_until_ended(timeout=60) == "completed"
        assert live.outcome_of(call.sid) == "connected"
        live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
        before = sorted(live.event_kinds(call.sid))
        assert before.count("ended") == 1
        # The peer's leg and Dial action told again, late: nothing changes, nothing moves back.
        contact = live.contact_of_call(call.sid)
        assert contact is not None and contact.offer_id is not None
        done = {"CallSid": ring.sid, "CallStatus": "completed", "AccountSid": "AC" + "0" * 32,
                "DialCallStatus": "completed"}
        for _ in range(2):
            _post_signed(live, urls.PEER_STATUS, {"offer": contact.offer_id}, done)
            _post_signed(live, urls.PEER_DIAL_DONE, {"offer": contact.offer_id}, done)
        assert sorted(live.event_kinds(call.sid)) == before
        assert live.presence(sam_id) == "available"
        assert not live.pump.errors
