"""Phone numbers: parse and normalise to E.164."""

from __future__ import annotations

import phonenumbers


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
