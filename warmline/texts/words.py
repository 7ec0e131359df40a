"""What texters and peers may type (exact-message keywords, peer commands, risk words) and what we answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from warmline.catalogs import SOURCE_LANGUAGE, Message, PluralMessage, message, plural, say

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                        "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP"})
PEER_COMMANDS = frozenset({"ON", "OFF", "BREAK", "STATUS"})


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


def _by_key(*found: Message | PluralMessage) -> dict[str, Message | PluralMessage]:
    return {words.key: words for words in found}


# Everything a texter reads, by key; the English is here, every other language is its catalog.
TEXTS: Final[dict[str, Message | PluralMessage]] = _by_key(
    message("text_degraded", "We can't take texts right now. Please try again soon."),
    message("crisis_numbers", "In crisis, call or text 988. In an emergency, call 911."),
    message("first_intro", "{line}: peer support by text, not a crisis line."),
    message("first_keywords", "Reply {keywords} for a peer who shares it, or {any}."),
    message("first_no_keywords", "A peer will text you back soon."),
    message("first_danger", "In danger now? Call or text 988, or call 911."),
    message("help",
        "{line}: peer support by text from people with lived experience. {hours} {crisis} "
        "Reply STOP to opt out, {delete} to erase what we hold."),
    message("open_always", "We're open 24/7."),
    message("open_now", "We're open now."),
    message("closed_for_now", "We're closed for now."),
    message("closed_until", "We're closed now; we open again {day} {time}."),
    message("deleted",
        "Done: we're deleting everything we hold about this number, including our copies of "
        "your texts."),
    message("text_blocked", "This number can't reach {line} by text right now."),
    message("text_over_limit", "You've reached today's limit of texts to {line}; text again tomorrow."),
    message("no_match", "A peer who shares {label} isn't on now."),
    message("choices_wait", "Reply {any} for the next peer, or {wait} to keep waiting."),
    message("choices_wait_callback",
        "Reply {any} for the next peer, {callback} for a call back, or {wait} to keep waiting."),
    message("choices_short", "Reply {any} for the next peer, or {wait}."),
    message("choices_short_callback",
            "Reply {any} for the next peer, {callback} for a call back, or {wait}."),
    message("choices_callback", "Reply {callback} for a call back."),
    message("position", "You're number {position} in line."),
    message("all_with_someone_match", "Peers who share {label} are all with someone right now."),
    message("all_with_someone", "Our peers are all with someone right now."),
    message("free_soon_match", "A peer who shares {label} will text you here as soon as one is free."),
    message("free_soon", "A peer will text you here as soon as one is free."),
    message("any_ok", "OK: the next peer who's free will text you here."),
    message("keep_waiting_match", "OK, we'll keep waiting for a peer who shares {label}."),
    message("keep_waiting", "OK, we'll keep waiting for the next peer."),
    plural("callback_set",
           "Thanks. A peer from {line} will call you from this number within about {count} hour.",
           "Thanks. A peer from {line} will call you from this number within about {count} hours."),
    message("joined_named", "{name}, a peer, has joined and will text you here."),
    message("joined", "A peer has joined and will text you here."),
    # A texter's wait is finite like a caller's: at the line's max_wait_seconds, then the goodbye.
    message("no_peer_yet_match",
        "We're sorry: we haven't been able to connect you with a peer who shares {label} yet."),
    message("no_peer_yet", "We're sorry: we haven't been able to connect you with a peer yet."),
    message("choices_callback_or_wait", "Reply {callback} for a call back, or {wait} to keep waiting."),
    message("choices_keep_waiting", "Reply {wait} to keep waiting."),
    plural("closing_in",
           "If no peer is free in the next {count} minute, we'll close this conversation; text us "
           "again any time.",
           "If no peer is free in the next {count} minutes, we'll close this conversation; text us "
           "again any time."),
    message("goodbye_no_peer",
        "We couldn't connect you with a peer this time, so we've closed this conversation. Please "
        "text us again any time."),
    # A chatter reads these in the widget on the line's web page, not on their phone.
    message("chat_goodbye_peer",
        "Thanks for chatting. This conversation is closed now; start a new chat any time."),
    message("chat_goodbye_idle",
        "We haven't heard from you in a while, so we've closed this chat. Start a new one any time."),
    message("chat_goodbye_no_peer",
        "We couldn't connect you with a peer this time, so we've closed this chat. Please try again "
        "any time."),
    message("joined_chat_named", "{name}, a peer, has joined and will chat with you here."),
    message("joined_chat", "A peer has joined and will chat with you here."),
    message("chat_free_soon", "A peer will be with you here as soon as one is free."),
    message("chat_any_ok", "OK: the next peer who's free will answer you here."),
    message("goodbye_peer", "Thanks for texting. This conversation is closed now; text us again any time."),
    message("goodbye_idle",
        "We haven't heard from you in a while, so we've closed this conversation. Text us again any time."),
    message("risk",
        "If you're thinking of ending your life or might act on it, you can call or text 988 now, "
        "or call 911 in an emergency. A peer will be with you as soon as they can."),
    # What a texter may type, in their language; the English words are understood in every language.
    message("keyword_any", "ANY"),
    message("keyword_wait", "WAIT"),
    message("keyword_callback", "CALLBACK"),
    message("keyword_help", "HELP"),
    message("keyword_delete", "DELETE"),
    # The word that picks this language as a whole text ("ESPAÑOL"); accents optional. Sent
    # during a conversation, it switches the conversation to this language and is answered so.
    message("keyword_language", "ENGLISH"),
    message("language_set", "OK: we'll text you in English from now on."),
)


def reply(language: str, key: str, *, count: int | None = None, **values: object) -> str:
    """The text `key` in `language` (English without a catalog), with values filled in."""
    return say(language, TEXTS[key], count, **values)


def with_crisis_numbers(language: str, words: str) -> str:
    return f"{words} {reply(language, 'crisis_numbers')}"


def fold(word: str) -> str:
    """Upper case without accents: "Español" and "ESPANOL" are one keyword."""
    decomposed = unicodedata.normalize("NFKD", normalize(word))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("Đ", "D")


def keyword_in(language: str, body: str, key: str) -> bool:
    """The whole message is this keyword, in English or in `language`."""
    said = fold(body)
    return said in (fold(reply(SOURCE_LANGUAGE, key)), fold(reply(language, key)))


def language_keyword_of(body: str, languages: Iterable[str]) -> str | None:
    said = fold(body)
    return next((lang for lang in languages if said == fold(reply(lang, "keyword_language"))), None)


def first_reply(line_name: str, keywords: list[str], language: str = SOURCE_LANGUAGE) -> str:
    """At most three short lines: who we are, how to ask for a shared experience, 988/911."""
    asks = ", ".join(keywords[:4])
    second = (reply(language, "first_keywords", keywords=asks, any=reply(language, "keyword_any"))
              if asks else reply(language, "first_no_keywords"))
    return "\n".join((reply(language, "first_intro", line=line_name), second,
                      reply(language, "first_danger")))


def help_reply(line_name: str, hours: str, language: str = SOURCE_LANGUAGE) -> str:
    return reply(language, "help", line=line_name, hours=hours, crisis=reply(language, "crisis_numbers"),
                 delete=reply(language, "keyword_delete"))


def _choices(language: str, key: str) -> str:
    return reply(language, key, any=reply(language, "keyword_any"),
                 wait=reply(language, "keyword_wait"),
                 callback=reply(language, "keyword_callback"))


def no_peer_yet(label: str | None, callbacks: bool, *, minutes: int,
                language: str = SOURCE_LANGUAGE) -> str:
    """The texter has waited the line's max_wait_seconds: say so, their choices, the next bound."""
    sorry = (reply(language, "no_peer_yet_match", label=label) if label
             else reply(language, "no_peer_yet"))
    if label:
        choices = "choices_wait_callback" if callbacks else "choices_wait"
    else:
        choices = "choices_callback_or_wait" if callbacks else "choices_keep_waiting"
    return with_crisis_numbers(language, " ".join((
        sorry, _choices(language, choices), reply(language, "closing_in", count=minutes))))


def waiting_reply(outlook: str, label: str | None, position: int | None,
                  callbacks: bool, *, all_talking: bool, language: str = SOURCE_LANGUAGE) -> str | None:
    """The honest state of a texter's wait, or None when a peer is being offered the text.

    "All with someone" only when every peer who could take the text is talking with someone
    (the voice side's rule): peers on shift but on a break are not "with someone"."""
    if outlook == "no_match" and label:
        choices = "choices_wait_callback" if callbacks else "choices_wait"
        return " ".join((reply(language, "no_match", label=label), _choices(language, choices)))
    if outlook == "all_busy":
        sentences: list[str] = []
        if all_talking:
            sentences.append(reply(language, "all_with_someone_match", label=label) if label
                             else reply(language, "all_with_someone"))
        else:
            sentences.append(reply(language, "free_soon_match", label=label) if label
                             else reply(language, "free_soon"))
        if position:
            sentences.append(reply(language, "position", position=position))
        if label:
            sentences.append(_choices(language, "choices_short_callback" if callbacks
                                      else "choices_short"))
        elif callbacks:
            sentences.append(_choices(language, "choices_callback"))
        return " ".join(sentences)
    return None


def chat_first_words(line_name: str, language: str = SOURCE_LANGUAGE) -> str:
    """The chat widget's first words: the first text reply's own, in the same language (who we
    are, not a crisis line; 988/911). Its middle line, the keywords, are the widget's buttons."""
    return "\n".join((reply(language, "first_intro", line=line_name), reply(language, "first_danger")))


def chat_refusal(line_name: str, why: str, language: str = SOURCE_LANGUAGE) -> str:
    """Why a chat could not start (closed, blocked, over a limit), always with the numbers."""
    return f"{line_name}: {why} {reply(language, 'crisis_numbers')}"
