"""The stand-in's phone page: dial, answer, press keys and text by hand, three phones at once
(the caller, the peer, and whoever is brought in: a crisis counselor, an admin, a mentor), each
showing whom it hears and who hears it, as the conference mixes them.

``GET /`` serves the page (its script and style are files beside it: no CDN, no inline script);
``GET /_standin/page/state`` is the one JSON read it polls. Everything it does goes through the
control API (``/_standin/phones/...``, ``/_standin/calls/...``), like any other process would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, render_template, request

from warmline.standin.model import Leg
from warmline.standin.people import PhoneCall

if TYPE_CHECKING:
    from warmline.standin.server import Standin

# The newest calls of a phone the page shows; older ones are history the control API still has.
CALLS_SHOWN = 3
TEXTS_SHOWN = 30
# A strict policy is easy here: the page loads only its own files and talks only to this server.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")


def make_phone_page(standin: Standin) -> Blueprint:
    page = Blueprint("standin_phone_page", __name__, template_folder="templates",
                     static_folder="static", static_url_path="/_standin/static")
    net = standin.net

    def call_view(leg: Leg) -> dict[str, Any]:
        call = PhoneCall(leg.phone, leg) if leg.phone is not None else None
        with net.cond:
            status, direction = str(leg.status), leg.direction
            from_, to, gathering = leg.from_, leg.to, leg.gathering
        mix = call.mix() if call else {"hears": [], "heard_by": [], "on_hold": False,
                                       "muted": False, "coaching": None}
        return {"sid": leg.sid, "status": status, "direction": direction, "from": from_, "to": to,
                "listening_for_keys": gathering,
                "transcript": call.transcript() if call else [],
                "bridged_with": mix["hears"], **mix}

    def phone_view(number: str) -> dict[str, Any] | None:
        if not number:
            return None
        with net.cond:
            phone = net.phones.get(number)
            legs = [c.leg for c in phone.calls] if phone is not None else []
        if phone is None:
            return {"number": number, "exists": False, "calls": [], "texts": []}
        texts: list[dict[str, Any]] = []
        for event in net.record.events():
            if event.kind == "text_sent" and event.data.get("number") == number:
                texts.append({"seq": event.seq, "direction": "out", "other": event.data.get("to"),
                              "body": event.data.get("body", "")})
            elif event.kind == "text_received" and event.data.get("number") == number:
                texts.append({"seq": event.seq, "direction": "in", "other": event.data.get("from_"),
                              "body": event.data.get("body", "")})
        return {"number": number, "exists": True, "label": standin.labels.get(number, ""),
                "mode": phone.behaviour.mode,
                "calls": [call_view(leg) for leg in legs[-CALLS_SHOWN:]][::-1],
                "texts": texts[-TEXTS_SHOWN:]}

    @page.get("/")
    def phone_page() -> Response:
        response = Response(render_template("standin_phone.html"))
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    @page.get("/_standin/page/state")
    def state() -> Response:
        with net.cond:
            lines = [{"number": n.phone_number, "voice": bool(n.voice_url), "sms": bool(n.sms_url)}
                     for n in net.numbers.values()]
            known = list(net.phones)
        peers = [{"number": number, "label": standin.labels[number]}
                 for number in known if number in standin.labels]
        return jsonify(lines=lines, peers=peers, speed=net.config.speed,
                       caller=phone_view(request.args.get("caller", "")),
                       peer=phone_view(request.args.get("peer", "")),
                       third=phone_view(request.args.get("third", "")),
                       texter=phone_view(request.args.get("texter", "")))

    return page
