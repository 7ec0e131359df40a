"""A call from the first ring to the peer's wrap-up, through the stand-in."""

from __future__ import annotations

import pytest

from tests.support.live import BACKUP, CRISIS, LEE, LINE, ROSTER, SAM, LiveWarmline
from warmline.voice.state import CallState

CALLER = "+15005550006"
OTHER_CALLER = "+15005550007"


def _recovery_caller(live: LiveWarmline, number: str = CALLER, **behaviour: object):  # type: ignore[no-untyped-def]
    return live.standin.caller(number, press={"For Substance use recovery": "1"}, **behaviour)


def test_a_caller_who_asks_for_recovery_is_bridged_with_a_peer_in_recovery(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = _recovery_caller(live).dial(LINE)
    call.wait_until_heard("This is peer support, not a crisis line", timeout=60)
    ring = sam.wait_for_ring(timeout=60)
    # The peer's phone shows the line's number, never the caller's.
    assert ring.caller_id == LINE
    ring.wait_until_heard("Warmline call. Press 1 to accept.")
    ring.wait_until_heard("The caller asked for Substance use recovery")
    assert not any(CALLER[-4:] in words for words in ring.heard)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    assert live.presence(sam_id) == "busy"
    call.hang_up()
    assert live.outcome_of(call.sid) == "connected"
    # Wrap-up (2 s on this line) is followed by availability again, without anyone polling.
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)
    kinds = live.event_kinds(call.sid)
    for kind in ("arrived", "menu_choice", "queued", "offered", "accepted", "bridged", "ended"):
        assert kind in kinds, kinds


def test_the_menu_offers_the_active_experiences_and_9_for_the_crisis_line(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    call = live.standin.caller(CALLER, press={"press 0": "9"}).dial(LINE)
    heard = call.wait_until_heard("Connecting you with a crisis counselor", timeout=60)
    assert heard
    assert any("For Veteran, press 4" in words for words in call.heard)
    assert any("call or text 9 8 8" in words for words in call.heard)
    live.wait_for(lambda: CRISIS in call.bridged_with() or live.standin.events("dial"), timeout=60)
    assert live.outcome_of(call.sid) == "transferred_crisis"


def test_nobody_sharing_the_experience_on_shift_is_told_at_once_and_can_choose_anyone(
    live: LiveWarmline,
) -> None:
    live.import_roster(ROSTER)
    lee = live.peer(LEE)
    live.go_available(live.peer_id("lee@example.org"))
    call = live.standin.caller(CALLER, press={"For Grief and loss": "5",
                                              "To talk with the next available peer instead": "0"}
                               ).dial(LINE)
    call.wait_until_heard("Nobody who shares Grief and loss is on shift right now", timeout=60)
    lee.wait_for_ring(timeout=60)
    assert call.wait_until_bridged(timeout=60) == [LEE]


def test_two_callers_one_peer_one_is_bridged_the_other_waits_and_the_peer_rings_once(
    live: LiveWarmline,
) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    first = _recovery_caller(live).dial(LINE)
    second = _recovery_caller(live, OTHER_CALLER).dial(LINE)
    winner = live.wait_for(lambda: first if first.bridged_with() else
                           second if second.bridged_with() else None, timeout=60)
    waiting = second if winner is first else first
    waiting.wait_until_heard("You are number 1 in line", timeout=60)
    assert waiting.bridged_with() == []
    assert len(sam.rang()) == 1
    winner.hang_up()
    # Sam's wrap-up ends, and the one who waited is bridged next.
    assert waiting.wait_until_bridged(timeout=60) == [SAM]
    assert len(sam.rang()) == 2


def test_a_peer_who_does_not_answer_then_one_who_does(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM, mode="no_answer")
    lee = live.peer(LEE)
    sam_id, lee_id = live.peer_id("sam@example.org"), live.peer_id("lee@example.org")
    live.go_available(sam_id)
    call = _recovery_caller(live).dial(LINE)
    sam.wait_for_ring(timeout=60)
    live.go_available(lee_id)
    # Sam's phone rings out; the caller keeps waiting and is offered to Lee, who answers.
    assert call.wait_until_bridged(timeout=60) == [LEE]
    assert len(lee.rang()) == 1
    assert "no_answer" in live.event_kinds(call.sid)


def test_a_peer_whose_voicemail_answers_hears_nothing_and_the_caller_keeps_waiting(
    live: LiveWarmline,
) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM, mode="voicemail")
    lee = live.peer(LEE)
    live.go_available(live.peer_id("sam@example.org"))
    call = _recovery_caller(live).dial(LINE)
    ring = sam.wait_for_ring(timeout=60)
    ring.wait_until_ended(timeout=60)
    # Voicemail heard nothing at all: not even the neutral whisper.
    assert ring.heard == []
    live.go_available(live.peer_id("lee@example.org"))
    assert call.wait_until_bridged(timeout=60) == [LEE]
    assert len(lee.rang()) == 1


def test_the_caller_hangs_up_during_the_whisper_and_the_late_1_is_told_kindly(
    live: LiveWarmline,
) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM, press={})  # answers, but presses nothing until we say so
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = _recovery_caller(live).dial(LINE)
    ring = sam.wait_for_ring(timeout=60)
    ring.wait_until_heard("Warmline call. Press 1 to accept.", timeout=60)
    call.hang_up()
    # The whisper waits 8 s of Twilio time (0.4 s here) for the key: press it before then.
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    state = CallState(live.runtime.redis)
    live.wait_for(lambda: state.outcome(contact.id) == "abandoned", timeout=60)
    ring.press("1")
    ring.wait_until_heard("This caller has already been helped", timeout=60)
    assert live.outcome_of(call.sid) == "abandoned"
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def test_a_caller_who_hangs_up_while_the_peer_rings_cancels_the_ring(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM, mode="manual")
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = _recovery_caller(live).dial(LINE)
    ring = sam.wait_for_ring(timeout=60)
    call.hang_up()
    assert live.outcome_of(call.sid) == "abandoned"
    assert ring.wait_until_ended(timeout=60) in ("canceled", "completed", "no-answer")
    live.wait_for(lambda: live.presence(sam_id) == "available", timeout=60)


def test_a_caller_hanging_up_in_the_menu_is_abandoned_at_once(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    call = live.standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("not a crisis line", timeout=60)
    call.hang_up()
    assert live.outcome_of(call.sid) == "abandoned"


def test_at_max_wait_the_caller_leaves_the_queue_for_the_backup_line(live: LiveWarmline) -> None:
    live.import_roster(ROSTER.replace("max_wait_seconds: 600", "max_wait_seconds: 30"))
    call = _recovery_caller(live).dial(LINE)
    call.wait_until_heard("We're sorry we couldn't reach a peer in time", timeout=60)
    call.wait_until_heard("Connecting you with our partner line", timeout=60)
    assert live.outcome_of(call.sid) == "transferred_backup"
    live.wait_for(lambda: BACKUP in call.bridged_with())


def test_unknown_line_blocked_and_over_the_daily_limit_get_kind_messages(live: LiveWarmline) -> None:
    live.import_roster(ROSTER.replace("daily_contact_limit: 3", "daily_contact_limit: 1"))
    live.standin.add_number("+12125550150", voice_url=f"{live.url}/twilio/voice")
    stray = live.standin.caller(CALLER).dial("+12125550150")
    stray.wait_until_heard("not set up to take calls", timeout=60)
    assert live.outcome_of(stray.sid) == "unknown_line"

    first = live.standin.caller(OTHER_CALLER).dial(LINE)
    first.wait_until_heard("not a crisis line", timeout=60)
    first.hang_up()
    live.outcome_of(first.sid)
    # A reconnect within ten minutes is the same contact: still let through.
    again = live.standin.caller(OTHER_CALLER).dial(LINE)
    again.wait_until_heard("not a crisis line", timeout=60)
    again.hang_up()
    live.outcome_of(again.sid)
    with live.runtime.sessions() as session:
        from sqlalchemy import select

        from warmline.models import Contact

        # Move the earlier contacts back in time: the next call is a new contact, over the limit.
        for contact in session.scalars(select(Contact)):
            contact.arrived_at -= _hours(1)
            contact.ended_at = None
        session.commit()
    late = live.standin.caller(OTHER_CALLER).dial(LINE)
    late.wait_until_heard("You've reached today's limit", timeout=60)
    assert live.outcome_of(late.sid) == "over_limit"


def _hours(n: int):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(hours=n)


def test_a_blocked_caller_hears_a_kind_message(live: LiveWarmline) -> None:
    from datetime import UTC, datetime, timedelta

    from warmline.models import Block
    from warmline.services.voice.common import caller_identity

    live.import_roster(ROSTER)
    with live.runtime.sessions() as session:
        session.add(Block(caller_hash=caller_identity(live.runtime.keys, CALLER, ""), line_id=None,
                          created_at=datetime.now(UTC),
                          expires_at=datetime.now(UTC) + timedelta(days=30)))
        session.commit()
    call = live.standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("We're not able to take your call", timeout=60)
    assert live.outcome_of(call.sid) == "blocked"


def test_a_closed_line_says_when_it_opens_and_offers_a_callback(live: LiveWarmline) -> None:
    closed_roster = ROSTER.replace(
        '    languages: [en]\n',
        '    languages: [en]\n    closed_dates: ["TODAY"]\n    hours:\n'
        '      - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}\n',
    ).replace("TODAY", _today_in_new_york())
    live.import_roster(closed_roster)
    call = live.standin.caller(CALLER).dial(LINE)
    call.wait_until_heard("Test Warmline is closed right now", timeout=60)
    call.wait_until_heard("We open again", timeout=60)
    call.wait_until_heard("To ask for a call back when we're open, press 1", timeout=60)
    assert live.outcome_of(call.sid, timeout=60) == "closed_hours"


def _today_in_new_york() -> str:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date().isoformat()


def test_asking_for_a_callback_while_waiting_stores_the_number_encrypted(live: LiveWarmline) -> None:
    from sqlalchemy import select, text

    from warmline.models import CallbackRequest

    live.import_roster(ROSTER)
    call = live.standin.caller(CALLER, press={
        "For Substance use recovery": "1",
        "To be called back instead, press 1": "1",
        "To use it, press 1": "1",
        "as soon as a peer is free, press 1": "1",
        "Press 1 for yes": "2",
    }).dial(LINE)
    call.wait_until_heard("A peer will call you back", timeout=60)
    call.wait_until_ended(timeout=60)
    with live.runtime.sessions() as session:
        request = session.scalars(select(CallbackRequest)).one()
        assert live.runtime.keys.decrypt(request.number_encrypted or "") == CALLER
        assert request.may_leave_message is False
        assert request.experience_key == "recovery"
        dump = "\n".join(str(row) for row in session.execute(text("SELECT * FROM callback_requests")))
    assert CALLER not in dump and CALLER[2:] not in dump
    # The contact waits for its callback: a hang-up after asking is not "abandoned". The app has
    # heard the hang-up once the stand-in's final status callback got its answer.
    live.wait_for(lambda: any(e.call_sid == call.sid and e.data.get("purpose") == "status_callback"
                              and e.data["params"].get("CallStatus") == "completed"
                              and e.data.get("status") == 200
                              for e in live.standin.events("webhook")), timeout=60)
    live.never(lambda: getattr(live.contact_of_call(call.sid), "outcome", None), within=2.0,
               why="a caller who asked for a call back was recorded with an outcome on hang-up")
    assert live.contact_of_call(call.sid) is not None


@pytest.mark.parametrize("digits", ["0"])
def test_choosing_anyone_while_waiting_for_a_match(live: LiveWarmline, digits: str) -> None:
    live.import_roster(ROSTER)
    lee = live.peer(LEE)
    live.go_available(live.peer_id("lee@example.org"))
    call = live.standin.caller(CALLER, press={
        "For Grief and loss": "5", "To talk with the next available peer instead": digits,
    }).dial(LINE)
    lee.wait_for_ring(timeout=60)
    assert call.wait_until_bridged(timeout=60) == [LEE]


def test_a_peer_who_presses_another_key_declines_and_the_next_peer_is_rung(live: LiveWarmline) -> None:
    live.import_roster(ROSTER)
    sam = live.peer(SAM, press={"Press 1 to accept": "2"})
    lee = live.peer(LEE)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    call = _recovery_caller(live).dial(LINE)
    declined = sam.wait_for_ring(timeout=60)
    declined.wait_until_heard("Okay. Thank you.", timeout=60)
    live.go_available(live.peer_id("lee@example.org"))
    assert call.wait_until_bridged(timeout=60) == [LEE]
    assert "declined" in live.event_kinds(call.sid)
    assert len(lee.rang()) == 1
