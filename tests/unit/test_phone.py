"""Phone numbers: withheld callers, and which numbers a call back may ring."""

from __future__ import annotations

import pytest

from warmline.domain.phone import (
    InvalidPhoneNumberError,
    NotCallableNumberError,
    is_withheld,
    to_callback_number,
)

US_LINE = "+12125550100"
UK_LINE = "+442071234000"


@pytest.mark.parametrize("sent", ["Anonymous", "Restricted", "+266696687", "", "  ", "Unknown",
                                  "UNAVAILABLE", "+7378742833", "+2562533", "+8656696"])
def test_withheld_numbers_are_recognised(sent: str) -> None:
    assert is_withheld(sent)


@pytest.mark.parametrize("sent", ["+12125550142", "+447911123456", "12345"])
def test_real_numbers_and_short_codes_are_not_withheld(sent: str) -> None:
    assert not is_withheld(sent)


@pytest.mark.parametrize(("typed", "line", "expected"), [
    ("+12125550142", US_LINE, "+12125550142"),
    ("2125550142", US_LINE, "+12125550142"),       # typed as the line's country dials it
    ("1 718 555 1000", US_LINE, "+17185551000"),
    ("02071234567", UK_LINE, "+442071234567"),
    ("07400123456", UK_LINE, "+447400123456"),     # a UK mobile
    ("+15005550006", US_LINE, "+15005550006"),     # a personal (follow-me) number
])
def test_numbers_in_the_lines_country_are_accepted(typed: str, line: str, expected: str) -> None:
    assert to_callback_number(typed, line) == expected


@pytest.mark.parametrize(("typed", "line"), [
    ("01144207123456", US_LINE),   # international from the US
    ("+442071234567", US_LINE),
    ("+18765551234", US_LINE),     # Jamaica shares +1: still another country
    ("+14165550123", US_LINE),     # Canada
    ("19005551234", US_LINE),      # premium rate
    ("+19005550123", US_LINE),
    ("18005550123", US_LINE),      # toll free
    ("+12125550142", UK_LINE),
    ("09098790000", UK_LINE),      # UK premium rate
    ("08001234567", UK_LINE),      # UK freephone
    ("03001234567", UK_LINE),      # UK non-geographic (UAN): an organisation's
    ("07640123456", UK_LINE),      # UK pager
])
def test_other_countries_and_uncallable_types_are_refused(typed: str, line: str) -> None:
    with pytest.raises(NotCallableNumberError):
        to_callback_number(typed, line)


@pytest.mark.parametrize("typed", ["1900", "", "12", "Anonymous"])
def test_what_is_no_number_is_refused_as_such(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        to_callback_number(typed, US_LINE)
    assert not isinstance(caught.value, NotCallableNumberError)
