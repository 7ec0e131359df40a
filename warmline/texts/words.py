"""What texters and peers may type (exact-message keywords, peer commands, risk words) and what we answer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                        "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
PEER_COMMANDS = frozenset({"ON", "OFF", "BREAK", "STATUS"})
ANY_WORD, WAIT_WORD, CALLBACK_WORD = "ANY", "WAIT", "CALLBACK"
CRISIS_NUMBERS = "In crisis, call or text 988. In an emergency, call 911."


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    DELETE = "delete"


def normalize(body: str) -> str:
    """Keywords are the whole message, any case, surrounding spaces ignored."""
    return " ".join(body.split()).upper()


def keyword_of(body: str) -> Keyword | None:
    word = normalize(body)
    if word in STOP_WORDS:
        return Keyword.STOP
    if word in START_WORDS:
        return Keyword.START
    if word == "HELP":
        return Keyword.HELP
    if word == "DELETE":
        return Keyword.DELETE
    return None


# An admin's answer to a drop-in ask, by the ask's number: "YES 12" or "NO 12".
_DROP_IN_ANSWER = re.compile(r"^(YES|NO) (\d{1,9})$")


def peer_command_of(body: str) -> str | None:
    word = normalize(body)
    if word in PEER_COMMANDS or _DROP_IN_ANSWER.match(word):
        return word
    return None


def drop_in_answer_of(command: str) -> tuple[bool, int] | None:
    """(approved, ask number) for "YES 12" / "NO 12"; None for any other command."""
    found = _DROP_IN_ANSWER.match(command)
    return (found.group(1) == "YES", int(found.group(2))) if found else None


# "30 pills", "20 tablets", "100mg": an amount of something is itself a sign of a plan.
_AMOUNT = re.compile(r"\b\d+\s*(?:pills?|tablets?|mg|capsules?)\b", re.IGNORECASE)


def has_risk_words(body: str, risk_words: Iterable[str]) -> bool:
    """Whole words or phrases, any case; never a substring of a longer word ("gun" not in "begun")."""
    text = " ".join(re.findall(r"[\w']+", body.lower()))
    for word in risk_words:
        phrase = " ".join(re.findall(r"[\w']+", word.lower()))
        if phrase and re.search(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", text):
            return True
    return bool(_AMOUNT.search(body))


def first_reply(line_name: str, keywords: list[str]) -> str:
    """At most three short lines: who we are, how to ask for a shared experience, 988/911."""
    asks = ", ".join(keywords[:4])
    second = (f"Reply {asks} for a peer who shares it, or ANY." if asks
              else "A peer will text you back soon.")
    return "\n".join((
        f"{line_name}: peer support by text, not a crisis line.",
        second,
        "In danger now? Call or text 988, or call 911.",
    ))


def help_reply(line_name: str, hours: str) -> str:
    return (f"{line_name}: peer support by text from people with lived experience. {hours} "
            f"{CRISIS_NUMBERS} Reply STOP to opt out, DELETE to erase what we hold.")


def no_peer_yet(label: str | None, callbacks: bool, *, minutes: int) -> str:
    """The texter has waited the line's max_wait_seconds: say so, their choices, the next bound."""
    who = f"a peer who shares {label}" if label else "a peer"
    choices = (["ANY for the next peer"] if label else []) + (
        ["CALLBACK for a call back"] if callbacks else []) + ["WAIT to keep waiting"]
    listed = choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + ", or " + choices[-1]
    unit = "minute" if minutes == 1 else "minutes"
    return (f"We're sorry: we haven't been able to connect you with {who} yet. Reply {listed}. "
            f"If no peer is free in the next {minutes} {unit}, we'll close this conversation; "
            f"text us again any time. {CRISIS_NUMBERS}")


def waiting_reply(outlook: str, label: str | None, position: int | None,
                  callbacks: bool, *, all_talking: bool) -> str | None:
    """The honest state of a texter's wait, or None when a peer is being offered the text.

    "All with someone" only when every peer who could take the text is talking with someone
    (the voice side's rule): peers on shift but on a break are not "with someone"."""
    callback = ", CALLBACK for a call back" if callbacks else ""
    if outlook == "no_match" and label:
        return (f"A peer who shares {label} isn't on now. Reply ANY for the next peer{callback}"
                f", or WAIT to keep waiting.")
    if outlook == "all_busy":
        where = f" You're number {position} in line." if position else ""
        tail = (f" Reply ANY for the next peer{callback}, or WAIT." if label
                else (" Reply CALLBACK for a call back." if callbacks else ""))
        if all_talking:
            who = f"Peers who share {label}" if label else "Our peers"
            return f"{who} are all with someone right now.{where}{tail}"
        who = f"A peer who shares {label}" if label else "A peer"
        return f"{who} will text you here as soon as one is free.{where}{tail}"
    return None


def chat_first_words(line_name: str) -> str:
    """The chat widget's first words, as the first text reply's: who we are, not a crisis line."""
    return (f"{line_name}: peer support from people with lived experience, here to listen. "
            f"This is not a crisis line. {CRISIS_NUMBERS}")


def chat_refusal(line_name: str, why: str) -> str:
    """Why a chat could not start (closed, blocked, over a limit), always with the numbers."""
    return f"{line_name}: {why} {CRISIS_NUMBERS}"
