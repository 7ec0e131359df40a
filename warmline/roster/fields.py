"""Checks for single values of the roster file; each returns the clean value or raises FieldError."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers

from warmline.domain.phone import InvalidPhoneNumberError, to_e164
from warmline.domain.schedule import validate_rrule
from warmline.roster.schema import (
    EMAIL_MAX,
    EXPERIENCE_KEY_MAX,
    KEYWORD_MAX,
    RESERVED_KEYWORDS,
    IntSetting,
)
from warmline.wording import N_

_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_START = re.compile(r"\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_EXPERIENCE_KEY = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{EXPERIENCE_KEY_MAX - 1}}}")
_KEYWORD = re.compile(rf"[A-Z][A-Z0-9]{{0,{KEYWORD_MAX - 1}}}")
# C0 and C1 controls but tab and newline, lone surrogates, and the two non-characters XML refuses.
_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:]+\])(:[0-9]{1,5})?")
# Plain http only for a page on the same machine (a test, a local demo): browsers treat those
# as secure contexts, and nobody else can read the traffic.
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class FieldError(ValueError):
    """A value that does not fit its key; the message is shown after the value's path."""


def describe(value: object) -> str:
    """How YAML read a value, for messages about the wrong type."""
    if value is None:
        return N_("nothing")
    if isinstance(value, bool):
        return N_("the boolean %(value)s", value=str(value).lower())
    if isinstance(value, int | float):
        return N_("the number %(value)s", value=value)
    if isinstance(value, str):
        return f"{value!r}"
    if isinstance(value, list):
        return N_("a list")
    if isinstance(value, dict):
        return N_("a mapping")
    return type(value).__name__


def _string(value: object, what: str, example: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | bool):
        raise FieldError(N_("expected %(what)s in quotes, e.g. %(example)s; YAML read %(got)s",
                            what=what, example=repr(example), got=describe(value)))
    raise FieldError(N_("expected %(what)s; YAML read %(got)s", what=what, got=describe(value)))


def refuse_control_characters(value: str) -> None:
    """Control characters are never meant (a paste from a terminal or a PDF) and TwiML cannot
    carry them: one in a label would break the menu of every caller. Tabs and newlines may stay."""
    found = _CONTROL.search(value)
    if found is not None:
        raise FieldError(N_("contains a control character (%(code)s) at character %(at)s; remove it",
                            code=f"U+{ord(found.group()):04X}", at=found.start() + 1))


def text(max_length: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise FieldError(N_("expected text, got %(got)s", got=describe(value)))
        # A browser's textarea sends CRLF line ends: a line end, not a control character.
        typed = value.replace("\r\n", "\n")
        refuse_control_characters(typed)  # before strip(), which would hide some of them
        cleaned = typed.strip()
        if not cleaned:
            raise FieldError(N_("must not be empty"))
        if len(cleaned) > max_length:
            raise FieldError(N_("at most %(most)s characters, got %(count)s", most=max_length,
                                count=len(cleaned)))
        return cleaned

    return check


def integer(setting: IntSetting) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(N_("expected a whole number, got %(got)s", got=describe(value)))
        if not setting.low <= value <= setting.high:
            raise FieldError(N_("must be from %(low)s to %(high)s, got %(value)s", low=setting.low,
                                high=setting.high, value=value))
        return value

    return check


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise FieldError(N_("expected true or false, got %(got)s", got=describe(value)))
    return value


def phone(value: object) -> str:
    raw = _string(value, "a phone number", "+12125550100").strip()
    try:
        # No default region: the file holds E.164 numbers, so a number without +country is wrong.
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        suggestion = _as_e164(raw)
        if suggestion is not None:
            raise FieldError(N_("write the number in E.164 form, %(number)s, not %(value)s",
                                number=repr(suggestion), value=repr(raw))) from None
        raise FieldError(N_("not a valid phone number (%(value)s: %(why)s)", value=repr(raw),
                            why=exc.args[0])) from None
    # Fictional 555-01xx numbers are possible but not "valid" to phonenumbers; possibility is
    # the bar, as in warmline.domain.phone.
    if not phonenumbers.is_possible_number(parsed):
        raise FieldError(N_("not a valid phone number (%(value)s: wrong length for its country)",
                            value=repr(raw)))
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164 != raw:
        raise FieldError(N_("write the number in E.164 form, %(number)s, not %(value)s",
                            number=repr(e164), value=repr(raw)))
    return e164


def _as_e164(raw: str) -> str | None:
    try:
        return to_e164(raw)
    except InvalidPhoneNumberError:
        return None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone(value: object) -> str:
    name = _string(value, "an IANA time zone", "America/New_York")
    if name not in _zones():
        raise FieldError(N_("unknown time zone %(value)s (an IANA name such as 'America/New_York')",
                            value=repr(name)))
    return name


def clock_time(value: object) -> time:
    raw = _string(value, "a time HH:MM", "09:00")
    match = _TIME.fullmatch(raw.strip())
    if match is None:
        raise FieldError(N_("expected a time HH:MM (00:00 to 23:59), got %(value)s", value=repr(raw)))
    return time(int(match[1]), int(match[2]))


def iso_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # YAML reads an unquoted 2026-12-25 as a date already
    raw = _string(value, "a date YYYY-MM-DD", "2026-12-25")
    if not _DATE.fullmatch(raw.strip()):
        raise FieldError(N_("expected a date YYYY-MM-DD, got %(value)s", value=repr(raw)))
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise FieldError(N_("not a date: %(why)s", why=str(exc))) from None


def local_start(value: object) -> datetime:
    raw = _string(value, "a local start 'YYYY-MM-DD HH:MM'", "2026-12-01 09:00")
    if not _START.fullmatch(raw.strip()):
        raise FieldError(N_("expected a local start 'YYYY-MM-DD HH:MM', got %(value)s",
                            value=repr(raw)))
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise FieldError(N_("not a date and time: %(why)s", why=str(exc))) from None


def language(value: object) -> str:
    # YAML 1.1 reads an unquoted `no` (Norwegian) as false, hence the hint in _string.
    raw = _string(value, "a language code", "no")
    if not _LANGUAGE.fullmatch(raw):
        raise FieldError(N_("expected a 2 or 3 letter lower-case language code, got %(value)s",
                            value=repr(raw)))
    return raw


def choice(options: Collection[str]) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in options:
            raise FieldError(N_("expected one of %(options)s, got %(got)s", options=", ".join(options),
                                got=describe(value)))
        return value

    return check


def email(value: object) -> str:
    refuse_control_characters(_string(value, "an email address", "sam@example.org"))
    raw = _string(value, "an email address", "sam@example.org").strip()
    if len(raw) > EMAIL_MAX or not _EMAIL.fullmatch(raw):
        raise FieldError(N_("not a valid email address: %(value)s", value=repr(raw)))
    return raw.lower()


def experience_key(value: object) -> str:
    raw = _string(value, "an experience key", "recovery")
    if not _EXPERIENCE_KEY.fullmatch(raw):
        raise FieldError(N_("expected lower-case letters, digits, '-' or '_' (at most %(most)s), "
                            "got %(value)s", most=EXPERIENCE_KEY_MAX, value=repr(raw)))
    return raw


def keyword(value: object) -> str:
    raw = _string(value, "a keyword", "RECOVERY")
    if not _KEYWORD.fullmatch(raw):
        raise FieldError(N_("expected upper-case letters and digits, starting with a letter (at "
                            "most %(most)s), got %(value)s", most=KEYWORD_MAX, value=repr(raw)))
    if raw in RESERVED_KEYWORDS:
        raise FieldError(N_("%(value)s is reserved for texters' and peers' commands", value=raw))
    return raw


def repeat_rule(value: object) -> str:
    raw = _string(value, "an RRULE", "FREQ=WEEKLY;BYDAY=TU")
    problem = validate_rrule(raw)
    if problem is not None:
        raise FieldError(problem)
    return raw.strip().upper().removeprefix("RRULE:")


def origin(value: object) -> str:
    """A web origin as browsers send it: scheme, host and port only (no path, no slash)."""
    raw = _string(value, "an origin", "https://example.org").strip().lower()
    found = _ORIGIN.fullmatch(raw)
    if found is None:
        raise FieldError(N_("expected an origin such as 'https://example.org' (scheme, host and "
                            "optional port; no path), got %(value)s", value=repr(raw)))
    if found.group(1) == "http" and found.group(2) not in _LOCAL_HOSTS:
        raise FieldError(N_("must be https:// (plain http only for localhost), got %(value)s",
                            value=repr(raw)))
    return raw
