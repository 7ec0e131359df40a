"""The webhook signature check agrees with twilio-python's validator on every form and URL.

`is_valid_signature` computes the usual case (the URL as configured) itself, in one HMAC per
token, and leaves the rest to `RequestValidator`; twilio-python is the oracle here.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from warmline.telephony.signature import is_valid_signature

TOKEN = "12345678901234567890123456789012"
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
forms = st.lists(st.tuples(names, values), max_size=8)
urls = st.sampled_from([
    "https://warmline.example.org/twilio/voice",
    "https://warmline.example.org:443/twilio/voice/menu?contact=abc",
    "https://warmline.example.org:8443/twilio/voice/wait?contact=a&b=%20c",
    "http://127.0.0.1:5000/twilio/sms",
])


def _twilio_form(pairs: list[tuple[str, str]]) -> MultiDict[str, str]:
    return MultiDict(pairs)


@settings(max_examples=300, deadline=None)
@given(pairs=forms, url=urls, signed_port=st.sampled_from(["as is", "with", "without"]),
       token=st.sampled_from([TOKEN, "another-token"]))
def test_agrees_with_twilio_on_what_twilio_signed(pairs: list[tuple[str, str]], url: str,
                                                   signed_port: str, token: str) -> None:
    form = _twilio_form(pairs)
    validator = RequestValidator(TOKEN)
    signed_url = url
    if signed_port == "with" and ":" not in url.split("//")[1].split("/", maxsplit=1)[0]:
        signed_url = url.replace(".org/", ".org:443/", 1)
    elif signed_port == "without":
        signed_url = url.replace(":443/", "/", 1)
    signature = RequestValidator(token).compute_signature(signed_url, form)
    expected = validator.validate(url, form, signature)
    assert is_valid_signature(url, form, signature, [TOKEN]) == expected
    # The plain-mapping form (lists of values) the check also takes says the same.
    as_lists = {key: form.getlist(key) for key in form}
    assert is_valid_signature(url, as_lists, signature, [TOKEN]) == expected


@settings(max_examples=200, deadline=None)
@given(pairs=forms, url=urls, forged=st.text(max_size=40))
def test_refuses_what_twilio_refuses(pairs: list[tuple[str, str]], url: str, forged: str) -> None:
    form = _twilio_form(pairs)
    expected = RequestValidator(TOKEN).validate(url, form, forged)
    assert is_valid_signature(url, form, forged, [TOKEN]) == expected


def test_a_repeated_key_signs_each_distinct_value_once() -> None:
    form = MultiDict([("From", "+15005550006"), ("From", "+15005550006"), ("To", "+1212")])
    url = "https://warmline.example.org/twilio/voice"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    assert is_valid_signature(url, form, signature, ["old", TOKEN])
    assert not is_valid_signature(url, form, signature, ["old"])
    assert not is_valid_signature(url, form, "", [TOKEN])
