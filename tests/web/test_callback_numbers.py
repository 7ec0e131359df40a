"""A call back rings only a number in the line's own country that a person answers: the exact
entries of the review (`01144...`, `1900...`) are refused, and the caller is told why."""

from __future__ import annotations

import re
import uuid

import pytest
from flask.testing import FlaskClient

from tests.support.dashboard import make_line
from tests.support.signed import post_twiml
from warmline.runtime import Runtime
from warmline.voice import urls
from warmline.voice.state import CallState

LINE = "+12125550100"
REFUSED = "we can only call back a home, work or mobile number in this country"


def _call(client: FlaskClient, runtime: Runtime, caller: str) -> tuple[str, dict[str, str]]:
    make_line(runtime, LINE)
    form = {"CallSid": "CA" + uuid.uuid4().hex, "From": caller, "To": LINE}
    menu = post_twiml(client, runtime, "/twilio/voice", form)
    found = re.search(r"contact=([0-9a-f]+)", menu)
    assert found is not None
    return found.group(1), form


def _number_saved(runtime: Runtime, contact_id: str) -> bool:
    return "number" in CallState(runtime.redis).callback_draft(contact_id)


@pytest.mark.parametrize("typed", ["01144207123456", "19005551234", "18005550123", "8765551234"])
def test_a_typed_number_abroad_or_premium_is_refused_and_the_caller_told(
    client: FlaskClient, runtime: Runtime, typed: str,
) -> None:
    contact_id, form = _call(client, runtime, "+12125550142")
    path = f"{urls.CALLBACK_ENTERED}?contact={contact_id}"
    answer = post_twiml(client, runtime, path, {**form, "Digits": typed})
    assert REFUSED in answer and "Please enter the number to call" in answer
    assert not _number_saved(runtime, contact_id)


def test_the_calling_number_is_refused_when_it_is_abroad(client: FlaskClient,
                                                         runtime: Runtime) -> None:
    contact_id, form = _call(client, runtime, "+442071234567")
    path = f"{urls.CALLBACK_NUMBER}?contact={contact_id}"
    answer = post_twiml(client, runtime, path, {**form, "Digits": "1"})
    assert REFUSED in answer and not _number_saved(runtime, contact_id)


def test_a_number_in_the_lines_country_is_taken(client: FlaskClient, runtime: Runtime) -> None:
    contact_id, form = _call(client, runtime, "+12125550142")
    path = f"{urls.CALLBACK_ENTERED}?contact={contact_id}"
    answer = post_twiml(client, runtime, path, {**form, "Digits": "7185551000"})
    assert "To be called back as soon as a peer is free" in answer
    assert _number_saved(runtime, contact_id)


def test_no_number_at_all_is_told_as_before(client: FlaskClient, runtime: Runtime) -> None:
    contact_id, form = _call(client, runtime, "+12125550142")
    path = f"{urls.CALLBACK_ENTERED}?contact={contact_id}"
    answer = post_twiml(client, runtime, path, {**form, "Digits": "1900"})
    assert "doesn't look like a phone number we can call" in answer and REFUSED not in answer
