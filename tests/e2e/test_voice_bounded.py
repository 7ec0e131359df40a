"""Every keypad question of the voice flows, walked through the stand-in with silence and with
wrong keys: each moves on within its bound, says what it is doing, and every answer is valid
TwiML. A question added to `warmline.voice.questions.ALL` without a walk here fails
`test_every_question_is_walked`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.support.jobs import JobPump
from tests.support.live import BACKUP, LINE, ROSTER, SAM, LiveWarmline, running_warmline
from tests.support.services import clean_database
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline import keys
from warmline.models import CallbackAttempt, CallbackRequest
from warmline.routing.engine import RoutingEngine
from warmline.services.callbacks import placing as callbacks
from warmline.services.voice.common import caller_identity
from warmline.standin import Phone, PhoneCall
from warmline.voice import questions
from warmline.voice.gathering import Prompt
from warmline.voice.state import CallState

CALLER = "+15005550006"
WRONG = "7"  # no question takes 7
SILENCE, WRONG_KEYS = "silence", "wrong keys"
MODES = (SILENCE, WRONG_KEYS)
HEARD_NOTHING = "Sorry, I didn't hear anything."
DIDNT_GET_THAT = "Sorry, I didn't get that."
ASK_FOR_CALLBACK = {"To be called back instead, press 1": "1"}
CRISIS_WORDS = "call or text 9 8 8"
QUESTION_PATHS = frozenset(prompt.path for prompt in questions.ALL)


@pytest.fixture(scope="module")
def system(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWarmline]:
    """One app, stand-in and job pump for every walk: starting them is most of a short walk."""
    with running_warmline(database_url, tmp_path_factory.mktemp("walks")) as warmline:
        yield warmline


@pytest.fixture
def live(system: LiveWarmline) -> Iterator[LiveWarmline]:
    """The shared system, as fresh as a new one: no rows, no Redis state, no job running."""
    system.pump.stop()
    clean_database(system.runtime)
    system.runtime.redis.flushdb()
    system.pump = JobPump(system.runtime.redis).start()
    system.peers.clear()
    yield system
    # Quiet before the next walk resets the system under it: every leg ended, and every thread
    # of the stand-in (a late status callback, a key about to be pressed) has finished, so
    # nothing of this walk can reach the next one's offers (their ids start again at 1).
    net = system.standin.net

    def quiet() -> bool:
        return all(leg.final for leg in system.standin.legs()) and not net.threads()

    try:
        system.wait_for(quiet, timeout=60)
    except TimeoutError:
        pytest.fail(f"still running: {[t.name for t in net.threads()]}")
    assert not system.pump.errors, system.pump.errors


# -- what every walk asserts ------------------------------------------------------------------


def _answers(live: LiveWarmline, call_sid: str) -> list[tuple[str, str]]:
    """(path, TwiML) of every document the app answered on this call, in order."""
    return [(urlsplit(e.data["url"]).path, e.data["body"])
            for e in live.standin.events("webhook", call_sid=call_sid)
            if e.data["purpose"] in ("voice", "voice_fallback") and e.data["status"] == 200]


def assert_bounded(live: LiveWarmline, call: PhoneCall, prompt: Prompt) -> None:
    """The question was reached and asked at most `prompt.tries` times in a row; every answer
    on the call is valid TwiML."""
    answers = _answers(live, call.sid)
    for _path, body in answers:
        assert_valid_voice_twiml(body)
        # Every question asked is a catalogued one (served by the one bounded driver).
        for gather in ET.fromstring(body).iter("Gather"):
            assert urlsplit(gather.get("action", "")).path in QUESTION_PATHS, body
    run = longest = 0
    for path, _body in answers:
        run = run + 1 if path == prompt.path else 0
        longest = max(longest, run)
    assert 1 <= longest <= prompt.tries, (prompt.name, [p for p, _ in answers])


def _keys(mode: str, question: str, key: str = WRONG) -> dict[str, str]:
    """Press `key` each time `question` is heard (wrong keys), or nothing (silence)."""
    return {} if mode == SILENCE else {question: key}


def _apology(mode: str) -> str:
    return HEARD_NOTHING if mode == SILENCE else DIDNT_GET_THAT


def _count(call: PhoneCall, words: str) -> int:
    return sum(words in heard for heard in call.heard)


def _roster(max_wait: int = 600, languages: str = "[en]", closed: bool = False) -> str:
    roster = ROSTER.replace("max_wait_seconds: 600", f"max_wait_seconds: {max_wait}")
    roster = roster.replace("    languages: [en]\n", f"    languages: {languages}\n")
    if closed:
        today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date().isoformat()
        roster = roster.replace(
            f"    languages: {languages}\n",
            f'    languages: {languages}\n    closed_dates: ["{today}"]\n    hours:\n'
            '      - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59"}\n')
    return roster


def _dial(live: LiveWarmline, press: dict[str, str]) -> PhoneCall:
    return live.standin.caller(CALLER, press=press).dial(LINE)


def _hang_up(call: PhoneCall) -> None:
    call.hang_up()
    call.wait_until_ended(timeout=60)


# -- the caller's questions -------------------------------------------------------------------


def walk_language(live: LiveWarmline, mode: str) -> None:
    live.import_roster(_roster(languages="[en, es]"))
    call = _dial(live, _keys(mode, "Para español, oprima 2."))
    call.wait_until_heard("We'll continue in English.", timeout=60)
    call.wait_until_heard("not a crisis line", timeout=60)
    assert _count(call, "For English, press 1.") == 2
    assert_bounded(live, call, questions.LANGUAGE)
    _hang_up(call)


def walk_menu(live: LiveWarmline, mode: str) -> None:
    live.import_roster(_roster())
    call = _dial(live, _keys(mode, "next available peer, press 0."))
    call.wait_until_heard("We'll connect you with the next available peer.", timeout=60)
    call.wait_until_heard("You are number 1 in line.", timeout=60)
    # Silence means anyone at once (the README's "0 or no input"); wrong keys get one more try.
    assert _count(call, "not a crisis line") == (1 if mode == SILENCE else 2)
    if mode == WRONG_KEYS:
        assert DIDNT_GET_THAT in call.heard
    assert_bounded(live, call, questions.MENU)
    _hang_up(call)


def walk_hold_and_deadline(live: LiveWarmline, mode: str) -> None:
    """Hold: silence is waiting, wrong keys keep the place; the line's deadline still comes.
    At the deadline, silence takes the partner line (as the question says); wrong keys are
    asked about once more, then the partner line."""
    live.import_roster(_roster(max_wait=60))
    press = {"For Substance use recovery": "1"}
    if mode == WRONG_KEYS:
        press |= {"You are number 1 in line.": "5", "couldn't reach a peer in time": WRONG}
    call = _dial(live, press)
    if mode == WRONG_KEYS:
        call.wait_until_heard("You keep your place in line.", timeout=60)
    call.wait_until_heard("Connecting you with our partner line now.", timeout=60)
    assert live.wait_for(lambda: BACKUP in call.bridged_with(), timeout=60)
    assert _count(call, "couldn't reach a peer in time") == (1 if mode == SILENCE else 2)
    assert live.outcome_of(call.sid) == "transferred_backup"
    assert_bounded(live, call, questions.DEADLINE)
    if mode == WRONG_KEYS:
        assert_bounded(live, call, questions.HOLD)
    _hang_up(call)


def walk_closed_callback(live: LiveWarmline, mode: str) -> None:
    live.import_roster(_roster(closed=True))
    call = _dial(live, _keys(mode, "To ask for a call back when we're open, press 1."))
    call.wait_until_ended(timeout=60)
    assert _count(call, "To ask for a call back when we're open") == 2
    assert call.heard[-3:] == [
        _apology(mode),
        "If you need someone now, you can call or text 9 8 8 any time. "
        "In an emergency, call 9 1 1.",
        "Thank you for calling. Take care.",
    ]
    assert live.outcome_of(call.sid) == "closed_hours"
    assert_bounded(live, call, questions.CLOSED_CALLBACK)


def walk_callback_confirm(live: LiveWarmline, mode: str) -> None:
    """Silence, from the hold: back in line with the place kept. Wrong keys, after closing
    hours: goodbye with the crisis numbers."""
    if mode == SILENCE:
        live.import_roster(_roster())
        caller = live.standin.caller(CALLER, press={"For Substance use recovery": "1",
                                                    **ASK_FOR_CALLBACK})
        call = caller.dial(LINE)
        call.wait_until_heard("We couldn't set up a call back this time.", timeout=60)
        caller.behaviour.press = {}  # stays in line this time
        call.wait_until_heard("You're back in line, and you keep your place.", timeout=60)
        _assert_back_in_line(live, call)
        _hang_up(call)
    else:
        live.import_roster(_roster(closed=True))
        call = _dial(live, {"when we're open, press 1.": "1",
                            "To enter a different number, press 2.": WRONG})
        call.wait_until_ended(timeout=60)
        assert "We couldn't set up a call back this time." in call.heard
        assert any(CRISIS_WORDS in heard for heard in call.heard[-3:])
        assert live.outcome_of(call.sid) == "closed_hours"
        assert _count(call, "To enter a different number, press 2.") == 2
    assert_bounded(live, call, questions.CALLBACK_CONFIRM)
    with live.runtime.sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []


def _assert_back_in_line(live: LiveWarmline, call: PhoneCall) -> None:
    """In routing again, with the arrival time the contact always had (its place)."""
    contact = live.contact_of_call(call.sid)
    assert contact is not None
    engine = RoutingEngine(live.runtime.redis)
    live.wait_for(lambda: engine.contact_state(contact.id) == "waiting", timeout=60)
    view = engine.contact_view(contact.id)
    assert view is not None and view.arrived_at == contact.arrived_at.timestamp()
    # The wait before asking for the call back still counts towards the line's deadline.
    assert CallState(live.runtime.redis).waited_before(contact.id) > 0
    call.wait_until_heard("You are number 1 in line.", timeout=60)


def walk_callback_number(live: LiveWarmline, mode: str) -> None:
    """Silence, after closing hours: goodbye with the crisis numbers. Wrong numbers, after the
    deadline: the partner line."""
    enter = {"To enter a different number, press 2.": "2"}
    if mode == SILENCE:
        live.import_roster(_roster(closed=True))
        call = _dial(live, {"when we're open, press 1.": "1", **enter})
        call.wait_until_ended(timeout=60)
        assert any(CRISIS_WORDS in heard for heard in call.heard[-3:])
    else:
        live.import_roster(_roster(max_wait=30))
        call = _dial(live, {"For Substance use recovery": "1",
                            "couldn't reach a peer in time": "1", **enter,
                            "Please enter the number to call": "12#"})
        call.wait_until_heard("Connecting you with our partner line now.", timeout=60)
        assert _count(call, "doesn't look like a phone number") == 2
        assert live.outcome_of(call.sid) == "transferred_backup"
    assert _count(call, "We couldn't set up a call back this time.") == 1
    assert _count(call, "Please enter the number to call") == 2
    assert_bounded(live, call, questions.CALLBACK_NUMBER)
    _hang_up(call)


def walk_callback_window_and_message(live: LiveWarmline, mode: str) -> None:
    """The number is agreed: the soonest window, and no message, each said aloud."""
    live.import_roster(_roster(closed=True))
    press = {"when we're open, press 1.": "1", "To use it, press 1.": "1"}
    if mode == WRONG_KEYS:
        press |= {"To be called back later today, press 2.": WRONG, "Press 1 for yes": WRONG}
    call = _dial(live, press)
    call.wait_until_ended(timeout=60)
    assert _count(call, "To be called back later today") == 2
    assert _count(call, "may we leave a short message") == 2
    assert f"{_apology(mode)} We'll call you back as soon as a peer is free." in call.heard
    assert call.heard[-3:] == [_apology(mode), "We won't leave a message.",
                               "Thank you. A peer will call you back from this line's number. "
                               "Take care until then."]
    with live.runtime.sessions() as session:
        request = session.scalars(select(CallbackRequest)).one()
        assert request.may_leave_message is False
    assert_bounded(live, call, questions.CALLBACK_WINDOW)
    assert_bounded(live, call, questions.CALLBACK_MESSAGE)


# -- the peer's whisper and the call back's legs ----------------------------------------------


def walk_peer_whisper(live: LiveWarmline, mode: str) -> None:
    """Asked once: a peer who does not press 1 is a missed ring; the caller keeps waiting."""
    live.import_roster(_roster())
    sam = live.peer(SAM, press=_keys(mode, "Press 1 to accept", "2"))
    live.go_available(live.peer_id("sam@example.org"))
    call = _dial(live, {"For Substance use recovery": "1"})
    ring = sam.wait_for_ring(timeout=60)
    ring.wait_until_heard("Okay. Thank you.", timeout=60)
    ring.wait_until_ended(timeout=60)
    assert _count(ring, "Warmline call. Press 1 to accept.") == 1
    assert_bounded(live, ring, questions.PEER_WHISPER)
    live.wait_for(lambda: "declined" in live.event_kinds(call.sid), timeout=60)
    assert call.bridged_with() == []
    _hang_up(call)


def _ask_for_callback(live: LiveWarmline) -> int:
    call = _dial(live, {"For Substance use recovery": "1", **ASK_FOR_CALLBACK,
                        "To use it, press 1": "1", "as soon as a peer is free, press 1": "1",
                        "Press 1 for yes": "2"})
    call.wait_until_ended(timeout=60)
    with live.runtime.sessions() as session:
        return session.scalars(select(CallbackRequest.id)).one()


def walk_callback_peer_whisper(live: LiveWarmline, mode: str) -> None:
    live.import_roster(_roster())
    callback_id = _ask_for_callback(live)
    caller_phone = live.standin.phone(CALLER, answer_after=0.5)
    sam = live.peer(SAM, press=_keys(mode, "Warmline call back. Press 1 to accept.", "2"))
    live.go_available(live.peer_id("sam@example.org"))
    assert callbacks.place_due_callbacks(live.runtime, datetime.now(UTC)).started == [callback_id]
    ring = sam.wait_for_ring(timeout=60)
    ring.wait_until_heard("Okay. Thank you.", timeout=60)
    ring.wait_until_ended(timeout=60)
    assert _count(ring, "Warmline call back. Press 1 to accept.") == 1
    assert_bounded(live, ring, questions.CALLBACK_PEER_WHISPER)
    assert caller_phone.rang() == []  # nobody calls the caller for a peer who did not accept


def walk_callback_caller_confirm(live: LiveWarmline, mode: str) -> None:
    """Whoever answers is asked twice, then hears a plain goodbye (nothing identifying)."""
    live.import_roster(_roster())
    callback_id = _ask_for_callback(live)
    caller_phone: Phone = live.standin.phone(
        CALLER, answer_after=0.5, press=_keys(mode, "Press 1 for the call back you asked for."))
    live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    callbacks.place_due_callbacks(live.runtime, datetime.now(UTC))
    answered = live.wait_for(lambda: next(iter(caller_phone.rang()), None), timeout=60)
    answered.wait_until_ended(timeout=60)
    assert _count(answered, "Press 1 for the call back you asked for.") == 2
    assert answered.heard[-1] == "Thank you for calling. Take care."
    assert answered.bridged_with() == []
    assert_bounded(live, answered, questions.CALLBACK_CALLER_CONFIRM)

    def missed() -> bool:
        with live.runtime.sessions() as session:
            return session.scalars(select(CallbackAttempt.state).where(
                CallbackAttempt.callback_id == callback_id)).first() == "missed"

    live.wait_for(missed, timeout=60)


def walk_after_call(live: LiveWarmline, mode: str) -> None:
    """The peer hangs up first: the question is asked twice, then the resources offer twice, then
    goodbye; nothing is counted and nothing is texted."""
    roster = _roster().replace("    daily_contact_limit: 3\n", "    daily_contact_limit: 3\n"
                               "    survey: true\n    resources: {en: \"Resources: example.org\"}\n")
    live.import_roster(roster)
    sam = live.peer(SAM)
    live.go_available(live.peer_id("sam@example.org"))
    press = {"For Substance use recovery": "1"}
    if mode == WRONG_KEYS:
        press |= {"How heard did you feel today?": WRONG, "with some resources, press 1": WRONG}
    call = _dial(live, press)
    assert call.wait_until_bridged(timeout=60) == [SAM]
    sam.rang()[0].hang_up()
    call.wait_until_ended(timeout=60)
    assert _count(call, "How heard did you feel today?") == 2
    assert _count(call, "with some resources, press 1") == 2
    assert call.heard[-2:] == [_apology(mode), "Thank you for calling. Take care."]
    assert_bounded(live, call, questions.SURVEY)
    assert_bounded(live, call, questions.RESOURCES)
    assert not [e for e in live.standin.events("rest_message_created") if e.data["to"] == CALLER]


def walk_peer_keypad(live: LiveWarmline, mode: str) -> None:
    """The peer's `*` menu: silence goes back to the caller at once; a wrong key is asked about
    once more, then the peer goes back too (never left out of their call)."""
    live.import_roster(_roster())
    sam = live.peer(SAM, press={"Press 1 to accept": "1",
                                **_keys(mode, "To go back to your caller, press 0.")})
    live.go_available(live.peer_id("sam@example.org"))
    call = _dial(live, {"For Substance use recovery": "1"})
    assert call.wait_until_bridged(timeout=60) == [SAM]
    ring = sam.rang()[0]
    ring.wait_until_heard("During the call, press star for options.", timeout=60)
    ring.press("*")
    ring.wait_until_heard("Back to your caller.", timeout=60)
    live.wait_for(lambda: call.bridged_with() == [SAM], timeout=60)
    assert _count(ring, "To go back to your caller, press 0.") == (1 if mode == SILENCE else 2)
    assert_bounded(live, ring, questions.PEER_KEYPAD)
    _hang_up(call)
    ring.wait_until_ended(timeout=60)


def walk_reconnect(live: LiveWarmline, mode: str) -> None:
    """A caller back after a dropped call is asked about the same peer twice, then goes the
    usual way in (the experience menu), and is not asked again."""
    live.import_roster(_roster().replace("wrap_up_seconds: 2", "wrap_up_seconds: 600"))
    sam = live.peer(SAM)
    sam_id = live.peer_id("sam@example.org")
    live.go_available(sam_id)
    first = _dial(live, {"For Substance use recovery": "1"})
    assert first.wait_until_bridged(timeout=60) == [SAM]
    first.hang_up()
    sam.rang()[0].wait_until_heard("The call has ended", timeout=60)
    sam.rang()[0].wait_until_ended(timeout=60)
    link = keys.voice_dropped_call(caller_identity(live.runtime.keys, CALLER, ""))
    live.wait_for(lambda: live.runtime.redis.exists(link), timeout=60)
    call = _dial(live, _keys(mode, "To talk with someone else, press 2."))
    call.wait_until_heard("not a crisis line", timeout=60)
    assert _count(call, "To talk with someone else, press 2.") == 2
    assert_bounded(live, call, questions.RECONNECT)
    _hang_up(call)


Walk = Callable[[LiveWarmline, str], None]
WALKS: dict[Walk, tuple[Prompt, ...]] = {
    walk_language: (questions.LANGUAGE,),
    walk_menu: (questions.MENU,),
    walk_hold_and_deadline: (questions.HOLD, questions.DEADLINE),
    walk_closed_callback: (questions.CLOSED_CALLBACK,),
    walk_reconnect: (questions.RECONNECT,),
    walk_callback_confirm: (questions.CALLBACK_CONFIRM,),
    walk_callback_number: (questions.CALLBACK_NUMBER,),
    walk_callback_window_and_message: (questions.CALLBACK_WINDOW, questions.CALLBACK_MESSAGE),
    walk_peer_whisper: (questions.PEER_WHISPER,),
    walk_callback_peer_whisper: (questions.CALLBACK_PEER_WHISPER,),
    walk_callback_caller_confirm: (questions.CALLBACK_CALLER_CONFIRM,),
    walk_after_call: (questions.SURVEY, questions.RESOURCES),
    walk_peer_keypad: (questions.PEER_KEYPAD,),
}


def test_every_question_is_walked() -> None:
    walked = {prompt for prompts in WALKS.values() for prompt in prompts}
    assert walked == set(questions.ALL)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("walk", list(WALKS), ids=lambda walk: walk.__name__[5:])
def test_each_question_moves_on_within_its_bound(live: LiveWarmline, walk: Walk,
                                                 mode: str) -> None:
    walk(live, mode)
