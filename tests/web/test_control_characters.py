"""Control characters in an admin's text (`Grief\\x0band\\x01loss`) are refused where they are typed,
with the field's path, and never reach TwiML, where one would break every caller's menu."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.admin import field_error, load_example, post, sign_in_admin, text, value_of
from tests.support.dashboard import make_line
from tests.support.roster import LINE, errors, roster
from tests.support.twiml_schema import assert_valid_voice_twiml
from warmline.models import Experience, Line, Peer
from warmline.roster.validate import parse_roster
from warmline.runtime import Runtime
from warmline.telephony import messaging_twiml
from warmline.telephony.signature import compute_signature

BAD = "Grief\x0band\x01loss"


@pytest.mark.parametrize(("section", "path"), [
    ('experiences: [{key: grief, label: "Grief\\vand\\x01loss", digit: 5, keyword: GRIEF}]',
     "experiences[0].label"),
    ('experiences: [{key: grief, label: Grief, digit: 5, keyword: GRIEF,'
     ' labels: {es: "Duelo\\x0b"}}]', "experiences[0].labels.es"),
    (f'lines: [{LINE[:-1]}, greeting: {{en: "Hello\\x1b[31m"}}}}]', "lines[0].greeting.en"),
    ('lines: [{number: "+12125550100", name: "Night\\u0085line", timezone: UTC}]',
     "lines[0].name"),
    ('peers: [{email: a@example.org, name: "A\\x00B", phone: "+12125550101"}]', "peers[0].name"),
])
def test_the_roster_file_refuses_control_characters_at_their_path(section: str, path: str) -> None:
    found = errors(roster(section))
    assert len(found) == 1 and found[0].startswith(f"{path}: contains a control character (U+"), found


def test_tabs_and_line_ends_are_text_not_control_characters() -> None:
    parsed = parse_roster(roster(
        f'lines: [{LINE[:-1]}, greeting: {{en: "First line.\\r\\nSecond\\tline."}}}}]'))
    assert parsed.lines[0].greeting == {"en": "First line.\nSecond\tline."}


def test_admin_forms_refuse_control_characters_at_the_field(client: FlaskClient,
                                                            runtime: Runtime) -> None:
    load_example(runtime)
    sign_in_admin(client, runtime)
    line = {"name": "Night\x07Line", "number": "+12125550150", "timezone": "Europe/London",
            "languages": "en", "active": "1", "hour_rows": "1", "hours-0-days": [],
            "hours-0-open": "", "hours-0-close": "", "greeting-en": "Hello\x01there"}
    response = post(client, "/admin/lines/new", line)
    page = text(response)
    assert response.status_code == 422
    assert "control character (U+0007) at character 6" in field_error(page, "name")
    assert "control character (U+0001) at character 6" in field_error(page, "greeting-en")

    page = text(client.get("/admin/experiences"))
    form: dict[str, str | list[str]] = {"rows": "6"}
    for i in range(6):
        for name in ("id", "key", "label", "digit", "keyword", "labels"):
            field = f"experiences-{i}-{name}"
            form[field] = value_of(page, field) if name != "labels" else ""
        if f'id="f-experiences-{i}-active" name="experiences-{i}-active" value="1" checked' in page:
            form[f"experiences-{i}-active"] = "1"
    form.update({"experiences-5-key": "youth", "experiences-5-label": BAD,
                 "experiences-5-digit": "6", "experiences-5-keyword": "youth",
                 "experiences-5-active": "1"})
    response = post(client, "/admin/experiences", form)
    assert response.status_code == 422
    assert "control character (U+000B) at character 6" in field_error(text(response),
                                                                      "experiences-5-label")

    peer = {"email": "jo@example.org", "name": "Jo\x1fPeer", "phone": "+12125550177",
            "languages": "en", "channels": ["voice"], "max_texts": "2", "role": "peer"}
    response = post(client, "/admin/peers/new", peer)
    assert response.status_code == 422
    assert "control character (U+001F)" in field_error(text(response), "name")
    with runtime.sessions() as session:
        assert session.scalars(select(Line).where(Line.number == "+12125550150")).first() is None
        assert session.scalars(select(Experience).where(Experience.key == "youth")).first() is None
        assert session.scalars(select(Peer).where(Peer.email == "jo@example.org")).first() is None


def test_text_stored_before_the_check_never_reaches_twiml(client: FlaskClient,
                                                          runtime: Runtime) -> None:
    line_id = make_line(runtime, "+15005550001", name="Main\x0cline")
    with runtime.sessions.begin() as session:
        line = session.get(Line, line_id)
        assert line is not None
        line.greeting = {"en": "Welcome\x02 to the line."}
        session.add(Experience(key="grief", label=BAD, labels={}, digit=5, keyword="GRIEF"))
    form = {"CallSid": "CA" + uuid.uuid4().hex, "From": "+12125550142", "To": "+15005550001"}
    signature = compute_signature(runtime.settings.twilio_auth_token,
                                  "http://localhost/twilio/voice", form)
    response = client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": signature})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_valid_voice_twiml(body)
    assert "Grief and loss" in body and "Welcome  to the line." in body
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in body)


def test_text_replies_carry_no_control_characters() -> None:
    body = messaging_twiml.reply("Main\x0bline: reply HELP\x01")
    assert "Main line: reply HELP " in body
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in body)
