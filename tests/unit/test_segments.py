"""Segment counting as Twilio does it (GSM-7 and UCS-2), and the texts' keywords and risk words."""

from __future__ import annotations

import pytest

from config.text_policy import DEFAULT_RISK_WORDS
from warmline.texts.segments import count_segments
from warmline.texts.words import Keyword, first_reply, has_risk_words, keyword_of, peer_command_of


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("{" * 80, "GSM-7", 1),  # extension characters take two septets
    ("{" * 81, "GSM-7", 2),
    ("é" * 160, "GSM-7", 1),  # é is in the GSM basic set
    ("ê" * 70, "UCS-2", 1),
    ("ê" * 71, "UCS-2", 2),
    ("😊" * 35, "UCS-2", 1),  # two UTF-16 units each
    ("😊" * 36, "UCS-2", 2),
    ("ê" * 134, "UCS-2", 2),
    ("ê" * 135, "UCS-2", 3),
])
def test_segments(text: str, encoding: str, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


def test_the_ceiling_is_1600_characters() -> None:
    assert not count_segments("a" * 1600).too_long
    assert count_segments("a" * 1601).too_long


@pytest.mark.parametrize(("body", "keyword"), [
    ("STOP", Keyword.STOP), (" stopall ", Keyword.STOP), ("Unsubscribe", Keyword.STOP),
    ("cancel", Keyword.STOP), ("END", Keyword.STOP), ("quit", Keyword.STOP),
    ("revoke", Keyword.STOP), ("OptOut", Keyword.STOP), ("start", Keyword.START),
    ("UNSTOP", Keyword.START), ("help", Keyword.HELP), ("Delete", Keyword.DELETE),
    ("stop it", None), ("please help", None), ("deleted", None),
])
def test_keywords_are_the_whole_message_in_any_case(body: str, keyword: Keyword | None) -> None:
    assert keyword_of(body) is keyword


def test_peer_commands() -> None:
    assert [peer_command_of(b) for b in (" on", "OFF ", "Break", "status", "on now")] == \
        ["ON", "OFF", "BREAK", "STATUS", None]


@pytest.mark.parametrize(("body", "risky"), [
    ("I have 30 pills", True), ("thinking about an overdose", True),
    ("I want to KILL MYSELF", True), ("I just want to end it.", True),
    ("there's a gun in the house", True), ("took 200mg", True),
    ("the day has begun", False), ("I'm ending my shift", False), ("hello", False),
    ("my cat spills things", False),
])
def test_risk_words(body: str, risky: bool) -> None:
    assert has_risk_words(body, DEFAULT_RISK_WORDS) is risky


def test_the_first_reply_is_three_short_lines_with_988_and_911() -> None:
    reply = first_reply("Peer Warmline NYC", ["RECOVERY", "VETERAN"])
    assert len(reply.splitlines()) == 3
    assert all(len(line) <= 80 for line in reply.splitlines())
    assert "988" in reply and "911" in reply and "RECOVERY" in reply
