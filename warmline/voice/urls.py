"""The URLs Warmline hands Twilio for a call, all under /twilio/voice and all signed by Twilio."""

from __future__ import annotations

from urllib.parse import urlencode

INCOMING = "/twilio/voice"
INBOUND_STATUS = "/twilio/voice/status"
FALLBACK = "/twilio/voice/fallback"
LANGUAGE = "/twilio/voice/language"
MENU = "/twilio/voice/menu"
WAIT = "/twilio/voice/wait"
CHOICE = "/twilio/voice/choice"
QUEUE_DONE = "/twilio/voice/queue-done"
DEADLINE_CHOICE = "/twilio/voice/deadline-choice"
CLOSED_CHOICE = "/twilio/voice/closed-choice"
# A caller back after a dropped call: the same peer again?
RECONNECT_CHOICE = "/twilio/voice/reconnect-choice"
CALLBACK_NUMBER = "/twilio/voice/callback/number"
CALLBACK_ENTERED = "/twilio/voice/callback/entered"
CALLBACK_WINDOW = "/twilio/voice/callback/window"
CALLBACK_MESSAGE = "/twilio/voice/callback/message"
PEER_ANSWER = "/twilio/voice/peer/answer"
PEER_ACCEPT = "/twilio/voice/peer/accept"
PEER_STATUS = "/twilio/voice/peer/status"
PEER_DIAL_DONE = "/twilio/voice/peer/dial-done"
# The peer's keypad during the call (`*` steps out of the room to it).
PEER_KEYPAD = "/twilio/voice/peer/keypad"
# The conference a bridged call lives in (named after the contact).
CONFERENCE_CALLER_JOIN = "/twilio/voice/conference/caller"
CONFERENCE_CALLER_DONE = "/twilio/voice/conference/caller-done"
CONFERENCE_STATUS = "/twilio/voice/conference/status"
# The call status of someone a peer brought into the conference (warm transfer, a mentor).
TRANSFER_STATUS = "/twilio/voice/conference/transfer-status"
# What the whole room hears (AnnounceUrl): `?contact=...&what=<prompt key>`.
CONFERENCE_ANNOUNCE = "/twilio/voice/conference/announce"
# After the call, when the peer hung up first.
SURVEY_ANSWER = "/twilio/voice/after/survey"
RESOURCES_ANSWER = "/twilio/voice/after/resources"
# Callbacks: the peer's leg, then the caller's leg.
CALLBACK_PEER_ANSWER = "/twilio/voice/callback/peer/answer"
CALLBACK_PEER_ACCEPT = "/twilio/voice/callback/peer/accept"
CALLBACK_PEER_STATUS = "/twilio/voice/callback/peer/status"
CALLBACK_PEER_WAIT = "/twilio/voice/callback/peer/wait"
CALLBACK_PEER_DONE = "/twilio/voice/callback/peer/done"
CALLBACK_CALLER_ANSWER = "/twilio/voice/callback/caller/answer"
CALLBACK_CALLER_CONFIRM = "/twilio/voice/callback/caller/confirm"
CALLBACK_CALLER_STATUS = "/twilio/voice/callback/caller/status"
CALLBACK_CALLER_DONE = "/twilio/voice/callback/caller/done"
SMS_INCOMING = "/twilio/sms"
HOLD_AUDIO = "/audio/hold.wav"


def absolute(public_url: str, path: str, **query: str) -> str:
    """A URL Twilio will call, built on the configured public URL (signatures are computed on it)."""
    base = public_url.rstrip("/") + path
    return f"{base}?{urlencode(query)}" if query else base


def relative(path: str, **query: str) -> str:
    """A URL inside TwiML: Twilio resolves it against the URL of the document it came from."""
    return f"{path}?{urlencode(query)}" if query else path
