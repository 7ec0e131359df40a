"""Twilio's 2010-04-01 REST API for Calls, Messages and IncomingPhoneNumbers, in its shapes."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from warmline.standin.config import DEFAULT_CALL_TIMEOUT
from warmline.standin.messaging import deliver, new_message
from warmline.standin.model import API_VERSION, CallStatus, IncomingNumber, Leg, Source, new_sid
from warmline.standin.network import Network

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_BODY = 1600
PREFIX = f"/{API_VERSION}/Accounts/<account>"
# Twilio's error codes for an overloaded or failing API (https://www.twilio.com/docs/errors).
REST_FAULT_CODES = {429: 20429, 500: 20500, 503: 20503}
REST_FAULT_MESSAGES = {429: "Too Many Requests", 500: "Internal Server Error",
                       503: "Service Unavailable"}
CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})


class RestError(Exception):
    """An error answered in Twilio's body: code, message, more_info, status."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = jsonify(code=self.code, message=self.message, status=self.status,
                       more_info=f"https://www.twilio.com/docs/errors/{self.code}")
        body.status_code = self.status
        return body


@dataclass
class InjectedFailure:
    """The next `times` POSTs creating `resource` ("Calls", "Messages") are answered with this
    error instead; `message` may name the request's fields ("{To}"), as Twilio's own do."""

    resource: str
    status: int
    code: int
    message: str
    times: int = 1


def _valid_url(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _form(name: str) -> str | None:
    value = request.form.get(name)
    return value if value is not None else None


def _page(items: list[dict[str, Any]], key: str, path: str) -> Response:
    size = min(int(request.args.get("PageSize", "50")), 1000)
    page = int(request.args.get("Page", "0"))
    chunk = items[page * size:(page + 1) * size]
    uri = f"{path}?PageSize={size}&Page={page}"
    more = (page + 1) * size < len(items)
    return jsonify({key: chunk, "page": page, "page_size": size, "start": page * size,
                    "end": page * size + max(len(chunk) - 1, 0), "uri": uri,
                    "first_page_uri": f"{path}?PageSize={size}&Page=0",
                    "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}"
                    if page else None,
                    "next_page_uri": f"{path}?PageSize={size}&Page={page + 1}"
                    f"&PageToken=PA{page + 1}" if more else None})


def make_rest(net: Network, start_call: Callable[[Leg, Source], None]) -> Blueprint:
    """The REST blueprint; `start_call` runs an outbound call in its own thread."""
    rest = Blueprint("standin_rest", __name__)
    config = net.config

    @rest.errorhandler(RestError)
    def on_error(error: RestError) -> Response:
        return error.response()

    @rest.before_request
    def authenticate() -> Response | None:
        header = request.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(
                ":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        good = secrets.compare_digest(user, config.account_sid) and secrets.compare_digest(
            password, config.auth_token)
        if not header.startswith("Basic ") or not good:
            return RestError(401, 20003, "Authenticate").response()
        fault = net.config.rest_fault.status  # read live: a soak switches it on and off
        if fault:
            net.record.add("rest_fault", None, status=fault, method=request.method,
                           path=request.path)
            return RestError(fault, REST_FAULT_CODES.get(fault, 20500), REST_FAULT_MESSAGES.get(
                fault, "Internal Server Error")).response()
        account = (request.view_args or {}).get("account")
        if account is not None and account != config.account_sid:
            return RestError(404, 20404, f"The requested resource {request.path} was not "
                                         "found").response()
        return None

    @rest.before_request
    def injected_failure() -> Response | None:
        if request.method != "POST":
            return None
        with net.cond:
            failure = next((f for f in net.rest_failures if f.times > 0
                            and request.path.endswith(f"/{f.resource}.json")), None)
            if failure is None:
                return None
            failure.times -= 1
        net.record.add("rest_failure_injected", None, resource=failure.resource,
                       code=failure.code)
        fields = {key: request.form.get(key, "") for key in ("To", "From", "Body")}
        return RestError(failure.status, failure.code,
                         failure.message.format(**fields)).response()

    def not_found() -> RestError:
        return RestError(404, 20404, f"The requested resource {request.path} was not found")

    def find_leg(sid: str) -> Leg:
        with net.cond:
            leg = net.legs.get(sid)
        if leg is None:
            raise not_found()
        return leg

    def leg_json(leg: Leg) -> dict[str, Any]:
        with net.cond:
            return leg.to_json(net.clock.monotonic(), net.clock.speed)

    # -- Calls ---------------------------------------------------------------------------------

    @rest.post(f"{PREFIX}/Calls.json")
    def create_call(account: str) -> tuple[Response, int]:
        to, from_ = _form("To"), _form("From")
        if not to:
            raise RestError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise RestError(400, 21213, "No 'From' number is specified")
        if not E164.match(to):
            raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not E164.match(from_):
            raise RestError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        with net.cond:
            line = net.numbers.get(from_)
        if line is None:
            raise RestError(400, 21210, f"The source phone number provided, {from_}, is not yet "
                                        "verified for your account.")
        url, twiml = _form("Url"), _form("Twiml")
        if twiml is None and not url:
            raise RestError(400, 21205, "Url parameter is required.")
        if url and not _valid_url(url):
            raise RestError(400, 21205, f"Url is not a valid URL: {url}")
        try:
            timeout = float(_form("Timeout") or DEFAULT_CALL_TIMEOUT)
        except ValueError:
            raise RestError(400, 21216, "Timeout must be a number") from None
        events = {part for value in request.form.getlist("StatusCallbackEvent")
                  for part in value.replace(",", " ").split()}
        if events - CALL_EVENTS:
            raise RestError(400, 21626, f"Invalid StatusCallbackEvent: {sorted(events)}")
        callback = _form("StatusCallback")
        if callback and not _valid_url(callback):
            raise RestError(400, 21609, f"Invalid StatusCallback url: {callback}")
        detection = _form("MachineDetection")
        if detection not in (None, "Enable", "DetectMessageEnd"):
            raise RestError(400, 21218, f"Invalid MachineDetection: {detection}")
        leg = net.new_leg(from_=from_, to=to, direction="outbound-api", phone=None,
                          phone_number_sid=line.sid)
        leg.timeout = min(max(timeout, 1.0), 600.0)
        leg.status_callback = callback
        leg.status_callback_method = _form("StatusCallbackMethod") or "POST"
        leg.status_events = frozenset(events or {"completed"})
        leg.machine_detection = detection
        leg.async_amd = (_form("AsyncAmd") or "").lower() == "true"
        leg.async_amd_callback = _form("AsyncAmdStatusCallback")
        fallback = _form("FallbackUrl")
        if fallback:
            leg.fallback = Source(fallback, _form("FallbackMethod") or "POST")
        source = Source(twiml=twiml) if twiml is not None else Source(url, _form("Method")
                                                                     or "POST")
        net.record.add("rest_call_created", leg.sid, to=to, from_=from_, url=url)
        body = leg_json(leg)
        start_call(leg, source)
        return jsonify(body), 201

    @rest.get(f"{PREFIX}/Calls.json")
    def list_calls(account: str) -> Response:
        args = request.args
        with net.cond:
            legs = sorted(net.legs.values(), key=lambda leg: leg.date_created or 0, reverse=True)
        chosen = [leg_json(leg) for leg in legs
                  if (not args.get("To") or leg.to == args["To"])
                  and (not args.get("From") or leg.from_ == args["From"])
                  and (not args.get("ParentCallSid") or leg.parent_sid == args["ParentCallSid"])
                  and (not args.get("Status") or str(leg.status) == args["Status"])]
        return _page(chosen, "calls", request.path)

    @rest.get(f"{PREFIX}/Calls/<sid>.json")
    def fetch_call(account: str, sid: str) -> Response:
        return jsonify(leg_json(find_leg(sid)))

    @rest.post(f"{PREFIX}/Calls/<sid>.json")
    def update_call(account: str, sid: str) -> Response:
        leg = find_leg(sid)
        status = _form("Status")
        url, twiml = _form("Url"), _form("Twiml")
        if status is not None:
            if status not in ("completed", "canceled"):
                raise RestError(400, 21218, f"Invalid Status: {status}")
            live = not leg.final
            answered = leg.answered_mono is not None
            if live and (status == "completed" or not answered):
                final = CallStatus.COMPLETED if answered else CallStatus.CANCELED
                net.hang_up(leg, "rest", final)
                net.record.add("rest_call_ended", leg.sid, requested=status)
                net.wait_quietly(lambda: leg.final, 2.0)
        elif url is not None or twiml is not None:
            if leg.status != CallStatus.IN_PROGRESS:
                raise RestError(400, 21220, "Call is not in-progress. Cannot redirect.")
            if url is not None and not _valid_url(url):
                raise RestError(400, 21205, f"Url is not a valid URL: {url}")
            with net.cond:
                leg.redirect = Source(twiml=twiml) if twiml is not None else Source(
                    url, _form("Method") or "POST")
                net.cond.notify_all()
            net.record.add("rest_call_redirected", leg.sid, url=url)
        return jsonify(leg_json(leg))

    @rest.delete(f"{PREFIX}/Calls/<sid>.json")
    def delete_call(account: str, sid: str) -> tuple[str, int]:
        leg = find_leg(sid)
        if not leg.final:
            raise RestError(400, 20009, "Cannot delete a call that is not finished.")
        with net.cond:
            net.legs.pop(sid, None)
        return "", 204

    # -- Messages ------------------------------------------------------------------------------

    def find_message(sid: str) -> Any:
        with net.cond:
            message = net.messages.get(sid)
        if message is None:
            raise not_found()
        return message

    @rest.post(f"{PREFIX}/Messages.json")
    def create_message(account: str) -> tuple[Response, int]:
        to, from_, body = _form("To"), _form("From"), _form("Body")
        if not to:
            raise RestError(400, 21604, "A 'To' phone number is required.")
        if not from_:
            raise RestError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise RestError(400, 21602, "Message body is required.")
        if not E164.match(to):
            raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        with net.cond:
            ours = from_ in net.numbers
            opted_out = (to, from_) in net.optouts
        if not ours:
            raise RestError(400, 21606, "The From phone number is not a valid, SMS-capable "
                                        "inbound phone number or short code for your account.")
        if len(body) > MAX_BODY:
            raise RestError(400, 21617, "The concatenated message body exceeds the 1600 "
                                        "character limit.")
        if opted_out:
            net.record.add("message_blocked", None, number=to, line=from_, code=21610,
                           body=body)
            raise RestError(400, 21610, "Attempt to send to unsubscribed recipient")
        callback = _form("StatusCallback")
        if callback and not _valid_url(callback):
            raise RestError(400, 21609, f"Invalid StatusCallback url: {callback}")
        message = new_message(net, from_, to, body, direction="outbound-api", status="queued")
        message.status_callback = callback
        net.record.add("rest_message_created", message.sid, to=to, from_=from_, body=body)
        payload = message.to_json()
        net.spawn(lambda: deliver(net, message), f"deliver-{message.sid}")
        return jsonify(payload), 201

    @rest.get(f"{PREFIX}/Messages.json")
    def list_messages(account: str) -> Response:
        args = request.args
        with net.cond:
            messages = sorted(net.messages.values(), key=lambda m: m.date_created or 0,
                              reverse=True)
        chosen = [m.to_json() for m in messages
                  if (not args.get("To") or m.to == args["To"])
                  and (not args.get("From") or m.from_ == args["From"])]
        return _page(chosen, "messages", request.path)

    @rest.get(f"{PREFIX}/Messages/<sid>.json")
    def fetch_message(account: str, sid: str) -> Response:
        return jsonify(find_message(sid).to_json())

    @rest.post(f"{PREFIX}/Messages/<sid>.json")
    def update_message(account: str, sid: str) -> Response:
        message = find_message(sid)
        if _form("Body") is not None:
            if _form("Body") != "":
                raise RestError(400, 21218, "Body can only be updated to an empty string.")
            if message.status in ("queued", "sending", "accepted"):
                raise RestError(400, 20009, "Cannot redact a message that is being sent.")
            with net.cond:
                message.body = ""
                message.date_updated = net.clock.utcnow()
            net.record.add("message_redacted", sid)
        return jsonify(message.to_json())

    @rest.delete(f"{PREFIX}/Messages/<sid>.json")
    def delete_message(account: str, sid: str) -> tuple[str, int]:
        message = find_message(sid)
        if message.status in ("queued", "sending", "accepted"):
            raise RestError(400, 20009, "Cannot delete message because delivery is in progress.")
        with net.cond:
            net.messages.pop(sid, None)
        net.record.add("message_deleted", sid)
        return "", 204

    # -- IncomingPhoneNumbers ------------------------------------------------------------------

    def find_number(sid: str) -> IncomingNumber:
        with net.cond:
            number = next((n for n in net.numbers.values() if n.sid == sid), None)
        if number is None:
            raise not_found()
        return number

    def apply(number: IncomingNumber) -> None:
        for param, attribute in IncomingNumber.FIELDS.items():
            value = _form(param)
            if value is None:
                continue
            if param.endswith(("Url", "Callback")) and value and not _valid_url(value):
                raise RestError(400, 21502, f"{param} is not valid: {value}")
            setattr(number, attribute, value or None if param.endswith(("Url", "Callback"))
                    else value)
        number.date_updated = net.clock.utcnow()

    @rest.get(f"{PREFIX}/IncomingPhoneNumbers.json")
    def list_numbers(account: str) -> Response:
        wanted = request.args.get("PhoneNumber")
        with net.cond:
            numbers = [n.to_json() for n in net.numbers.values()
                       if not wanted or n.phone_number == wanted]
        return _page(numbers, "incoming_phone_numbers", request.path)

    @rest.post(f"{PREFIX}/IncomingPhoneNumbers.json")
    def create_number(account: str) -> tuple[Response, int]:
        phone_number = _form("PhoneNumber")
        if not phone_number or not E164.match(phone_number):
            raise RestError(400, 21421, "PhoneNumber is invalid")
        number = net_add_number(net, phone_number)
        apply(number)
        return jsonify(number.to_json()), 201

    @rest.get(f"{PREFIX}/IncomingPhoneNumbers/<sid>.json")
    def fetch_number(account: str, sid: str) -> Response:
        return jsonify(find_number(sid).to_json())

    @rest.post(f"{PREFIX}/IncomingPhoneNumbers/<sid>.json")
    def update_number(account: str, sid: str) -> Response:
        number = find_number(sid)
        with net.cond:
            apply(number)
        net.record.add("number_updated", None, number=number.phone_number,
                       fields=sorted(k for k in request.form))
        return jsonify(number.to_json())

    @rest.delete(f"{PREFIX}/IncomingPhoneNumbers/<sid>.json")
    def delete_number(account: str, sid: str) -> tuple[str, int]:
        number = find_number(sid)
        with net.cond:
            net.numbers.pop(number.phone_number, None)
        return "", 204

    return rest


def net_add_number(net: Network, phone_number: str, **urls: str | None) -> IncomingNumber:
    """Provision (or return) an account number; `urls` are IncomingNumber attributes."""
    with net.cond:
        number = net.numbers.get(phone_number)
        if number is None:
            now = net.clock.utcnow()
            number = IncomingNumber(new_sid("PN"), net.config.account_sid, phone_number,
                                    phone_number, date_created=now, date_updated=now)
            net.numbers[phone_number] = number
        for attribute, value in urls.items():
            if value is not None:
                setattr(number, attribute, value)
        return number
