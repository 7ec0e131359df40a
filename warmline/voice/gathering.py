"""Every keypad question of a call is built and bounded here, so none can repeat forever.

A question is a `Prompt`. `ask` is the only code in Warmline that writes a `<Gather>`: silence
always comes back to the prompt's own action (`?none=1`) instead of falling into a loop elsewhere.
`judge` decides, for every prompt alike, what an answer is worth: an answer, "ask again" (with an
apology), or "move on" once the prompt's bound is reached. Each step then moves on in its own
kind way (back to the queue with the place kept, the number already agreed, a goodbye with the
crisis numbers) and says what it is doing. The driver that applies `judge` to a webhook is
`warmline.services.voice.gather.run_gather`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from warmline.telephony.voice_twiml import VoiceTwiml
from warmline.voice import urls
from warmline.voice.prompts import text
from warmline.voice.twiml import say

# Nobody hears one question more than this often in a row: after two silences or two
# wrong entries the call moves on.
MAX_TRIES: Final = 2
# The query parameter a prompt's fall-through Redirect adds: "the caller pressed nothing".
SILENCE_QUERY: Final = "none"
DEFAULT_TIMEOUT_SECONDS: Final = 6


class Miss(StrEnum):
    SILENCE = "silence"
    INVALID = "invalid"


class Turn(StrEnum):
    ANSWER = "answer"
    ASK_AGAIN = "ask_again"
    MOVE_ON = "move_on"


@dataclass(frozen=True)
class Prompt:
    """One keypad question: where its answer goes and how often it may be asked.

    `scope` names the query parameter that identifies the call in the prompt's URL (misses are
    counted per call and prompt). `silence_answers`: the question's own words say what silence
    means ("no input: anyone", "we'll connect you with our partner line"), so silence is an
    answer, not a miss. `silence_returns` is False only for the hold loop, whose silence is simply
    waiting (Twilio asks the wait URL again, and max_wait_seconds bounds it).
    """

    name: str
    path: str
    scope: str = "contact"
    num_digits: int = 1
    finish_on_key: str | None = None
    timeout: int = DEFAULT_TIMEOUT_SECONDS
    tries: int = MAX_TRIES
    silence_answers: bool = False
    silence_returns: bool = True
    invalid_words: str = "invalid_choice"  # the apology for a wrong entry (a prompt text key)

    def __post_init__(self) -> None:
        if not 1 <= self.tries <= MAX_TRIES:
            raise ValueError(f"{self.name}: tries must be 1..{MAX_TRIES}, not {self.tries}")


@dataclass(frozen=True)
class Verdict:
    turn: Turn
    miss: Miss | None = None


def classify(prompt: Prompt, digits: str, accepted: bool) -> Miss | None:
    """None when `digits` answer the prompt; otherwise what kind of miss it was."""
    if accepted or (not digits and prompt.silence_answers):
        return None
    return Miss.SILENCE if not digits else Miss.INVALID


def judge(prompt: Prompt, miss: Miss | None, misses_so_far: int) -> Verdict:
    """`misses_so_far` counts this miss too. The one rule every prompt follows."""
    if miss is None:
        return Verdict(Turn.ANSWER)
    if misses_so_far < prompt.tries:
        return Verdict(Turn.ASK_AGAIN, miss)
    return Verdict(Turn.MOVE_ON, miss)


def apology(prompt: Prompt, language: str, miss: Miss) -> str:
    if miss == Miss.SILENCE:
        return text(language, "no_key_heard")
    return text(language, prompt.invalid_words)


# What a question says: words in the call's language, or (language, words) for a line spoken in
# another language (the language menu).
Spoken = str | tuple[str, str]


def ask(prompt: Prompt, language: str, spoken: Sequence[Spoken], query: Mapping[str, str], *,
        play: str | None = None) -> str:
    """The question as TwiML: keys are taken while it is spoken; silence returns to the action."""
    response = VoiceTwiml()
    gather = response.gather(action=urls.relative(prompt.path, **query),
                             num_digits=prompt.num_digits, timeout=prompt.timeout,
                             finish_on_key=prompt.finish_on_key)
    for item in spoken:
        if isinstance(item, tuple):
            say(gather, item[0], item[1])
        else:
            say(gather, language, item)
    if play is not None:
        gather.play(play)
    if prompt.silence_returns:
        response.redirect(urls.relative(prompt.path, **query, **{SILENCE_QUERY: "1"}))
    return str(response)
