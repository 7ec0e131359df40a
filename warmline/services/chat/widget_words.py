"""Every word the chat widget shows or announces, in one of the line's languages.

The widget (warmline/web/static/chat/widget.js) holds no words of its own: the line's description
brings them, in the language the page or the chatter chose, from the same catalogs as texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from warmline.catalogs import Message, language_name, message, say
from warmline.texts import words

WIDGET_WORDS: Final[dict[str, Message]] = {
    "title": message("widget_title", "Chat with {line}"),
    "choose": message("widget_choose",
                      "Who would you like to talk with? Choose someone who shares an experience, "
                      "or anyone."),
    "anyone": message("widget_anyone", "Anyone who's free"),
    "language": message("widget_language", "Language"),
    "messages": message("widget_messages", "Messages"),
    "your_message": message("widget_your_message", "Your message"),
    "send": message("widget_send", "Send"),
    "end": message("widget_end", "End and delete"),
    "you": message("widget_you", "You"),
    "peer": message("widget_peer", "Peer"),
    "closed_now": message("widget_closed_now", "We're closed right now."),
    "starting": message("widget_starting", "Starting your chat…"),
    "not_started": message("widget_not_started", "We couldn't start a chat just now. Please try again."),
    "unreachable": message("widget_unreachable",
                           "We couldn't reach the chat. Check your connection and try again."),
    "waiting": message("widget_waiting", "Waiting for a peer. You can write while you wait."),
    "connected": message("widget_connected", "A peer is with you."),
    "closed": message("widget_closed",
                      "This chat has ended. You can delete it now; otherwise it is deleted by "
                      "itself soon."),
    "reconnecting": message("widget_reconnecting", "Connection lost. Reconnecting… Your messages are kept."),
    "not_sent": message("widget_not_sent", "That message could not be sent."),
    "write_first": message("widget_write_first", "Write a message first."),
    "deleted": message("widget_deleted", "Your chat has ended and has been deleted."),
    "ended": message("widget_ended", "This chat has ended."),
    "text_me": message("widget_text_me", "Text me instead"),
    "text_me_number": message("widget_text_me_number", "Your phone number"),
    "text_me_consent": message(
        "widget_text_me_consent",
        "{line} may text me at this number. It is kept encrypted, only while we text."),
    "text_me_send": message("widget_text_me_send", "Text me"),
}


def widget_words(language: str, line_name: str) -> dict[str, str]:
    found = {name: say(language, words_, line=line_name) for name, words_ in WIDGET_WORDS.items()}
    # Wherever the widget says a chat is over or out of reach, the crisis numbers come with it.
    found["crisis"] = words.reply(language, "crisis_numbers")
    return found


def language_choices(languages: Sequence[str]) -> list[dict[str, str]]:
    """The line's languages, each named in itself, for the widget's switch."""
    return [{"code": code, "name": language_name(code)} for code in languages]
