"""What a peer reads by text: the one-line answers to ON, OFF, BREAK and STATUS, and the notices
that set them off. In the peer's own language (warmline.services.peers.language); the English is
here, every other language is its catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from warmline.catalogs import Message, clock_24h, message, say, short_weekday

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
