"""TwiML for each moment of a call, built with twilio-python's builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from warmline.telephony.xml_text import twiml_text
from warmline.voice import urls
from warmline.voice.prompts import text, voice_for

# A caller should hear the next update about this often while waiting.
HOLD_SEGMENT_SECONDS = 20
MENU_TIMEOUT_SECONDS = 6
PEER_ACCEPT_TIMEOUT_SECONDS = 8


@dataclass(frozen=True)
class MenuItem:
    digit: int
    label: str


def say(target: VoiceResponse | Gather, language: str, words: str) -> None:
    voice, locale = voice_for(language)
    # Input is checked for control characters already; this keeps older rows from breaking TwiML.
    target.say(twiml_text(words), voice=voice, language=locale)


def hang_up_with(language: str, *lines: str) -> str:
    response = VoiceResponse()
    for words in lines:
        say(response, language, words)
    response.hangup()
    return str(response)


def language_menu(languages: Sequence[str], contact_id: str) -> str:
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=MENU_TIMEOUT_SECONDS,
                             action=urls.relative(urls.LANGUAGE, contact=contact_id))
    for digit, language in enumerate(languages, start=1):
        template = {"en": "For English, press {digit}.", "es": "Para español, oprima {digit}."}
        say(gather, language, template.get(language, "Press {digit}.").format(digit=digit))
    response.redirect(urls.relative(urls.LANGUAGE, contact=contact_id, none="1"))
    return str(response)


def experience_menu(
    language: str, contact_id: str, greeting: str | None, items: Sequence[MenuItem],
    preface: str | None = None,
) -> str:
    """Greeting, "this is not a crisis line", then the experience menu; no input means anyone."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=MENU_TIMEOUT_SECONDS,
                             action=urls.relative(urls.MENU, contact=contact_id))
    for words in (preface, greeting, text(language, "not_crisis")):
        if words:
            say(gather, language, words)
    if items:
        say(gather, language, text(language, "menu_intro"))
        for item in items:
            say(gather, language, text(language, "menu_item", label=item.label, digit=item.digit))
        say(gather, language, text(language, "menu_anyone"))
    response.redirect(urls.relative(urls.MENU, contact=contact_id, none="1"))
    return str(response)


def enqueue(contact_id: str, language: str, spoken: Sequence[str]) -> str:
    """Put the caller in their own queue (named after the contact): a peer dials exactly them."""
    response = VoiceResponse()
    for words in spoken:
        say(response, language, words)
    response.enqueue(
        contact_id,
        action=urls.relative(urls.QUEUE_DONE, contact=contact_id),
        method="POST",
        wait_url=urls.relative(urls.WAIT, contact=contact_id),
        wait_url_method="POST",
    )
    return str(response)


def hold(contact_id: str, language: str, spoken: Sequence[str], hold_audio_url: str) -> str:
    """One round of the wait loop: an update and the choices, over hold audio, keys open throughout.

    Twilio requests the wait URL again when this document ends, so the caller hears a fresh,
    honest update about every HOLD_SEGMENT_SECONDS.
    """
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=1,
                             action=urls.relative(urls.CHOICE, contact=contact_id))
    for words in spoken:
        say(gather, language, words)
    gather.play(hold_audio_url)
    return str(response)


def leave_queue() -> str:
    response = VoiceResponse()
    response.leave()
    return str(response)


def say_then_wait(contact_id: str, language: str, words: str) -> str:
    response = VoiceResponse()
    say(response, language, words)
    response.redirect(urls.relative(urls.WAIT, contact=contact_id))
    return str(response)


def dial_out(language: str, words: str, number: str, caller_id: str) -> str:
    """A consent-based transfer: the other side sees the line's number, never the caller's."""
    response = VoiceResponse()
    say(response, language, words)
    response.dial(number, caller_id=caller_id)
    return str(response)


def gather_digits(
    language: str, action: str, spoken: Sequence[str], *, num_digits: int = 1,
    finish_on_key: str | None = None, timeout: int = MENU_TIMEOUT_SECONDS, then: str | None = None,
) -> str:
    """Ask a question; with no input the document falls through to `then` (a Redirect) or ends."""
    response = VoiceResponse()
    options: dict[str, object] = {"num_digits": num_digits, "timeout": timeout, "action": action}
    if finish_on_key is not None:
        options["finish_on_key"] = finish_on_key
    gather = response.gather(**options)
    for words in spoken:
        say(gather, language, words)
    if then is not None:
        response.redirect(then)
    return str(response)


def peer_whisper(offer_id: str, language: str, words: str) -> str:
    """Neutral until the peer presses 1: the phone may be answered by voicemail or someone else."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=PEER_ACCEPT_TIMEOUT_SECONDS,
                             action=urls.relative(urls.PEER_ACCEPT, offer=offer_id))
    say(gather, language, words)
    response.redirect(urls.relative(urls.PEER_ACCEPT, offer=offer_id, none="1"))
    return str(response)


def bridge_to_caller(offer_id: str, contact_id: str, language: str, words: str) -> str:
    response = VoiceResponse()
    say(response, language, words)
    dial = response.dial(action=urls.relative(urls.PEER_DIAL_DONE, offer=offer_id), method="POST")
    dial.queue(contact_id)
    return str(response)
