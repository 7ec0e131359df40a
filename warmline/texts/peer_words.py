"""What a peer reads by text: the one-line answers to ON, OFF, BREAK and STATUS, and the notices
that set them off. In the peer's own language (warmline.services.peers.language); the English is
here, every other language is its catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from warmline.catalogs import (
    Message,
    PluralMessage,
    clock_24h,
    message,
    plural,
    say,
    short_day,
    short_weekday,
)

# Where the peer stands, by presence: one whole sentence each, so every language can say it its way.
_ON_SHIFT: Final[dict[str, Message]] = {
    "available": message("peer_on_available", "You're available on {line} until {time}."),
    "break": message("peer_on_break", "You're on a break on {line} until {time}."),
    "off": message("peer_on_off", "You're off on {line} until {time}."),
    "wrap_up": message("peer_on_wrap_up", "You're in wrap-up on {line} until {time}."),
    "offered": message("peer_on_offered", "You're being offered a contact on {line} until {time}."),
    "busy": message("peer_on_busy", "You're with a caller on {line} until {time}."),
}
_NOT_ON_SHIFT = message("peer_not_on_shift", "You're not on shift now; next shift {when}.")
_NO_SHIFT_PLANNED = message(
    "peer_no_shift_planned", "You're not on shift now, and no shift is planned in the next 14 days.")
_ON_WHEN_READY = message("peer_on_when_ready", "Text ON when you're ready.")

OFF_NOTICES: Final[dict[str, Message]] = {
    "missed_offers": message(
        "peer_off_missed_offers",
        "Warmline: you missed two offers in a row, so you're set to off. Text ON when you're ready."),
    "shift_ended": message("peer_off_shift_ended",
                           "Warmline: your shift has ended, so you're off now. Thank you."),
    "routing_rebuilt": message("peer_off_rebuilt",
                               "Warmline restarted and set you to off. Text ON when you're ready."),
}


def on_shift(language: str, presence: str, line: str, until: datetime) -> str:
    words = _ON_SHIFT.get(presence, _ON_SHIFT["off"])
    return say(language, words, line=line, time=clock_24h(language, until))


def not_on_shift(language: str, next_start: datetime | None) -> str:
    if next_start is None:
        return say(language, _NO_SHIFT_PLANNED)
    when = f"{short_weekday(language, next_start.date())} {clock_24h(language, next_start)}"
    return say(language, _NOT_ON_SHIFT, when=when)


def on_when_ready(language: str) -> str:
    return say(language, _ON_WHEN_READY)


def off_notice(language: str, reason: str) -> str | None:
    found = OFF_NOTICES.get(reason)
    return say(language, found) if found is not None else None


# The notices the workers send (warmline.services.texts.peer_texts), by kind. Keywords the peer
# texts back (YES 12, BREAK, ON) stay as they are: they are what the line understands.
NOTICES: Final[dict[str, Message]] = {
    "someone": message("peer_someone", "A peer"),
    "shift_reminder": message("peer_shift_reminder", "Warmline: your shift on {line} starts at {time}."),
    "support_needed": message(
        "peer_support_needed",
        "Warmline: {name} pressed \"need support\" on {line} and no admin is on shift. Please check in "
        "with them."),
    "open_shift": message(
        "peer_open_shift",
        "Warmline: {name} can't make {line} {when}. Open your dashboard to take it; the first to take "
        "it gets it."),
    "open_taken": message("peer_open_taken",
                          "Warmline: {name} took your shift on {line} {when}. Thank you for asking."),
    "swap_yes": message("peer_swap_yes",
                        "Warmline: your swap is approved: {line} {when} is yours. Thank you!"),
    "swap_no": message("peer_swap_no",
                       "Warmline: the swap for {line} {when} wasn't approved; the shift is open again."),
    "drop_in_ask": message(
        "peer_drop_in_ask",
        "Warmline: {name} asks to drop in on {line} for {minutes} minutes. Reply YES {ask} to approve "
        "or NO {ask} to decline."),
    "drop_in_yes": message(
        "peer_drop_in_yes",
        "Warmline: your drop-in on {line} is approved until {time}. You're available now; it ends by "
        "itself."),
    "drop_in_no": message("peer_drop_in_no",
                          "Warmline: your drop-in on {line} wasn't approved this time. Thank you."),
    "flood_caller": message(
        "peer_flood_caller",
        "Warmline: {line} is getting many calls from one caller. Callers over the limit are answered "
        "kindly. The live board has the details."),
    "flood_line": message(
        "peer_flood_line",
        "Warmline: {line} is getting a burst of calls to the line. Callers over the limit are answered "
        "kindly. The live board has the details."),
    "flood_caller_chat": message(
        "peer_flood_caller_chat",
        "Warmline: {line} is getting many chats from one person. Chatters over the limit are "
        "answered kindly. The live board has the details."),
    "flood_line_chat": message(
        "peer_flood_line_chat",
        "Warmline: {line} is getting a burst of chats to the line. Chatters over the limit are "
        "answered kindly. The live board has the details."),
    "long_call": message(
        "peer_long_call",
        "Warmline: a gentle reminder that you've been on this call {minutes} minutes. Take the time "
        "you need, and wrap up when it feels right."),
    "mentor_asked": message(
        "peer_mentor_asked",
        "Warmline: {name} asked for support on a call on {line}. We're ringing you now to listen in: "
        "only {name} will hear you."),
    "mentor_shadowing": message(
        "peer_mentor_shadowing",
        "Warmline: {name}, whom you're shadowing today, is on a call on {line}. We're ringing you "
        "now to listen in, muted: nobody hears you unless you unmute from your dashboard, and then "
        "only {name} does."),
}
REST_DUE: Final[PluralMessage] = plural(
    "peer_rest_due",
    "Warmline: that's {count} contact in a row. When this one ends, please take a 10-minute break: "
    "text BREAK, then ON when you're back. Nothing more is offered to you until you've had one.",
    "Warmline: that's {count} contacts in a row. When this one ends, please take a 10-minute break: "
    "text BREAK, then ON when you're back. Nothing more is offered to you until you've had one.")
THIN_HOURS: Final[PluralMessage] = plural(
    "peer_thin_hours",
    "Warmline: {line} has {count} thin hour in the next 14 days, the first {when}. The live board "
    "lists them.",
    "Warmline: {line} has {count} thin hours in the next 14 days, the first {when}. The live board "
    "lists them.")


def notice(language: str, kind: str, **values: object) -> str:
    return say(language, NOTICES[kind], None, **values)


def rest_due(language: str, in_a_row: int) -> str:
    return say(language, REST_DUE, in_a_row)


def thin_hours(language: str, line: str, hours: int, first: datetime) -> str:
    return say(language, THIN_HOURS, hours, line=line, when=when(language, first))


def when(language: str, at: datetime, until: datetime | None = None) -> str:
    """A day and time (and an end time) as a text writes them, in the peer's language."""
    start = f"{short_day(language, at)} {clock_24h(language, at)}"
    return f"{start}-{clock_24h(language, until)}" if until is not None else start


def clock(language: str, at: datetime) -> str:
    return clock_24h(language, at)
