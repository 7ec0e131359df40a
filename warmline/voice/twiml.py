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


def announcement(language: str, words: str) -> str:
    """What a whole conference hears (AnnounceUrl): words, and nothing after them."""
    response = VoiceTwiml()
    say(response, language, words)
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


# The room's events that drive a call's outcome (a participant leaving, the room ending).
CONFERENCE_EVENTS = "start end join leave"


def peer_joins_conference(offer_id: str, contact_id: str, language: str, *words: str,
                          public_url: str) -> str:
    """The peer, having pressed 1 (or back from their keypad), hears `words` and joins the
    contact's room. `*` takes them out of it to their keypad (hangupOnStar), so their leaving never
    ends the room by itself: their call ending does, by REST (services/voice/conference.py)."""
    response = VoiceTwiml()
    for spoken in words:
        say(response, language, spoken)
    response.dial_conference(
        contact_id, action=urls.relative(urls.PEER_DIAL_DONE, offer=offer_id),
        # Absolute: the room's callbacks are not requests of this document.
        status_callback=urls.absolute(public_url, urls.CONFERENCE_STATUS, contact=contact_id),
        events=CONFERENCE_EVENTS, end_on_exit=False, hangup_on_star=True)
    return str(response)


def peer_takes_over_in_conference(offer_id: str, room_contact_id: str, language: str,
                                  words: str, *, public_url: str) -> str:
    """A second peer, having pressed 1 on a warm transfer's linked offer, joins the room of the
    call they take over (named after that call's contact, not their own). Their leaving does not
    end it until the first peer hands over (then it does, by REST)."""
    response = VoiceTwiml()
    say(response, language, words)
    response.dial_conference(
        room_contact_id, action=urls.relative(urls.PEER_DIAL_DONE, offer=offer_id),
        # Absolute: the room's callbacks are not requests of this document.
        status_callback=urls.absolute(public_url, urls.CONFERENCE_STATUS,
                                      contact=room_contact_id),
        events=CONFERENCE_EVENTS, end_on_exit=False)
    return str(response)


def caller_joins_conference(contact_id: str, *, public_url: str) -> str:
    """The caller, moved out of their queue by REST, joins the room their peer is in; the caller
    leaving always ends it."""
    response = VoiceTwiml()
    response.dial_conference(
        contact_id, action=urls.relative(urls.CONFERENCE_CALLER_DONE, contact=contact_id),
        # Absolute: the room's callbacks are not requests of this document.
        status_callback=urls.absolute(public_url, urls.CONFERENCE_STATUS, contact=contact_id),
        events=CONFERENCE_EVENTS, end_on_exit=True)
    return str(response)
