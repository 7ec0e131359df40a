"""TwiML for a callback: the peer's whisper and wait, the caller's discreet question, the bridge."""

from __future__ import annotations

from warmline.telephony.voice_twiml import VoiceTwiml
from warmline.voice import urls
from warmline.voice.twiml import say

# How long one round of the peer's wait lasts before Twilio asks the wait URL again.
PEER_WAIT_PAUSE_SECONDS = 4


def queue_name(attempt_id: str) -> str:
    """The queue the peer waits in for one attempt: only that attempt's caller is bridged."""
    return f"cb-{attempt_id}"


def peer_waits(attempt_id: str, language: str, words: str) -> str:
    """The accepted peer waits in the attempt's own queue while the app calls the caller."""
    response = VoiceTwiml()
    say(response, language, words)
    response.enqueue(queue_name(attempt_id),
                     action=urls.relative(urls.CALLBACK_PEER_DONE, attempt=attempt_id),
                     wait_url=urls.relative(urls.CALLBACK_PEER_WAIT, attempt=attempt_id))
    return str(response)


def peer_wait_round(language: str, words: str | None) -> str:
    response = VoiceTwiml()
    if words:
        say(response, language, words)
    response.pause(PEER_WAIT_PAUSE_SECONDS)
    return str(response)


def bridge_to_peer(attempt_id: str) -> str:
    response = VoiceTwiml()
    response.dial_queue(queue_name(attempt_id),
                        action=urls.relative(urls.CALLBACK_CALLER_DONE, attempt=attempt_id))
    return str(response)
