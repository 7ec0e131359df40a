"""Texts: signed inbound webhooks, TwiML replies, outbound status callbacks, STOP and START."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.support.twiml_app import CALLER, LINE, PEER, TwimlApp
from warmline.standin import Standin

UNSUBSCRIBED = "You have successfully been unsubscribed"


def test_inbound_text_reaches_sms_url_and_reply_is_delivered(standin: Standin,
                                                             twiml: TwimlApp) -> None:
    hook = twiml.on("/reply-status", "")
    twiml.on("/sms", lambda f: f"<Response><Message statusCallback='/reply-status'>"
                               f"You said {f['Body']}</Message></Response>")
    standin.add_number(LINE, sms_url=twiml.url + "/sms")
    texter = standin.texter(CALLER)
    sent = texter.text(LINE, "hello")
    assert texter.wait_for_text("You said hello").from_ == LINE
    form = twiml.requests("/sms")[0].form
    assert form["MessageSid"] == sent.sid and form["Body"] == "hello"
    assert form["From"] == CALLER and form["To"] == LINE and form["NumMedia"] == "0"
    assert [s.form["MessageStatus"] for s in twiml.wait_for("/reply-status", 2)] == [
        "sent", "delivered"]
    assert hook


def test_outbound_status_callbacks_delivered_and_undelivered(standin: Standin,
                                                             twiml: TwimlApp) -> None:
    standin.add_number(LINE)
    standin.texter(CALLER)
    standin.phone(PEER, receives_texts=False)
    hook = twiml.on("/msg-status", "")
    client = standin.client()
    good = client.messages.create(to=CALLER, from_=LINE, body="hi", status_callback=hook)
    bad = client.messages.create(to=PEER, from_=LINE, body="hi", status_callback=hook)
    seen = twiml.wait_for("/msg-status", 4)
    by_sid = {sid: [s.form["MessageStatus"] for s in seen if s.form["MessageSid"] == sid]
              for sid in (good.sid, bad.sid)}
    assert by_sid == {good.sid: ["sent", "delivered"], bad.sid: ["sent", "undelivered"]}
    assert [s.form.get("ErrorCode") for s in seen if s.form["MessageSid"] == bad.sid][-1] == \
        "30003"


def test_stop_blocks_sends_with_21610_until_start(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/sms", "<Response><Message>App reply</Message></Response>")
    standin.add_number(LINE, sms_url=twiml.url + "/sms")
    texter = standin.texter(CALLER)
    client = standin.client()
    texter.text(LINE, " stop ")
    texter.wait_for_text(UNSUBSCRIBED)  # Twilio's own confirmation
    assert twiml.wait_for("/sms")[0].form["OptOutType"] == "STOP"  # the app still hears it
    standin.record.wait_for_event("message_blocked", 5)  # the app's TwiML reply is blocked
    with pytest.raises(TwilioRestException) as blocked:
        client.messages.create(to=CALLER, from_=LINE, body="Are you there?")
    assert blocked.value.code == 21610
    assert "App reply" not in [m.body for m in texter.texts]
    texter.text(LINE, "START")
    texter.wait_for_text("re-subscribed")
    assert client.messages.create(to=CALLER, from_=LINE, body="Welcome back").status == "queued"
    texter.wait_for_text("Welcome back")


def test_help_gets_twilio_default_unless_switched_off(twiml: TwimlApp) -> None:
    token = twiml.validator.token.decode()
    with Standin(speed=10, auth_token=token, twilio_help_reply=None) as advanced:
        advanced.add_number(LINE, sms_url=twiml.on("/sms", ""))
        texter = advanced.texter(CALLER)
        texter.text(LINE, "help")
        twiml.wait_for("/sms")
        assert not advanced.events("twilio_auto_reply")
        assert texter.texts == []
    with Standin(speed=10, auth_token=token) as default:
        default.add_number(LINE, sms_url=twiml.url + "/sms")
        texter = default.texter(CALLER)
        texter.text(LINE, "HELP")
        texter.wait_for_text("Reply STOP to unsubscribe")


def test_sms_fallback_and_bad_messaging_twiml(standin: Standin, twiml: TwimlApp) -> None:
    twiml.on("/sms", ("down", 503))
    twiml.on("/sms-fallback", "<Response><Say>wrong verb</Say></Response>")
    number = standin.add_number(LINE, sms_url=twiml.url + "/sms")
    number.sms_fallback_url = twiml.url + "/sms-fallback"
    standin.texter(CALLER).text(LINE, "hi")
    standin.record.wait_for_event("messaging_twiml_failure", 5)
    assert standin.record.counters["messaging_twiml_failures"] == 1
