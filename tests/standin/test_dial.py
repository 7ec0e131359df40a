"""`<Dial>` with numbers, whispers, caller ID, outcomes and conferences; machine detection."""

from __future__ import annotations

import pytest

from tests.support.twiml_app import CALLER, LINE, PEER, TwimlApp
from warmline.standin import Standin

CRISIS = "+15550009988"


def line(standin: Standin, twiml: TwimlApp, doc: str) -> None:
    standin.add_number(LINE, voice_url=twiml.on("/voice", doc))
    twiml.on("/after", lambda f: f"<Response><Say>Dial said {f['DialCallStatus']}</Say>"
                                 "</Response>")


def test_whisper_then_bridge_with_default_caller_id(standin: Standin, twiml: TwimlApp) -> None:
    line(standin, twiml, f"<Response><Dial action='/after' timeout='20'>"
                         f"<Number url='/whisper'>{PEER}</Number></Dial></Response>")
    twiml.on("/whisper", "<Response><Gather action='/screen' numDigits='1'>"
                         "<Say>Press 1 to take this call</Say></Gather><Hangup/></Response>")
    twiml.on("/screen", "<Response><Say>Connecting</Say></Response>")
    peer = standin.peer_phone(PEER)
    caller = standin.caller(CALLER).dial(LINE)
    ring = peer.wait_for_ring()
    assert ring.caller_id == CALLER  # Twilio's default callerId: the caller's own number
    ring.answer()
    ring.wait_until_heard("Press 1")
    assert "Press 1 to take this call" not in caller.heard  # the whisper is the callee's only
    ring.press("1")
    assert caller.wait_until_bridged() == [PEER]
    whisper = twiml.requests("/whisper")[0].form
    assert whisper["Direction"] == "outbound-dial" and whisper["ParentCallSid"] == caller.sid
    caller.say("hello peer")
    ring.wait_until_heard("hello peer")
    ring.hang_up()
    caller.wait_until_heard("Dial said completed")
    after = twiml.requests("/after")[0].form
    assert after["DialBridged"] == "true" and after["DialCallSid"] == ring.sid
    assert int(after["DialCallDuration"]) >= 0


def test_whisper_that_hangs_up_never_bridges(standin: Standin, twiml: TwimlApp) -> None:
    line(standin, twiml, f"<Response><Dial action='/after'><Number url='/whisper'>{PEER}"
                         "</Number></Dial></Response>")
    twiml.on("/whisper", "<Response><Say>Not now</Say><Hangup/></Response>")
    peer = standin.peer_phone(PEER, mode="answer")
    caller = standin.caller(CALLER).dial(LINE)
    caller.wait_until_heard("Dial said completed")
    after = twiml.requests("/after")[0].form
    assert after["DialBridged"] == "false"
    assert peer.rang()[0].wait_until_ended() == "completed"
    assert not standin.events("bridged")


@pytest.mark.parametrize(("mode", "status"), [
    ("busy", "busy"), ("no_answer", "no-answer"), ("decline", "busy"), ("fail", "failed")])
def test_dial_outcomes(standin: Standin, twiml: TwimlApp, mode: str, status: str) -> None:
    line(standin, twiml, f"<Response><Dial action='/after' timeout='3' callerId='{LINE}'>"
                         f"{PEER}</Dial></Response>")
    standin.phone(PEER, mode, answer_after=1)
    caller = standin.caller(CALLER).dial(LINE)
    caller.wait_until_heard(f"Dial said {status}", timeout=60)
    rings = standin.events("ring")
    if status in ("no-answer", "busy") and mode != "busy":
        assert rings[0].data["caller_id"] == LINE  # callerId as given
    assert "DialCallDuration" not in twiml.requests("/after")[0].form


def test_dial_without_action_continues_and_caller_hang_up_ends_child(
        standin: Standin, twiml: TwimlApp) -> None:
    line(standin, twiml, f"<Response><Dial>{PEER}</Dial><Say>After dial</Say></Response>")
    peer = standin.phone(PEER, answer_after=0.5, hang_up_after=2)
    caller = standin.caller(CALLER).dial(LINE)
    caller.wait_until_bridged()
    caller.wait_until_heard("After dial")
    assert peer.rang()[0].wait_until_ended() == "completed"


def test_first_of_two_numbers_to_answer_wins(standin: Standin, twiml: TwimlApp) -> None:
    other = "+15550002001"
    line(standin, twiml, f"<Response><Dial action='/after'><Number>{PEER}</Number>"
                         f"<Number>{other}</Number></Dial></Response>")
    slow = standin.phone(PEER, answer_after=5)
    standin.phone(other, answer_after=0.5)
    caller = standin.caller(CALLER).dial(LINE)
    assert caller.wait_until_bridged() == [other]
    assert slow.rang()[0].wait_until_ended() == "canceled"


def test_conference_bridges_everyone_until_the_end_on_exit(standin: Standin,
                                                           twiml: TwimlApp) -> None:
    def voice(form: dict[str, str]) -> str:
        end = "true" if form["From"] == CALLER else "false"
        return (f"<Response><Dial action='/after'><Conference endConferenceOnExit='{end}'>room"
                "</Conference></Dial></Response>")

    standin.add_number(LINE, voice_url=twiml.on("/voice", voice))
    twiml.on("/after", lambda f: f"<Response><Say>Left {f['DialCallStatus']}</Say></Response>")
    host = standin.caller(CALLER).dial(LINE)
    guest = standin.caller(PEER).dial(LINE)
    assert guest.wait_until_bridged() == [CALLER]
    host.say("welcome to the room")
    guest.wait_until_heard("welcome to the room")
    host.hang_up()
    guest.wait_until_heard("Left completed")


def test_machine_detection_reports_answered_by(standin: Standin, twiml: TwimlApp) -> None:
    standin.add_number(LINE)
    url = twiml.on("/amd", lambda f: f"<Response><Say>{f.get('AnsweredBy')}</Say>"
                                      "<Pause length='5'/></Response>")
    hook = twiml.on("/async", "")
    standin.phone(PEER, "voicemail", answer_after=1)
    human = "+15550002002"
    standin.phone(human, answer_after=0.5)
    client = standin.client()
    client.calls.create(to=PEER, from_=LINE, url=url, machine_detection="Enable")
    client.calls.create(to=human, from_=LINE, url=url, machine_detection="DetectMessageEnd",
                        async_amd="true", async_amd_status_callback=hook)
    answered = {s.form["To"]: s.form.get("AnsweredBy") for s in twiml.wait_for("/amd", 2)}
    assert answered == {PEER: "machine_start", human: None}
    assert twiml.wait_for("/async")[0].form["AnsweredBy"] == "human"
