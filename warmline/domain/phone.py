"""Phone numbers: parse and normalise to E.164."""

from __future__ import annotations

import phonenumbers

# What carriers and Twilio put in `From` when the caller withholds their number: words, or
# numbers that spell them on a keypad (+266696687 "ANONYMOUS", +7378742833 "RESTRICTED",
# +2562533 "BLOCKED", +8656696 "UNKNOWN", +86282452253 "ANONYMOUS").
WITHHELD_NUMBERS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})


class InvalidPhoneNumberError(ValueError):
    """Raised for text that is not a valid, dialable phone number."""


class NotCallableNumberError(InvalidPhoneNumberError):
    """A real number the line must not call: another country's, or premium-rate, toll-free,
    shared-cost, pager, voicemail or organisations' (UAN) numbers (toll fraud, or ringing a
    stranger abroad)."""


# A person's own phone: what a call back may ring. Personal (follow-me) numbers forward to
# one: US 5XX numbers are billed as ordinary calls, and Ofcom capped UK 070 rates in 2019.
CALLABLE_TYPES = frozenset({
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER,
})


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


def region_of(e164: str) -> str:
    """The country (ISO 3166 code) of an E.164 number; for a number phonenumbers cannot place,
    the main country of its calling code (+1: US)."""
    parsed = phonenumbers.parse(e164, None)
    return (phonenumbers.region_code_for_number(parsed)
            or phonenumbers.region_code_for_country_code(parsed.country_code or 0))


def to_callback_number(text: str, line_number: str) -> str:
    """A number a caller gave for a call back, as E.164, if the line may call it: in the line's
    own country and of a type a person answers (CALLABLE_TYPES). Digits are read as the line's
    country dials them (`011 44...` from a US line is the UK, and refused).

    Raises InvalidPhoneNumberError for what is no number, NotCallableNumberError for a number
    the line must not call.
    """
    region = region_of(line_number)
    e164 = to_e164(text, default_region=region)
    parsed = phonenumbers.parse(e164, None)
    if not phonenumbers.is_valid_number(parsed):
        # Unknown to the numbering plan: never premium-rate (those ranges are listed), so only
        # the country is checked.
        if parsed.country_code != phonenumbers.country_code_for_region(region):
            raise NotCallableNumberError("not a number in the line's country")
        return e164
    if phonenumbers.region_code_for_number(parsed) != region:
        raise NotCallableNumberError("not a number in the line's country")
    if phonenumbers.number_type(parsed) not in CALLABLE_TYPES:
        raise NotCallableNumberError("not a number a call back may ring (premium-rate, toll-free...)")
    return e164
