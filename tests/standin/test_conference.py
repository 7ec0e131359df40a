"""`<Dial><Conference>`, the Conferences and Participants REST resources, and their callbacks."""

from __future__ import annotations

from typing import Any

from config import Settings
from tests.support.twiml_app import CALLER, LINE, PEER, TwimlApp, standin_gateway, wait
from warmline.standin import Standin

MENTOR = "+15550004000"
COUNSELOR = "+15550005000"


def _room(twiml: TwimlApp, *, peer_ends: bool = False, events: str = "start end join leave "
          "hold mute modify announcement") -> str:
    def voice(form: dict[str, str]) -> str:
        is_caller = form["From"] == CALLER
        end = "true" if is_caller or peer_ends else "false"
        star = "" if is_caller else " hangupOnStar='true'"
        return (f"<Response><Dial action='/after'{star}><Conference beep='false' "
                f"endConferenceOnExit='{end}' statusCallback='/room-status' "
                f"statusCallbackEvent='{events}'>room</Conference></Dial></Response>")

    twiml.on("/after", lambda f: "<Response><Say>Out of the room</Say><Pause length='30'/>"
                                 "</Response>")
    return twiml.on("/voice", voice)


def _two_in_a_room(standin: Standin, twiml: TwimlApp, **options: Any) -> tuple[Any, Any]:
    standin.add_number(LINE, voice_url=_room(twiml, **options))
    caller = standin.caller(CALLER).dial(LINE)
    wait(lambda: standin.net.conferences.get("room"))
    peer = standin.caller(PEER).dial(LINE)
    assert peer.wait_until_bridged() == [CALLER]
    return caller, peer


def _events(twiml: TwimlApp) -> list[tuple[str, str]]:
    return [(s.form["StatusCallbackEvent"], s.form.get("CallSid", ""))
            for s in twiml.requests("/room-status")]


def test_the_room_reports_join_start_leave_and_end_in_sequence(standin: Standin,
                                                              twiml: TwimlApp) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    caller.hang_up()
    peer.wait_until_heard("Out of the room")
    seen = twiml.wait_for("/room-status", 6)
    assert [s.form["SequenceNumber"] for s in seen] == [str(n) for n in range(len(seen))]
    assert _events(twiml)[:3] == [("participant-join", caller.sid),
                                  ("conference-start", ""), ("participant-join", peer.sid)]
    ended = next(s.form for s in seen if s.form["StatusCallbackEvent"] == "conference-end")
    assert ended["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert ended["CallSidEndingConference"] == caller.sid
    assert ended["FriendlyName"] == "room"


def test_rest_finds_the_room_by_name_and_holds_mutes_and_ends_it(standin: Standin,
                                                                twiml: TwimlApp) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    client = standin.client()
    [room] = client.conferences.list(friendly_name="room", status="in-progress")
    assert room.friendly_name == "room"
    assert {p.call_sid for p in client.conferences(room.sid).participants.list()} == {
        caller.sid, peer.sid}
    held = client.conferences(room.sid).participants(caller.sid).update(hold=True)
    assert held.hold is True
    peer.say("can you hear me")
    assert peer.bridged_with() == []
    # What the phone page shows: the held caller hears nobody and nobody hears them.
    assert caller.mix() == {"hears": [], "heard_by": [], "on_hold": True, "muted": False,
                            "coaching": None}
    caller.wait_until_heard("holdmusic")
    assert "can you hear me" not in caller.heard
    client.conferences(room.sid).participants(caller.sid).update(hold=False)
    assert peer.wait_until_bridged() == [CALLER]
    client.conferences(room.sid).participants(peer.sid).update(muted=True)
    peer.say("muted words")
    caller.say("you are muted")
    peer.wait_until_heard("you are muted")
    assert "muted words" not in caller.heard
    wanted = {"participant-hold", "participant-unhold", "participant-mute"}
    wait(lambda: wanted <= {kind for kind, _sid in _events(twiml)})
    client.conferences(room.sid).update(status="completed")
    caller.wait_until_heard("Out of the room")
    peer.wait_until_heard("Out of the room")
    assert client.conferences(room.sid).fetch().status == "completed"


def test_a_coach_added_by_rest_is_heard_by_the_coached_peer_only(standin: Standin,
                                                                 twiml: TwimlApp) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    mentor_phone = standin.phone(MENTOR)
    client = standin.client()
    added = client.conferences("room").participants.create(
        from_=LINE, to=MENTOR, coaching=True, call_sid_to_coach=peer.sid,
        end_conference_on_exit=False, beep="false")
    assert added.coaching is True and added.call_sid_to_coach == peer.sid
    mentor = mentor_phone.wait_for_ring()
    wait(lambda: MENTOR in peer.bridged_with())
    assert MENTOR not in caller.bridged_with()
    # The coach hears both; only the peer hears the coach; the caller is heard by both.
    assert mentor.mix() == {"hears": [CALLER, PEER], "heard_by": [PEER], "on_hold": False,
                            "muted": False, "coaching": PEER}
    assert caller.mix()["hears"] == [PEER] and set(caller.mix()["heard_by"]) == {PEER, MENTOR}
    mentor.say("ask how they slept")
    peer.wait_until_heard("ask how they slept")
    caller.say("I could not sleep")
    mentor.wait_until_heard("I could not sleep")
    assert "ask how they slept" not in caller.heard
    # Coaching off: the mentor joins the conversation, and the caller hears them.
    [room] = client.conferences.list(friendly_name="room")
    client.conferences(room.sid).participants(mentor.sid).update(coaching=False)
    mentor.say("hello, I'm here too")
    caller.wait_until_heard("hello, I'm here too")
    wait(lambda: any(kind == "participant-modify" for kind, _sid in _events(twiml)))


def test_star_with_hangup_on_star_and_rest_delete_leave_the_room_and_the_call_goes_on(
    standin: Standin, twiml: TwimlApp,
) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    peer.press("*")
    peer.wait_until_heard("Out of the room")
    assert caller.bridged_with() == []
    assert caller.status == "in-progress"
    # Only the peer's Dial ended: their call goes on to its action, live; the room goes on.
    after_star = twiml.requests("/after")[0].form
    assert after_star["CallSid"] == peer.sid and after_star["CallStatus"] == "in-progress"
    wait(lambda: ("participant-leave", peer.sid) in _events(twiml))
    assert not standin.net.conferences["room"].ended
    client = standin.client()
    [room] = client.conferences.list(friendly_name="room")
    client.conferences(room.sid).participants(caller.sid).delete()
    caller.wait_until_heard("Out of the room")
    assert twiml.requests("/after")[0].form["DialCallStatus"] == "completed"


def test_star_from_a_participant_who_ends_the_room_ends_it_for_everyone(
    standin: Standin, twiml: TwimlApp,
) -> None:
    caller, peer = _two_in_a_room(standin, twiml, peer_ends=True)
    peer.press("*")
    peer.wait_until_heard("Out of the room")
    caller.wait_until_heard("Out of the room")
    ended = next(s.form for s in twiml.wait_for("/room-status", 6)
                 if s.form["StatusCallbackEvent"] == "conference-end")
    assert ended["CallSidEndingConference"] == peer.sid
    assert peer.status == "in-progress"  # `*` left the room, not the call


def test_an_announcement_is_heard_by_everyone_in_the_room(standin: Standin,
                                                          twiml: TwimlApp) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    url = twiml.on("/announce", "<Response><Say>A second person has joined</Say></Response>")
    client = standin.client()
    [room] = client.conferences.list(friendly_name="room")
    client.conferences(room.sid).update(announce_url=url)
    caller.wait_until_heard("A second person has joined")
    peer.wait_until_heard("A second person has joined")


def test_the_gateway_ends_a_room_and_everyone_goes_on_to_their_dial_action(
    standin: Standin, twiml: TwimlApp, settings: Settings,
) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    gateway = standin_gateway(standin, settings)
    room = gateway.live_conference("room")
    assert room is not None
    gateway.end_conference(room)
    caller.wait_until_heard("Out of the room")
    peer.wait_until_heard("Out of the room")
    assert gateway.live_conference("room") is None
    gateway.end_conference(room)  # over already: nothing to do, no error
    ended = next(s.form for s in twiml.wait_for("/room-status", 6)
                 if s.form["StatusCallbackEvent"] == "conference-end")
    assert ended["ReasonConferenceEnded"] == "conference-ended-via-api"


def test_the_gateway_says_who_is_in_a_room_and_who_is_not(
    standin: Standin, twiml: TwimlApp, settings: Settings,
) -> None:
    caller, peer = _two_in_a_room(standin, twiml)
    gateway = standin_gateway(standin, settings)
    room = gateway.live_conference("room")
    assert room is not None
    assert gateway.in_conference(room, caller.sid) and gateway.in_conference(room, peer.sid)
    assert not gateway.in_conference(room, "CA" + "f" * 32)  # never joined: a 404, not an error
    peer.hang_up()
    wait(lambda: not gateway.in_conference(room, peer.sid))
