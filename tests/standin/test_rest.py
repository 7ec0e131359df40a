"""twilio-python's Client against the stand-in's REST API: shapes, codes, auth, paging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.support.twiml_app import CALLER, LINE, PEER, TwimlApp, wait
from warmline.standin import Standin

SPEC = Path(__file__).resolve().parents[2].parent / "shared/twilio/twilio_api_v2010.json"


def spec_fields(name: str) -> set[str]:
    if not SPEC.is_file():
        pytest.skip("unchecked: the OpenAPI spec is not beside this clone")
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    return set(schemas[f"api.v2010.account.{name}"]["properties"])


def raw(standin: Standin, method: str, path: str, **kw: Any) -> requests.Response:
    auth = (standin.config.account_sid, standin.config.auth_token)
    base = f"{standin.url}/2010-04-01/Accounts/{standin.config.account_sid}"
    return requests.request(method, base + path, auth=kw.pop("auth", auth), timeout=60, **kw)


def test_calls_create_fetch_list_update_delete(standin: Standin, twiml: TwimlApp,
                                               client: Client) -> None:
    standin.add_number(LINE)
    standin.peer_phone(PEER, mode="answer", answer_after=1)
    url = twiml.on("/ring", "<Response><Pause length='600'/></Response>")
    call = client.calls.create(to=PEER, from_=LINE, url=url, timeout=20)
    assert call.sid.startswith("CA") and call.status == "queued"
    assert call.direction == "outbound-api" and call._from == LINE and call.to == PEER
    wait(lambda: client.calls(call.sid).fetch().status == "in-progress")
    listed = client.calls.list(status="in-progress")
    assert [c.sid for c in listed] == [call.sid]
    assert client.calls.list(to=PEER)[0].sid == call.sid
    assert client.calls.list(to="+15559999999") == []
    redirect = twiml.on("/next", "<Response><Say>Moved on</Say><Pause length='600'/></Response>")
    client.calls(call.sid).update(url=redirect)
    standin.record.wait_for_event("heard", 5, lambda e: e.data["text"] == "Moved on")
    assert twiml.requests("/next")[0].form["CallSid"] == call.sid
    ended = client.calls(call.sid).update(status="completed")
    assert wait(lambda: client.calls(call.sid).fetch().status == "completed")
    assert ended.sid == call.sid
    assert client.calls(call.sid).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.calls(call.sid).fetch()
    assert missing.value.code == 20404 and missing.value.status == 404


def test_call_body_has_the_spec_fields(standin: Standin, twiml: TwimlApp) -> None:
    standin.add_number(LINE)
    response = raw(standin, "POST", "/Calls.json",
                   data={"To": PEER, "From": LINE, "Twiml": "<Response><Hangup/></Response>"})
    assert response.status_code == 201
    assert set(response.json()) == spec_fields("call")
    numbers = raw(standin, "GET", "/IncomingPhoneNumbers.json").json()["incoming_phone_numbers"]
    assert set(numbers[0]) == spec_fields("incoming_phone_number")
    message = raw(standin, "POST", "/Messages.json", data={"To": PEER, "From": LINE,
                                                            "Body": "hi"})
    assert message.status_code == 201
    assert set(message.json()) - {"num_media"} <= spec_fields("message")
    assert spec_fields("message") <= set(message.json())


def test_twiml_call_and_cancel_while_queued(standin: Standin, client: Client) -> None:
    standin.add_number(LINE)
    standin.peer_phone(PEER, mode="no_answer")
    call = client.calls.create(to=PEER, from_=LINE, twiml="<Response><Say>Hi</Say></Response>")
    wait(lambda: client.calls(call.sid).fetch().status == "ringing")
    client.calls(call.sid).update(status="canceled")
    assert wait(lambda: client.calls(call.sid).fetch().status == "canceled")


@pytest.mark.parametrize(("params", "code"), [
    ({"From": LINE, "Url": "http://x.test/v"}, 21201),
    ({"To": PEER, "Url": "http://x.test/v"}, 21213),
    ({"To": "not-a-number", "From": LINE, "Url": "http://x.test/v"}, 21211),
    ({"To": PEER, "From": "+15557777777", "Url": "http://x.test/v"}, 21210),
    ({"To": PEER, "From": LINE}, 21205),
    ({"To": PEER, "From": LINE, "Url": "ftp://nope"}, 21205),
    ({"To": PEER, "From": LINE, "Url": "http://x.test/v", "StatusCallbackEvent": "bogus"},
     21626),
])
def test_call_create_errors(standin: Standin, client: Client, params: dict[str, str],
                            code: int) -> None:
    standin.add_number(LINE)
    response = raw(standin, "POST", "/Calls.json", data=params)
    body = response.json()
    assert response.status_code == 400
    assert body == {"code": code, "message": body["message"], "status": 400,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def test_errors_reach_twilio_python_as_exceptions(standin: Standin, client: Client) -> None:
    standin.add_number(LINE)
    with pytest.raises(TwilioRestException) as invalid:
        client.calls.create(to="12", from_=LINE, url="http://127.0.0.1:9/v")
    assert invalid.value.code == 21211 and invalid.value.status == 400
    standin.peer_phone(PEER, mode="no_answer")
    with pytest.raises(TwilioRestException) as redirect:
        call = client.calls.create(to=PEER, from_=LINE, url="http://127.0.0.1:9/v")
        client.calls(call.sid).update(url="http://127.0.0.1:9/w")
    assert redirect.value.code == 21220
    with pytest.raises(TwilioRestException) as message:
        client.messages.create(to=PEER, from_=LINE)
    assert message.value.code == 21602


def test_bad_credentials_get_20003(standin: Standin) -> None:
    wrong = raw(standin, "GET", "/Calls.json", auth=(standin.config.account_sid, "nope"))
    assert wrong.status_code == 401 and wrong.json()["code"] == 20003
    none = requests.get(f"{standin.url}/2010-04-01/Accounts/{standin.config.account_sid}"
                        "/Calls.json", timeout=60)
    assert none.status_code == 401
    bad = Client(standin.config.account_sid, "wrong-token")
    bad.api.base_url = standin.url
    with pytest.raises(TwilioRestException) as error:
        bad.messages.create(to=PEER, from_=LINE, body="x")
    assert error.value.code == 20003


def test_status_callback_event_repeated_form_keys(standin: Standin, twiml: TwimlApp) -> None:
    standin.add_number(LINE)
    standin.phone(PEER, answer_after=0.5)
    hook = twiml.on("/status", "")
    response = raw(standin, "POST", "/Calls.json", data=[
        ("To", PEER), ("From", LINE), ("Twiml", "<Response><Say>Hi</Say></Response>"),
        ("StatusCallback", hook), ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed")])
    assert response.status_code == 201
    seen = twiml.wait_for("/status", 4)
    assert [s.form["CallStatus"] for s in seen] == ["initiated", "ringing", "in-progress",
                                                    "completed"]


def test_paging_follows_next_page_uri(standin: Standin, client: Client) -> None:
    standin.add_number(LINE)
    for index in range(5):
        standin.texter(f"+1555000400{index}")
        client.messages.create(to=f"+1555000400{index}", from_=LINE, body=f"m{index}")
    assert len(client.messages.list(page_size=2)) == 5
    page = raw(standin, "GET", "/Messages.json", params={"PageSize": 2}).json()
    assert page["next_page_uri"] and len(page["messages"]) == 2


def test_messages_create_list_redact_delete(standin: Standin, client: Client) -> None:
    standin.add_number(LINE)
    texter = standin.texter(CALLER)
    message = client.messages.create(to=CALLER, from_=LINE, body="Hello from the line")
    assert message.sid.startswith("SM") and message.status == "queued"
    assert texter.wait_for_text("Hello").from_ == LINE
    wait(lambda: client.messages(message.sid).fetch().status == "delivered")
    assert [m.sid for m in client.messages.list(to=CALLER)] == [message.sid]
    assert client.messages(message.sid).update(body="").body == ""
    assert client.messages(message.sid).fetch().body == ""
    assert client.messages(message.sid).delete() is True
    with pytest.raises(TwilioRestException) as gone:
        client.messages(message.sid).fetch()
    assert gone.value.code == 20404


@pytest.mark.parametrize(("params", "code"), [
    ({"From": LINE, "Body": "x"}, 21604),
    ({"To": CALLER, "Body": "x"}, 21603),
    ({"To": CALLER, "From": LINE}, 21602),
    ({"To": "abc", "From": LINE, "Body": "x"}, 21211),
    ({"To": CALLER, "From": "+15557777777", "Body": "x"}, 21606),
    ({"To": CALLER, "From": LINE, "Body": "x" * 1601}, 21617),
])
def test_message_create_errors(standin: Standin, params: dict[str, str], code: int) -> None:
    standin.add_number(LINE)
    response = raw(standin, "POST", "/Messages.json", data=params)
    assert response.status_code == 400 and response.json()["code"] == code


def test_incoming_phone_numbers_list_filter_update(standin: Standin, client: Client) -> None:
    standin.add_number(LINE)
    standin.add_number("+15550001001")
    found = client.incoming_phone_numbers.list(phone_number=LINE)
    assert [n.phone_number for n in found] == [LINE]
    updated = client.incoming_phone_numbers(found[0].sid).update(
        voice_url="https://app.test/twilio/voice", sms_url="https://app.test/twilio/sms",
        status_callback="https://app.test/twilio/status",
        voice_fallback_url="https://app.test/twilio/fallback")
    assert updated.voice_url == "https://app.test/twilio/voice"
    line = standin.net.numbers[LINE]
    assert line.sms_url == "https://app.test/twilio/sms"
    assert line.voice_fallback_url == "https://app.test/twilio/fallback"
    assert line.status_callback == "https://app.test/twilio/status"
    assert len(client.incoming_phone_numbers.list()) == 2


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (429, 20429)])
def test_rest_fault_answers_every_request_until_switched_off(standin: Standin, client: Client,
                                                             status: int, code: int) -> None:
    from warmline.standin import RestFault

    standin.add_number(LINE)
    standin.misbehave(rest_fault=RestFault(status))
    with pytest.raises(TwilioRestException) as failed:
        client.messages.create(to=PEER, from_=LINE, body="hello")
    assert failed.value.status == status and failed.value.code == code
    assert standin.events("rest_fault")[0].data["status"] == status
    assert standin.events("rest_message_created") == []
    standin.misbehave(rest_fault=RestFault())
    assert client.messages.create(to=PEER, from_=LINE, body="hello").sid.startswith("SM")
