"""The one rule every keypad question follows, and the one place that builds them."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.routing.wait_status import WaitStatus
from warmline.services.voice.wait import hold_update
from warmline.voice import questions, urls
from warmline.voice.gathering import (
    MAX_TRIES,
    Miss,
    Prompt,
    Turn,
    apology,
    ask,
    classify,
    judge,
)

WARMLINE = Path(__file__).resolve().parents[2] / "warmline"


def _turns(prompt: Prompt, answers: list[tuple[str, bool]]) -> list[Turn]:
    """Feed (digits, accepted) answers through the rule, counting misses as the driver does."""
    misses, turns = 0, []
    for digits, accepted in answers:
        miss = classify(prompt, digits, accepted)
        misses = misses + 1 if miss else 0
        turn = judge(prompt, miss, misses).turn
        turns.append(turn)
        if turn == Turn.MOVE_ON:
            misses = 0
    return turns


def test_two_silences_or_two_wrong_entries_move_on() -> None:
    prompt = Prompt("q", "/q")
    assert _turns(prompt, [("", False), ("", False)]) == [Turn.ASK_AGAIN, Turn.MOVE_ON]
    assert _turns(prompt, [("7", False), ("7", False)]) == [Turn.ASK_AGAIN, Turn.MOVE_ON]
    assert _turns(prompt, [("", False), ("7", False)]) == [Turn.ASK_AGAIN, Turn.MOVE_ON]
    assert _turns(prompt, [("7", False), ("1", True)]) == [Turn.ASK_AGAIN, Turn.ANSWER]


def test_silence_is_an_answer_only_where_the_question_says_what_it_means() -> None:
    assert classify(questions.MENU, "", False) is None
    assert classify(questions.DEADLINE, "", False) is None
    assert classify(questions.MENU, "7", False) == Miss.INVALID
    assert classify(questions.CALLBACK_CONFIRM, "", False) == Miss.SILENCE


def test_a_peer_whisper_is_asked_once() -> None:
    assert _turns(questions.PEER_WHISPER, [("", False)]) == [Turn.MOVE_ON]
    assert _turns(questions.CALLBACK_PEER_WHISPER, [("2", False)]) == [Turn.MOVE_ON]


@pytest.mark.parametrize("tries", [0, MAX_TRIES + 1])
def test_no_question_may_be_asked_more_than_twice(tries: int) -> None:
    with pytest.raises(ValueError, match="tries"):
        Prompt("q", "/q", tries=tries)


def test_the_apology_says_what_was_missed() -> None:
    assert apology(questions.MENU, "en", Miss.SILENCE) == "Sorry, I didn't hear anything."
    assert apology(questions.MENU, "en", Miss.INVALID) == "Sorry, I didn't get that."
    assert "phone number" in apology(questions.CALLBACK_NUMBER, "en", Miss.INVALID)


@pytest.mark.parametrize("prompt", questions.ALL, ids=lambda prompt: prompt.name)
def test_every_question_is_valid_twiml_and_silence_comes_back_to_it(prompt: Prompt) -> None:
    document = ask(prompt, "en", ["Press 1.", ("es", "Oprima 1.")], {prompt.scope: "abc"},
                   play="http://example.org/hold.wav")
    assert_valid_voice_twiml(document)
    root = ET.fromstring(document)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == urls.relative(prompt.path, **{prompt.scope: "abc"})
    assert gather.get("numDigits") == str(prompt.num_digits)
    redirect = root.find("Redirect")
    if prompt.silence_returns:
        assert redirect is not None
        assert redirect.text == urls.relative(prompt.path, **{prompt.scope: "abc", "none": "1"})
    else:
        assert redirect is None and prompt is questions.HOLD  # silence on hold is waiting


def test_every_question_has_its_own_url() -> None:
    assert len({prompt.path for prompt in questions.ALL}) == len(questions.ALL)
    assert len({prompt.name for prompt in questions.ALL}) == len(questions.ALL)


def test_only_the_gathering_module_writes_a_gather() -> None:
    """A new question cannot bypass the bound: nothing else in Warmline builds a <Gather>."""
    builders = []
    for path in WARMLINE.rglob("*.py"):
        if path.is_relative_to(WARMLINE / "standin"):
            continue  # the stand-in executes TwiML, it does not answer it
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "gather"):
                builders.append(str(path.relative_to(WARMLINE)))
    assert builders == ["voice/gathering.py"]


# -- honest hold updates ------------------------------------------------------------------


def _status(staffed: int, talking: int, position: int | None = 1,
            wait: float | None = None) -> WaitStatus:
    return WaitStatus("waiting", position, wait, staffed=staffed, talking=talking)


@pytest.mark.parametrize(("staffed", "talking", "first"), [
    (0, 0, "A peer will be with you as soon as one is free."),  # everyone off
    (2, 0, "A peer will be with you as soon as one is free."),  # on break, in wrap-up
    (2, 1, "A peer will be with you as soon as one is free."),  # one talking, one on break
    (2, 2, "All of our peers are talking with callers right now."),
])
def test_talking_with_callers_only_when_every_peer_who_could_answer_is(
        staffed: int, talking: int, first: str) -> None:
    assert hold_update("en", _status(staffed, talking), None) == [
        first, "You are number 1 in line."]


@pytest.mark.parametrize(("staffed", "talking", "first"), [
    (0, 0, "Nobody who shares Grief is on shift right now."),
    (1, 0, "A peer who shares Grief will be with you as soon as one is free."),
    (1, 1, "Everyone who shares Grief is talking with a caller right now."),
])
def test_the_same_honesty_for_a_shared_experience(staffed: int, talking: int, first: str) -> None:
    assert hold_update("en", _status(staffed, talking, position=3), "Grief") == [
        first, "You are number 3 in line."]


def test_the_wait_is_said_only_when_it_can_be_estimated() -> None:
    assert hold_update("en", _status(1, 1, wait=170.0), None)[-1] == \
        "The wait is about 3 minutes."
    assert not any("wait is" in words for words in hold_update("en", _status(1, 1), None))
    assert hold_update("en", None, None) == ["A peer will be with you as soon as one is free."]
    assert hold_update("en", None, "Grief") == [
        "A peer who shares Grief will be with you as soon as one is free."]
