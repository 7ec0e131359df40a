"""Every keypad question a call can ask, in one catalogue, and the builders of the longer ones.

A new question is added here (and served through `warmline.services.voice.gather.GatherStep`);
tests walk every entry of `ALL` through the stand-in with silence and with wrong keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from warmline.voice import urls
from warmline.voice.gathering import Prompt, Spoken, ask
from warmline.voice.prompts import language_choice, text
from warmline.voice.twiml import PEER_ACCEPT_TIMEOUT_SECONDS, MenuItem

LANGUAGE: Final = Prompt("language", urls.LANGUAGE)
# "0 or no input: anyone" (README): silence is an answer the caller is told about at once.
MENU: Final = Prompt("menu", urls.MENU, silence_answers=True)
CLOSED_CALLBACK: Final = Prompt("closed_callback", urls.CLOSED_CHOICE)
# A caller back after a dropped call (DESIGN step 10): 1 the same peer, 2 someone else.
RECONNECT: Final = Prompt("reconnect", urls.RECONNECT_CHOICE)
# The choices while on hold: silence is waiting, and the next hold round says what is true.
HOLD: Final = Prompt("hold", urls.CHOICE, timeout=1, silence_returns=False)
# "...or stay on the line and we'll connect you with our partner line": silence is an answer.
DEADLINE: Final = Prompt("deadline", urls.DEADLINE_CHOICE, silence_answers=True)
CALLBACK_CONFIRM: Final = Prompt("callback_confirm", urls.CALLBACK_NUMBER)
CALLBACK_NUMBER: Final = Prompt("callback_number", urls.CALLBACK_ENTERED, num_digits=15,
                                finish_on_key="#", timeout=10,
                                invalid_words="callback_bad_number")
CALLBACK_WINDOW: Final = Prompt("callback_window", urls.CALLBACK_WINDOW)
CALLBACK_MESSAGE: Final = Prompt("callback_message", urls.CALLBACK_MESSAGE)
# A peer's whisper is asked once: the offer's expiry covers one ring and one whisper, and a peer
# who does not press 1 counts as not answering, so the caller goes on to the next peer at once.
PEER_WHISPER: Final = Prompt("peer_whisper", urls.PEER_ACCEPT, scope="offer",
                             timeout=PEER_ACCEPT_TIMEOUT_SECONDS, tries=1)
CALLBACK_PEER_WHISPER: Final = Prompt("callback_peer_whisper", urls.CALLBACK_PEER_ACCEPT,
                                      scope="ring", timeout=PEER_ACCEPT_TIMEOUT_SECONDS, tries=1)
# Whoever answers a call back may need a moment: asked twice, then a plain goodbye.
CALLBACK_CALLER_CONFIRM: Final = Prompt("callback_caller_confirm", urls.CALLBACK_CALLER_CONFIRM,
                                        scope="attempt", timeout=PEER_ACCEPT_TIMEOUT_SECONDS)
# The peer's keypad during the call (`*`): 9 the crisis line, 5 a mentor, 0 or silence back to
# the caller (silence is an answer: a peer who says nothing is taken back, never left out).
PEER_KEYPAD: Final = Prompt("peer_keypad", urls.PEER_KEYPAD, scope="offer", silence_answers=True)
# After the call: one anonymous question (1-5), then the resources by text (1: yes).
SURVEY: Final = Prompt("survey", urls.SURVEY_ANSWER)
RESOURCES: Final = Prompt("resources", urls.RESOURCES_ANSWER)

ALL: Final[tuple[Prompt, ...]] = (
    LANGUAGE, MENU, CLOSED_CALLBACK, RECONNECT, HOLD, DEADLINE, CALLBACK_CONFIRM, CALLBACK_NUMBER,
    CALLBACK_WINDOW, CALLBACK_MESSAGE, PEER_WHISPER, CALLBACK_PEER_WHISPER,
    CALLBACK_CALLER_CONFIRM, SURVEY, RESOURCES, PEER_KEYPAD,
)


def language_menu(languages: Sequence[str], contact_id: str, preface: str | None = None) -> str:
    """Each language offered in itself; `preface` (an apology) in the line's first language."""
    spoken: list[Spoken] = [preface] if preface else []
    for digit, language in enumerate(languages, start=1):
        spoken.append((language, language_choice(language, digit)))
    return ask(LANGUAGE, languages[0], spoken, {"contact": contact_id})


def experience_menu(
    language: str, contact_id: str, greeting: str | None, items: Sequence[MenuItem],
    preface: str | None = None,
) -> str:
    """Greeting, "this is not a crisis line", then the experience menu; no input means anyone."""
    spoken: list[Spoken] = [words for words in (preface, greeting, text(language, "not_crisis"))
                            if words]
    if items:
        spoken.append(text(language, "menu_intro"))
        spoken.extend(text(language, "menu_item", label=item.label, digit=item.digit)
                      for item in items)
        spoken.append(text(language, "menu_anyone"))
    return ask(MENU, language, spoken, {"contact": contact_id})


def hold(contact_id: str, language: str, spoken: Sequence[str], hold_audio_url: str) -> str:
    """One round of the wait loop: an update and the choices, over hold audio, keys open throughout.

    Twilio requests the wait URL again when this document ends, so the caller hears a fresh,
    honest update about every HOLD_SEGMENT_SECONDS.
    """
    return ask(HOLD, language, spoken, {"contact": contact_id}, play=hold_audio_url)


def peer_keypad(offer_id: str, language: str, preface: str | None = None) -> str:
    """The peer, out of the room by `*`: the keypad's choices (in the peer's language)."""
    spoken = [preface] if preface else []
    spoken.append(text(language, "keypad_menu"))
    return ask(PEER_KEYPAD, language, spoken, {"offer": offer_id})
