"""The JSON control API under `/_standin/`: other processes drive simulated people with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, jsonify, request

from warmline.standin.model import Leg
from warmline.standin.people import PhoneCall

if TYPE_CHECKING:
    from warmline.standin.server import Standin


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def make_control(standin: Standin) -> Blueprint:
    control = Blueprint("standin_control", __name__, url_prefix="/_standin")
    net = standin.net

    def call_json(leg: Leg) -> dict[str, Any]:
        call = PhoneCall(leg.phone, leg) if leg.phone else None
        with net.cond:
            data = leg.to_json(net.clock.monotonic(), net.clock.speed)
        data["number"] = leg.phone.number if leg.phone else None
        data["transcript"] = call.transcript() if call else []
        data["bridged_with"] = []
        if call is not None:
            data.update(call.mix())
            data["bridged_with"] = data["hears"]
        return data

    def find_call(sid: str) -> PhoneCall:
        with net.cond:
            leg = net.legs.get(sid)
        if leg is None or leg.phone is None:
            abort(404)
        return PhoneCall(leg.phone, leg)

    @control.get("/")
    def summary() -> Response:
        with net.cond:
            numbers = [n.to_json() for n in net.numbers.values()]
            phones = [p.to_json() for p in net.phones.values()]
            live = [leg.sid for leg in net.legs.values() if not leg.final]
        return jsonify(account_sid=net.config.account_sid, speed=net.config.speed,
                       numbers=numbers, phones=phones, live_calls=live,
                       counters=net.counters(), schema=str(net.schema.path or "unchecked"))

    @control.post("/numbers")
    def add_number() -> tuple[Response, int]:
        data = _body()
        if not data.get("phone_number"):
            abort(400)
        number = standin.add_number(
            data["phone_number"], voice_url=data.get("voice_url"), sms_url=data.get("sms_url"),
            voice_fallback_url=data.get("voice_fallback_url"),
            sms_fallback_url=data.get("sms_fallback_url"),
            status_callback=data.get("status_callback"))
        return jsonify(number.to_json()), 201

    @control.post("/phones")
    def add_phone() -> tuple[Response, int]:
        data = _body()
        number = data.pop("number", None)
        if not number:
            abort(400)
        try:
            phone = standin.phone(number, **data)
        except (TypeError, ValueError) as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(phone.to_json()), 201

    @control.get("/phones/<number>")
    def get_phone(number: str) -> Response:
        with net.cond:
            phone = net.phones.get(number)
        if phone is None:
            abort(404)
        return jsonify(phone.to_json())

    @control.post("/phones/<number>/dial")
    def dial(number: str) -> tuple[Response, int]:
        data = _body()
        phone = standin.phone(number) if number not in net.phones else net.phones[number]
        call = phone.dial(data["to"], patience=data.get("patience"))
        return jsonify(call_json(call.leg)), 201

    @control.post("/phones/<number>/texts")
    def text(number: str) -> tuple[Response, int]:
        data = _body()
        phone = standin.phone(number) if number not in net.phones else net.phones[number]
        message = phone.text(data["to"], data["body"])
        return jsonify(message.to_json()), 201

    @control.get("/calls/<sid>")
    def get_call(sid: str) -> Response:
        return jsonify(call_json(find_call(sid).leg))

    @control.post("/calls/<sid>/<action>")
    def act(sid: str, action: str) -> Response:
        call = find_call(sid)
        data = _body()
        if action == "press":
            call.press(str(data.get("digits", "")))
        elif action == "say":
            call.say(str(data.get("text", "")))
        elif action in ("answer", "decline"):
            getattr(call, action)()
        elif action == "hangup":
            call.hang_up()
        else:
            abort(404)
        return jsonify(call_json(call.leg))

    @control.get("/events")
    def events() -> Response:
        since = int(request.args.get("since", "0"))
        kind = request.args.get("kind")
        sid = request.args.get("call_sid")
        found = net.record.events(kind, sid, since=since)
        return jsonify(events=[e.to_json() for e in found])

    return control

