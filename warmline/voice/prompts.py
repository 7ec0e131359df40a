"""Everything a caller or peer hears, by key, and the voice that reads each language.

The English text is here; every other language is its catalog (`warmline.catalogs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from warmline.catalogs import Message, PluralMessage, message, plural, say, spoken_clock, weekday


@dataclass(frozen=True)
class Voice:
    name: str
    locale: str


# One voice per language: Polly or Google voices Twilio offers for that language, by name
# (the TwiML schema's voice pattern; a test checks each against it). A new language adds a row.
VOICES: Final[dict[str, Voice]] = {
    "en": Voice("Polly.Joanna-Neural", "en-US"),
    "es": Voice("Polly.Lupe-Neural", "es-US"),
    "vi": Voice("Google.vi-VN-Standard-A", "vi-VN"),
}

# Each language's own line in the language menu, read in that language by its voice.
LANGUAGE_CHOICE: Final = message("language_choice", "For English, press {digit}.")


def _by_key(*found: Message | PluralMessage) -> dict[str, Message | PluralMessage]:
    return {words.key: words for words in found}


PROMPTS: Final[dict[str, Message | PluralMessage]] = _by_key(
    message("default_greeting", "You've reached {line}. We're people with lived experience, here to listen."),
    message("not_crisis",
        "This is peer support, not a crisis line. If you are in danger, hang up and call 9 1 1, or call "
        "or text 9 8 8. To talk with a crisis counselor now, press 9."),
    message("menu_intro", "To talk with a peer who shares an experience, choose:"),
    message("menu_item", "For {label}, press {digit}."),
    message("menu_anyone", "To talk with the next available peer, press 0."),
    message("no_input_anyone", "We'll connect you with the next available peer."),
    message("unknown_line",
        "Sorry, this number is not set up to take calls right now. If you are in danger, call 9 1 1, or "
        "call or text 9 8 8. Goodbye."),
    message("blocked",
        "We're not able to take your call on this line. If you need support now, you can call or text 9 8"
        " 8 any time. Take care."),
    message("over_limit",
        "You've reached today's limit of calls to this line, so we can't connect you now. You're welcome "
        "to call again tomorrow. If you need someone now, you can call or text 9 8 8, or call 2 1 1 for "
        "local services. Take care of yourself."),
    message("flood_caller",
        "We've had a lot of calls from this phone in the last few minutes, so we can't connect this one. "
        "Please wait a little and call again. If you need someone now, you can call or text 9 8 8 any "
        "time. Take care."),
    message("flood_line",
        "Our line is getting an unusual number of calls right now and can't take yours. Please try again "
        "in a few minutes. If you need someone now, you can call or text 9 8 8 any time. In an emergency,"
        " call 9 1 1."),
    message("flood_line_backup",
        "Our line is getting an unusual number of calls right now, so we're connecting you with a partner"
        " line. Please hold."),
    message("closed", "{line} is closed right now."),
    # The day and time come from Babel, in the language; the sentence around them is whole.
    message("closed_next_today", "We open again today at {time}."),
    message("closed_next_tomorrow", "We open again tomorrow at {time}."),
    message("closed_next_day", "We open again on {day} at {time}."),
    message("closed_resources",
        "If you need someone now, you can call or text 9 8 8 any time. In an emergency, call 9 1 1."),
    message("closed_callback", "To ask for a call back when we're open, press 1."),
    message("goodbye", "Thank you for calling. Take care."),
    # Hold updates say only what is true: "talking with callers" only when every
    # peer who could take the call is on one; otherwise "as soon as one is free".
    message("wait_match_none", "Nobody who shares {experience} is on shift right now."),
    message("wait_match_all_talking", "Everyone who shares {experience} is talking with a caller right now."),
    message("wait_match_free_soon",
        "A peer who shares {experience} will be with you as soon as one is free."),
    message("wait_all_talking", "All of our peers are talking with callers right now."),
    message("wait_free_soon", "A peer will be with you as soon as one is free."),
    message("wait_position", "You are number {position} in line."),
    plural("wait_estimate", "The wait is about {count} minute.",
           "The wait is about {count} minutes."),
    message("wait_choices_match",
        "Stay on the line to wait for them. To talk with the next available peer instead, press 0."),
    message("wait_choices", "Stay on the line to keep your place."),
    message("wait_callback", "To be called back instead, press 1."),
    message("wait_crisis", "To talk with a crisis counselor now, press 9."),
    message("wait_connecting", "Connecting you with a peer now."),
    message("wait_any_ok", "Okay. We'll connect you with the next available peer."),
    message("max_wait", "We're sorry we couldn't reach a peer in time."),
    message("max_wait_backup", "Or stay on the line, and we'll connect you with our partner line."),
    message("max_wait_no_backup", "Please call back later, or call or text 9 8 8 any time."),
    message("transfer_crisis", "Connecting you with a crisis counselor now. Please stay on the line."),
    message("transfer_backup", "Connecting you with our partner line now. Please stay on the line."),
    message("no_crisis_number", "Please hang up and call or text 9 8 8, or call 9 1 1 in an emergency."),
    message("degraded", "We're having trouble connecting your call."),
    message("degraded_backup", "We'll connect you with our partner line now."),
    message("degraded_no_backup",
        "Please try again in a few minutes. If you need someone now, call or text 9 8 8, or call 9 1 1 in"
        " an emergency."),
    message("callback_confirm_number",
        "We can call you back at the number you're calling from. To use it, press 1. To enter a different"
        " number, press 2."),
    message("callback_enter_number",
        "Please enter the number to call, with the area code, then press pound."),
    message("callback_bad_number", "Sorry, that doesn't look like a phone number we can call."),
    message("callback_number_not_callable",
        "Sorry, we can only call back a home, work or mobile number in this country, not an "
        "international, premium-rate or toll-free number."),
    message("callback_window",
        "To be called back as soon as a peer is free, press 1. To be called back later today, press 2."),
    message("callback_message",
        "If we call and nobody answers, may we leave a short message that says only 'this is the warmline"
        " returning your call'? Press 1 for yes, 2 for no."),
    message("callback_done",
        "Thank you. A peer will call you back from this line's number. Take care until then."),
    message("callback_unavailable", "Sorry, call backs aren't available on this line."),
    message("invalid_choice", "Sorry, I didn't get that."),
    message("no_key_heard", "Sorry, I didn't hear anything."),
    # When a question's bound is reached, the call moves on and says how.
    message("language_default", "We'll continue in English."),
    # A caller back within minutes of a call that dropped (DESIGN step 10).
    message("reconnect_offer",
        "Welcome back. To talk again with the peer you were just speaking with, press 1. To talk with "
        "someone else, press 2."),
    message("reconnect_trying", "We'll try the same peer first."),
    message("hold_place_kept", "You keep your place in line."),
    message("callback_not_set", "We couldn't set up a call back this time."),
    message("back_in_line", "You're back in line, and you keep your place."),
    message("callback_window_default", "We'll call you back as soon as a peer is free."),
    message("callback_no_message", "We won't leave a message."),
    # What a peer hears. Nothing about the caller before they press 1: it might be voicemail.
    message("peer_whisper", "Warmline call. Press 1 to accept."),
    message("peer_connecting", "Connecting you now. {line}. The caller asked for {experience}."),
    message("peer_reconnecting",
        "Connecting you now. {line}. This is the caller whose call with you just ended: they asked for "
        "you again."),
    message("peer_taking_over",
        "Connecting you now. {line}. A peer asks you to take over their call; the caller asked for "
        "{experience}. The peer may brief you first."),
    message("mentor_joined",
        "Another peer has joined this call to support the peer you're talking with."),
    message("peer_anyone", "anyone"),
    # The peer's keypad during the call: `*` steps out of the room to this menu.
    message("keypad_hint", "During the call, press star for options."),
    message("keypad_menu",
        "Your caller is on hold. To bring in the crisis line, press 9. To ask a mentor to join, "
        "press 5. To go back to your caller, press 0."),
    message("keypad_back", "Back to your caller."),
    message("keypad_crisis_calling", "We're calling the crisis line into your call. Back to your caller."),
    message("keypad_crisis_refused",
        "The crisis line can't be brought in right now. Back to your caller."),
    message("keypad_someone_coming",
        "Someone is already being brought into this call. Back to your caller."),
    message("keypad_mentor_calling", "We're asking a mentor to join you. Back to your caller."),
    message("keypad_mentor_refused", "No mentor is free right now. Back to your caller."),
    message("peer_already_helped", "This caller has already been helped. Thank you."),
    message("peer_declined", "Okay. Thank you."),
    message("peer_call_ended", "The call has ended. Thank you. Take a moment for yourself."),
    message("peer_callback_whisper", "Warmline call back. Press 1 to accept."),
    message("peer_callback_connecting",
        "A caller who asked for {experience} would like a call back. We're calling them now; please stay "
        "on the line."),
    message("callback_caller_prompt", "Hello. Press 1 for the call back you asked for."),
    message("callback_voicemail", "This is the warmline returning your call."),
    # Callbacks, after the peer's 1.
    message("peer_callback_waiting", "We're still calling them. Please stay on the line."),
    message("peer_callback_missed", "They didn't answer this time. We'll try them again later. Thank you."),
    message("peer_callback_ended", "The call back has ended. Thank you. Take a moment for yourself."),
    message("callback_caller_sorry",
        "Sorry, the peer who was calling you had to step away. We'll call you again soon."),
    # After the call, when the peer hung up first: one anonymous question, then the resources.
    message("peer_ended_call", "Your peer has ended the call."),
    message("survey_question",
        "Before you go, one quick question. Your answer is anonymous. How heard did you feel today? "
        "Press a number from 1, not at all, to 5, completely."),
    message("survey_thanks", "Thank you for telling us."),
    message("resources_offer",
        "To get a text from us with some resources, press 1. Otherwise, you can hang up."),
    message("resources_sent", "We'll text them to you now, once, from this line's number."),
    message("resources_not_sent", "Sorry, we couldn't send the text this time."),
)


def text(language: str, key: str, *, count: int | None = None, **values: object) -> str:
    """The prompt `key` in `language` (English without a catalog), with values filled in."""
    return say(language, PROMPTS[key], count, **values)


def language_choice(language: str, digit: int) -> str:
    return say(language, LANGUAGE_CHOICE, digit=digit)


def opening_words(language: str, at: datetime, today: datetime) -> str:
    """"We open again tomorrow at 6:00 PM." in `language`; both times in the line's timezone."""
    clock = spoken_clock(language, at)
    days = (at.date() - today.date()).days
    if days == 0:
        return text(language, "closed_next_today", time=clock)
    if days == 1:
        return text(language, "closed_next_tomorrow", time=clock)
    return text(language, "closed_next_day", day=weekday(language, at.date()), time=clock)


def voice_for(language: str) -> Voice:
    return VOICES.get(language, VOICES["en"])
