"""Texts: inbound to a line's SmsUrl, messaging TwiML replies, outbound sends, STOP and START."""

from __future__ import annotations

import functools
import time
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from warmline.standin.model import API_VERSION, Message, new_sid, segments
from warmline.standin.network import Network

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                        "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
STOP_REPLY = ("You have successfully been unsubscribed. You will not receive any more messages "
              "from this number. Reply START to resubscribe.")
START_REPLY = ("You have successfully been re-subscribed to messages from this number. Reply "
               "HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.")
MAX_REDIRECTS = 10


def new_message(net: Network, from_: str, to: str, body: str, *, direction: str,
                status: str) -> Message:
    now = net.clock.utcnow()
    message = Message(new_sid("SM"), net.config.account_sid,
                      from_, to, body, direction, status, date_created=now, date_updated=now,
                      num_segments=segments(body))
    with net.cond:
        net.messages[message.sid] = message
    return message


def receive(net: Network, from_: str, to: str, body: str) -> Message:
    """A simulated phone texts `to`: Twilio's keywords first, then the number's SmsUrl."""
    message = new_message(net, from_, to, body, direction="inbound", status="received")
    message.date_sent = message.date_created
    net.record.add("text_sent", None, number=from_, to=to, body=body, message_sid=message.sid)
    with net.cond:
        line = net.numbers.get(to)
    if line is None:
        message.status = "failed"
        net.record.add("text_unroutable", None, number=from_, to=to)
        return message
    keyword = body.strip().upper()
    opt_out_type = ""
    if keyword in STOP_WORDS:
        with net.cond:
            net.optouts.add((from_, to))
        opt_out_type = "STOP"
        net.record.add("opted_out", None, number=from_, line=to)
        _twilio_reply(net, to, from_, STOP_REPLY)
    elif keyword in START_WORDS:
        with net.cond:
            net.optouts.discard((from_, to))
        opt_out_type = "START"
        net.record.add("opted_in", None, number=from_, line=to)
        _twilio_reply(net, to, from_, START_REPLY)
    elif keyword in HELP_WORDS:
        opt_out_type = "HELP"
        if net.config.twilio_help_reply:
            _twilio_reply(net, to, from_, net.config.twilio_help_reply)
    if line.sms_url:
        params = {"AccountSid": net.config.account_sid, "ApiVersion": API_VERSION,
                  "MessageSid": message.sid, "SmsSid": message.sid,
                  "SmsMessageSid": message.sid, "SmsStatus": "received", "From": from_,
                  "To": to, "Body": body, "NumMedia": "0",
                  "NumSegments": str(message.num_segments), "FromCountry": "US",
                  "ToCountry": "US"}
        if opt_out_type:
            params["OptOutType"] = opt_out_type
        url, method = line.sms_url, line.sms_method
        fallback = (line.sms_fallback_url, line.sms_fallback_method)
        net.spawn(lambda: _ask_app(net, message, url, method, params=params, fallback=fallback),
                  f"sms-{message.sid}")
    return message


def _twilio_reply(net: Network, line: str, to: str, body: str) -> None:
    """Twilio's own keyword answer: sent straight to the texter, never through the app."""
    reply = new_message(net, line, to, body, direction="outbound-reply", status="delivered")
    net.record.add("twilio_auto_reply", None, number=to, line=line, body=body)
    _hand_to_phone(net, reply)


def _ask_app(net: Network, message: Message, url: str, method: str, *, params: dict[str, str],
             fallback: tuple[str | None, str]) -> None:
    deadline = net.config.webhook_deadline
    for _ in range(MAX_REDIRECTS):
        answer = net.webhooks.request(url, method, params, deadline, purpose="sms",
                                      call_sid=message.sid)
        root = _parse(net, answer.status, answer.body, url)
        if root is None and fallback[0] and url != fallback[0]:
            url, method = fallback[0], fallback[1]
            net.record.add("sms_fallback_used", message.sid, url=url)
            continue
        if root is None:
            return
        redirect = _reply(net, message, root, url)
        if redirect is None:
            return
        url, method = redirect


def _parse(net: Network, status: int, body: str, url: str) -> ET.Element | None:
    if status != 200:
        net.record.add("sms_webhook_failed", None, url=url, status=status)
        return None
    if not body.strip():
        return ET.Element("Response")  # an empty 200 means "no reply"
    try:
        root = ET.fromstring(body)  # noqa: S314 - from the app under test
    except ET.ParseError as exc:
        net.record.add("sms_webhook_failed", None, url=url, problem=f"not XML: {exc}")
        net.record.count("messaging_twiml_failures")
        return None
    bad = [child.tag for child in root if child.tag not in ("Message", "Redirect")]
    if root.tag != "Response" or bad:
        net.record.add("messaging_twiml_failure", None, url=url, root=root.tag, bad=bad)
        net.record.count("messaging_twiml_failures")
    return root


def _reply(net: Network, inbound: Message, root: ET.Element,
           url: str) -> tuple[str, str] | None:
    for child in root:
        if child.tag == "Redirect":
            return urljoin(url, (child.text or "").strip()), child.get("method", "POST")
        if child.tag != "Message":
            continue
        body_el = child.find("Body")
        body = (body_el.text if body_el is not None else child.text) or ""
        to = child.get("to") or inbound.from_
        from_ = child.get("from") or inbound.to
        callback = child.get("statusCallback") or child.get("action")
        with net.cond:
            blocked = (to, from_) in net.optouts
        if blocked:
            net.record.add("message_blocked", None, number=to, line=from_, code=21610,
                           body=body.strip())
            continue
        reply = new_message(net, from_, to, body.strip(), direction="outbound-reply",
                            status="queued")
        reply.status_callback = urljoin(url, callback) if callback else None
        net.spawn(functools.partial(deliver, net, reply), f"deliver-{reply.sid}")
    return None


def deliver(net: Network, message: Message) -> None:
    """queued -> sent -> delivered (or undelivered), with a status callback for each."""
    step = net.clock.real(net.config.message_delivery_seconds) / 2
    time.sleep(step)
    _set_status(net, message, "sent")
    time.sleep(step)
    with net.cond:
        phone = net.phones.get(message.to)
    reachable = phone is None or (phone.behaviour.receives_texts
                                  and phone.behaviour.mode != "fail")
    if not reachable:
        message.error_code, message.error_message = 30003, "Unreachable destination handset"
        _set_status(net, message, "undelivered")
        return
    _set_status(net, message, "delivered")
    _hand_to_phone(net, message)


def _hand_to_phone(net: Network, message: Message) -> None:
    phone = net.phone_for(message.to)
    if phone is not None:
        phone.deliver(message)


def _set_status(net: Network, message: Message, status: str) -> None:
    with net.cond:
        message.status = status
        message.date_updated = net.clock.utcnow()
        if status == "sent":
            message.date_sent = message.date_updated
        net.cond.notify_all()
    net.record.add("message_status", message.sid, status=status, to=message.to)
    if message.status_callback:
        params = {"AccountSid": message.account_sid, "ApiVersion": API_VERSION,
                  "MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": status,
                  "SmsStatus": status, "From": message.from_, "To": message.to}
        if message.error_code:
            params["ErrorCode"] = str(message.error_code)
        net.deliver_callback(None, message.status_callback, "POST", params,
                             final=status != "sent")
