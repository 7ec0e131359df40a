"""The JSON API under /api/: what the dashboard does, for tools and tests acting as a peer.

Same sign-in (the session cookie) and CSRF rules as the pages: state-changing calls send the
token from `GET /api/csrf` in `X-CSRFToken`. Errors are always `{"error": "..."}` in JSON.
The text conversations' endpoints share this URL space (`texts_api.py`, described in
`warmline/web/openapi.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException

from warmline import keys
from warmline.clock import utc_now
from warmline.services.peers import dashboard as service
from warmline.services.peers import support as support_service
from warmline.web import limits
from warmline.web.auth import current_user, peer_required, signed_in_peer_id
from warmline.web.context import current_runtime
from warmline.web.dashboard import (
    abuse_report_hook,
    build_live_state,
    describe_standing,
    support_notifier,
)
from warmline.web.languages import gettext
from warmline.web.openapi import openapi_document
from warmline.web.outage import outage_answer
from warmline.web.security import wants_json

bp = Blueprint("api", __name__, url_prefix="/api")

# Ids are PostgreSQL integers; a larger one cannot name a row, and must not reach the database.
MAX_ID = 2**31 - 1


def error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(error=gettext(message)), status


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/csrf")
def csrf() -> ResponseReturnValue:
    return jsonify(csrf_token=generate_csrf())


@bp.get("/me")
@peer_required
def me() -> ResponseReturnValue:
    user = current_user()
    if user is None:
        return error(401, "sign in first")
    runtime = current_runtime()
    peer_id = signed_in_peer_id()
    with runtime.sessions() as session:
        lines = service.list_peer_lines(session, peer_id)
        line_list = [{"id": ln.id, "name": ln.name, "timezone": ln.timezone} for ln in lines]
    return jsonify(
        id=user.id,
        email=user.email,
        role=user.role.value,
        peer_id=peer_id,
        first_name=service.peer_first_name(runtime, peer_id),
        lines=line_list,
    )


def _presence_body(peer_id: int) -> dict[str, Any]:
    runtime = current_runtime()
    now = utc_now()
    standing = service.find_shift_standing(runtime, peer_id, now)
    state = build_live_state(peer_id, now)
    snapshot = service.read_presence(runtime, peer_id, now)
    next_start = standing.next_start
    zone = service.standing_zone(runtime, standing)
    return {
        "presence": snapshot.presence,
        "on_shift": standing.on_shift,
        "on_shift_until": _iso(standing.on_shift_until),
        "on_shift_line_ids": sorted(standing.on_shift_line_ids),
        "next_shift_start": _iso(next_start.start) if next_start else None,
        "wrap_up_until": _iso(snapshot.wrap_up_until),
        "in_contact": snapshot.contact_id is not None,
        "message": f"{state.headline}. {describe_standing(standing, zone)}",
    }


@bp.get("/presence")
@peer_required
def get_presence() -> ResponseReturnValue:
    return jsonify(_presence_body(signed_in_peer_id()))


@bp.put("/presence")
@peer_required
def put_presence() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"presence"}:
        return error(400, 'send {"presence": "available" | "break" | "off"}')
    wanted = body["presence"]
    if wanted not in service.SETTABLE_PRESENCES:
        return error(400, "presence must be available, break or off")
    peer_id = signed_in_peer_id()
    refusal = service.change_presence(current_runtime(), peer_id, wanted, utc_now())
    if refusal is not None:
        return error(refusal.status, refusal.message)
    return jsonify(_presence_body(peer_id))


@bp.post("/wrap-up/extend")
@peer_required
def wrap_up_extend() -> ResponseReturnValue:
    peer_id = signed_in_peer_id()
    refusal = service.extend_wrap_up(current_runtime(), peer_id, utc_now())
    if refusal is not None:
        return error(refusal.status, refusal.message)
    return jsonify(_presence_body(peer_id))


@bp.post("/report-abuse")
@peer_required
def report_abuse() -> ResponseReturnValue:
    user = current_user()
    if user is None:
        return error(401, "sign in first")
    result = service.report_abuse(
        current_runtime(), user_id=user.id, actor=user.email, peer_id=signed_in_peer_id(),
        now=utc_now(), hook=abuse_report_hook(),
    )
    if isinstance(result, service.Refusal):
        return error(result.status, result.message)
    return jsonify(blocked_days=result.blocked_days), 201  # 0: a withheld number, only this call


@bp.get("/queue")
@peer_required
def queue() -> ResponseReturnValue:
    rows = service.read_queue(current_runtime(), signed_in_peer_id(), utc_now())
    return jsonify(
        waiting=[
            {
                "line_id": row.line_id,
                "line_name": row.line_name,
                "experience_key": row.experience_key,
                "experience": row.experience,
                "channel": row.channel,
                "waiting": row.waiting,
                "longest_wait_seconds": row.longest_wait_seconds,
            }
            for row in rows
        ]
    )


def _callback_json(cb: service.CallbackView) -> dict[str, Any]:
    return {
        "id": cb.id,
        "line_id": cb.line_id,
        "line_name": cb.line_name,
        "experience": cb.experience,
        "window_start": cb.window_start.isoformat(),
        "window_end": cb.window_end.isoformat(),
        "taken_by_me": cb.taken_by_me,
    }


@bp.get("/callbacks")
@peer_required
def callbacks() -> ResponseReturnValue:
    found = service.list_callbacks(current_runtime(), signed_in_peer_id())
    return jsonify(callbacks=[_callback_json(cb) for cb in found])


@bp.post("/callbacks/<int:callback_id>/take")
@peer_required
def take_callback(callback_id: int) -> ResponseReturnValue:
    if callback_id > MAX_ID:
        return error(404, "no such callback on your lines")
    peer_id = signed_in_peer_id()
    runtime = current_runtime()
    refusal = service.take_callback(runtime, peer_id, callback_id)
    if refusal is service.TakeRefusal.NOT_FOUND:
        return error(404, "no such callback on your lines")
    if refusal is service.TakeRefusal.TAKEN:
        return error(409, "this callback is taken or no longer pending")
    # Not looked up among the pending ones: a worker may already have started this call back.
    taken = service.find_taken_callback(runtime, peer_id, callback_id)
    if taken is None:
        return error(409, "this callback is taken or no longer pending")
    return jsonify(_callback_json(taken))


@bp.get("/shifts")
@peer_required
def shifts() -> ResponseReturnValue:
    found = service.list_upcoming_shifts(current_runtime(), signed_in_peer_id(), utc_now())
    return jsonify(
        shifts=[
            {
                "line_id": s.line_id,
                "line_name": s.line_name,
                "timezone": s.timezone,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
            }
            for s in found
        ]
    )


@bp.post("/heartbeat")
@peer_required
def heartbeat() -> ResponseReturnValue:
    service.record_heartbeat(current_runtime().redis, signed_in_peer_id())
    return jsonify(open=True, ttl_seconds=keys.HEARTBEAT_TTL_SECONDS)


def _support_already_asked(limit: RequestLimit) -> Response:
    wait = limits.seconds_until_reset(limit)
    response = jsonify(error=gettext("your admins were told a few minutes ago; someone will reach out "
                                     "(another alert is taken in %(seconds)s s)", seconds=wait))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/support")
@limits.limiter.shared_limit(limits.SUPPORT_ALERTS_PER_PEER, scope=limits.SUPPORT_SCOPE,
                             key_func=limits.signed_in_user, deduct_when=limits.succeeded,
                             on_breach=_support_already_asked)
@peer_required
def support() -> ResponseReturnValue:
    user = current_user()
    if user is None:
        return error(401, "sign in first")
    alert = support_service.raise_support_alert(
        current_runtime(),
        support_notifier(),
        user_id=user.id,
        actor=user.email,
        peer_id=signed_in_peer_id(),
        now=utc_now(),
    )
    return jsonify(
        id=alert.id, at=alert.at.isoformat(), admins_on_shift=len(alert.admins_on_shift)
    ), 201


def _json_http_error(exc: HTTPException) -> ResponseReturnValue:
    # Under /api/ every error is JSON, including 404s for unknown paths and 405s, which no
    # blueprint handler sees; elsewhere the page's own handling is left alone.
    if not wants_json():
        return exc
    if exc.response is not None:  # an answer made for this refusal (a rate limit's) stands
        return exc.response
    return error(exc.code or 500, (exc.description or exc.name).rstrip("."))


@bp.errorhandler(Exception)
def _json_server_error(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return _json_http_error(exc)
    unreachable = outage_answer(exc)
    if unreachable is not None:  # Redis or the database is down: a 503 the client may retry
        return unreachable
    current_app.logger.exception("API error")
    return error(500, "internal error")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _json_http_error)
