"""Phone numbers: parse and normalise to E.164."""

from __future__ import annotations

import phonenumbers

# What carriers and Twilio put in `From` when the caller withholds their number: words, or
# numbers that spell them on a keypad (+266696687 "ANONYMOUS", +7378742833 "RESTRICTED",
# +2562533 "BLOCKED", +8656696 "UNKNOWN", +86282452253 "ANONYMOUS").
WITHHELD_NUMBERS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})


class InvalidPhoneNumberError(ValueError):
    """Raised for text that is not a valid, dialable phone number."""


def to_e164(text: str, default_region: str = "US") -> str:
    """Normalise a number to E.164, or raise InvalidPhoneNumberError with a reason a person can read."""
    try:
        parsed = phonenumbers.parse(text.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumberError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumberError("not a possible phone number (wrong length)")
    # Fictional 555-01xx numbers are "possible" but not "valid"; rosters and tests use them, so
    # possibility is the bar, as Twilio's own lookup does for unassigned ranges.
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(text: str) -> bool:
    try:
        return to_e164(text) == text
    except InvalidPhoneNumberError:
        return False


def is_withheld(text: str) -> bool:
    """True when `From` names no caller: empty, a word ("Anonymous", "Restricted"...) or one of
    the numbers that stand for a withheld caller. Such callers cannot be told apart."""
    value = text.strip()
    return not any(c.isdigit() for c in value) or value in WITHHELD_NUMBERS
