"""TwiML for each moment of a call (its verbs are `warmline.telephony.voice_twiml`'s)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from warmline.telephony.voice_twiml import GatherTwiml, VoiceTwiml
from warmline.telephony.xml_text import twiml_text
from warmline.voice import urls
from warmline.voice.prompts import voice_for

# A caller should hear the next update about this often while waiting.
HOLD_SEGMENT_SECONDS = 20
PEER_ACCEPT_TIMEOUT_SECONDS = 8


@dataclass(frozen=True)
class MenuItem:
    digit: int
    label: str


def say(target: VoiceTwiml | GatherTwiml, language: str, words: str) -> None:
    voice = voice_for(language)
    # Input is checked for control characters already; this keeps older rows from breaking TwiML.
    target.say(twiml_text(words), voice=voice.name, language=voice.locale)


def hang_up_with(language: str, *lines: str) -> str:
    response = VoiceTwiml()
    for words in lines:
        say(response, language, words)
    response.hangup()
    return str(response)


def enqueue(contact_id: str, language: str, spoken: Sequence[str]) -> str:
    """Put the caller in their own queue (named after the contact): a peer dials exactly them."""
    response = VoiceTwiml()
    for words in spoken:
        say(response, language, words)
    response.enqueue(contact_id, action=urls.relative(urls.QUEUE_DONE, contact=contact_id),
                     wait_url=urls.relative(urls.WAIT, contact=contact_id))
    return str(response)


def empty() -> str:
    """Nothing to do: Twilio carries on (status callbacks answer this)."""
    return str(VoiceTwiml())


def leave_queue() -> str:
    response = VoiceTwiml()
    response.leave()
    return str(response)


def say_and_hold(language: str, *lines: str) -> str:
    """Words for a caller in their queue; when they end, Twilio asks the wait URL again (with a
    fresh QueueTime, so the deadline keeps counting: a Redirect would lose it)."""
    response = VoiceTwiml()
    for words in lines:
        say(response, language, words)
    return str(response)


def dial_out(language: str, words: str, number: str, caller_id: str) -> str:
    """A consent-based transfer: the other side sees the line's number, never the caller's."""
    response = VoiceTwiml()
    say(response, language, words)
    response.dial_number(number, caller_id=caller_id)
    return str(response)


def bridge_to_caller(offer_id: str, contact_id: str, language: str, words: str) -> str:
    response = VoiceTwiml()
    say(response, language, words)
    response.dial_queue(contact_id, action=urls.relative(urls.PEER_DIAL_DONE, offer=offer_id))
    return str(response)
