"""Messaging TwiML: a `<Response>` of `<Message>`s, or an empty one (no reply)."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse

from warmline.telephony.xml_text import twiml_text


def reply(*bodies: str, status_callback: str | None = None) -> str:
    """One `<Message>` per body, in order; none at all gives `<Response/>`."""
    response = MessagingResponse()
    for body in map(twiml_text, bodies):
        if body:
            if status_callback:
                response.message(body, action=status_callback, method="POST")
            else:
                response.message(body)
    return str(response)


def empty() -> str:
    return str(MessagingResponse())
