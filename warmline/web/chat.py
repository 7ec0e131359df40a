"""The web chat's door: the widget's script and stylesheet, and its JSON API under /chat/lines/.

The widget runs on an organisation's own site, so every API answer is cross-origin: allowed only
for the origins the line's roster lists (`chat: {origins: [...]}`), checked on each request and
on the browser's preflight. No cookie is set or read: the chatter's token comes in the
`Authorization: Bearer` header, which is also why CSRF does not apply (no ambient credential).
Nothing here logs a message, a token, an address or a user agent.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, g, jsonify, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit, RouteLimit

from warmline.clock import utc_now
from warmline.domain.numbers import parse_whole_number
from warmline.runtime import Runtime
from warmline.services.chat import chats
from warmline.services.chat.text_me import text_me_instead
from warmline.web import chat_limits, limits
from warmline.web.context import RUNTIME_EXTENSION, current_runtime

bp = Blueprint("chat", __name__, url_prefix="/chat")

_STATIC = Path(__file__).resolve().parent / "static" / "chat"
# The browser may reuse a preflight's answer this long (seconds).
PREFLIGHT_MAX_AGE = "600"
ASSET_MAX_AGE_SECONDS = 3600
_ORIGIN_ATTRIBUTE = "warmline_chat_origin"
# A long poll holds one of the process's threads while it waits. Beyond half the threads at
# once, a read answers at once and asks the widget to come back shortly, so chats can never take
# the threads Twilio's webhooks and the dashboards need (gunicorn's gthread: WEB_THREADS a process).
SHORT_POLL_RETRY_SECONDS = 3
_LONG_POLL_SLOTS = "warmline.chat.long_poll_slots"


def long_polls_per_process(web_threads: int) -> int:
    return web_threads // 2  # none with one thread: every read then answers at once


@bp.record_once
def _size_long_polls(state: BlueprintSetupState) -> None:
    runtime: Runtime = state.app.extensions[RUNTIME_EXTENSION]
    state.app.extensions[_LONG_POLL_SLOTS] = threading.BoundedSemaphore(
        long_polls_per_process(runtime.settings.web_threads))


def long_poll_slots() -> threading.BoundedSemaphore:
    """This app's long polls (one app per process under gunicorn)."""
    slots: threading.BoundedSemaphore = current_app.extensions[_LONG_POLL_SLOTS]
    return slots


def _error(status: int, message: str) -> ResponseReturnValue:
    return jsonify(error=message), status


def _line(line_key: str) -> chats.ChatLine | Response:
    """The line, if it takes chats from the requesting page's origin; else the refusal."""
    line = chats.find_chat_line(current_runtime(), line_key)
    if line is None:
        response = jsonify(error="This line takes no web chats.")
        response.status_code = 404
        return response
    origin = request.headers.get("Origin")
    if not chats.allows_origin(line, origin):
        response = jsonify(error="This page may not embed this line's chat.")
        response.status_code = 403
        return response
    setattr(g, _ORIGIN_ATTRIBUTE, (origin or "").strip())
    return line


def _token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _language(line: chats.ChatLine) -> str:
    """The widget's language: the one asked for (the page's, or the chatter's switch), else the
    browser's, among the line's languages; else the line's default."""
    asked = request.args.get("lang", "").strip().lower()
    for wanted in (asked, asked.split("-")[0]):
        if wanted in line.languages:
            return wanted
    return request.accept_languages.best_match(line.languages) or line.language


def _address() -> str:
    # The real client's when WARMLINE_PROXY_HOPS trusts the proxies (ProxyFix); only hashed.
    return request.remote_addr or "unknown"


@bp.after_request
def _cors(response: Response) -> Response:
    origin = getattr(g, _ORIGIN_ATTRIBUTE, None)
    response.headers["Vary"] = "Origin"
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


# --------------------------------------------------------------------------- the widget's files


def _asset(name: str, mimetype: str) -> Response:
    response = send_from_directory(_STATIC, name, mimetype=mimetype,
                                   max_age=ASSET_MAX_AGE_SECONDS)
    # Loaded by other sites' pages: a <script> and a <link> need no CORS, but must be allowed
    # across origins by the resource policy.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE_SECONDS}"
    return response


@bp.get("/widget.js")
def widget_script() -> ResponseReturnValue:
    return _asset("widget.js", "text/javascript")


@bp.get("/widget.css")
def widget_style() -> ResponseReturnValue:
    return _asset("widget.css", "text/css")


# --------------------------------------------------------------------------- limits


def _too_many(limit: RequestLimit) -> Response:
    """A limit reached: 429 with a plain message in the chat's language, with the crisis numbers,
    readable by the embedding page (its CORS answer as for any other refusal)."""
    found = _line((request.view_args or {}).get("line_key", ""))
    line = found if isinstance(found, chats.ChatLine) else None
    wait = limits.seconds_until_reset(limit)
    response = jsonify(error=chats.too_many_words(line, _language(line) if line else None,
                                                  request.endpoint or ""),
                       retry_after=wait)
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


def _per_address(limit: str, scope: str) -> RouteLimit:
    return limits.limiter.limit(limit, key_func=limits.client_address, scope=scope,
                                on_breach=_too_many)


def _per_token(limit: str, scope: str) -> RouteLimit:
    return limits.limiter.limit(limit, key_func=chat_limits.chat_token, scope=scope,
                                on_breach=_too_many)


# --------------------------------------------------------------------------- the API


@bp.route("/lines/<line_key>", methods=["OPTIONS"])
@bp.route("/lines/<line_key>/conversations", methods=["OPTIONS"])
@bp.route("/lines/<line_key>/messages", methods=["OPTIONS"])
@bp.route("/lines/<line_key>/end", methods=["OPTIONS"])
@bp.route("/lines/<line_key>/text-me", methods=["OPTIONS"])
def preflight(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    return found if isinstance(found, Response) else ("", 204)


@bp.get("/lines/<line_key>")
def describe(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    return jsonify(chats.describe_line(current_runtime(), found, utc_now(), _language(found)))


@bp.post("/lines/<line_key>/conversations")
@_per_address(chat_limits.STARTS_PER_ADDRESS, "chat-start-address")
def start(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    data = request.get_json(silent=True)
    raw = data.get("experience") if isinstance(data, dict) else None
    experience = raw if isinstance(raw, str) and raw else None
    wanted = data.get("language") if isinstance(data, dict) else None
    started = chats.start_chat(current_runtime(), found, _address(), experience, utc_now(),
                               language=wanted if isinstance(wanted, str) else _language(found))
    if isinstance(started, chats.ChatRefusal):
        return _error(started.status, started.message)
    return jsonify(token=started.token, state=started.state), 201


@bp.post("/lines/<line_key>/messages")
@_per_token(chat_limits.MESSAGES_PER_TOKEN, "chat-send-token")
@_per_address(chat_limits.MESSAGES_PER_ADDRESS, "chat-send-address")
def send(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("body"), str) \
            or not isinstance(data.get("id"), str):
        return _error(400, "Send {\"id\": ..., \"body\": ...}.")
    wanted = data.get("language")
    refusal = chats.send_message(current_runtime(), found, _token(),
                                 message_id=data["id"], body=data["body"], now=utc_now(),
                                 language=wanted if isinstance(wanted, str) else _language(found))
    if refusal is not None:
        return _error(refusal.status, refusal.message)
    return jsonify(accepted=True), 202


@bp.get("/lines/<line_key>/messages")
@_per_token(chat_limits.READS_PER_TOKEN, "chat-read-token")
def receive(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    runtime, token = current_runtime(), _token()
    if not token:
        return _error(401, "This chat needs its token.")
    after = parse_whole_number(request.args.get("after", "0")) or 0
    wait = parse_whole_number(request.args.get("wait", "0")) or 0
    known = request.args.get("state", "")
    slots = long_poll_slots()
    if wait and not slots.acquire(blocking=False):
        result = chats.read_messages(runtime, found, token, after)
        return jsonify(messages=result.messages, state=result.state,
                       retry_after=SHORT_POLL_RETRY_SECONDS)
    try:
        result = chats.wait_for_messages(runtime, found, token, after=after, known_state=known,
                                         wait_seconds=float(wait))
    finally:
        if wait:
            slots.release()
    return jsonify(messages=result.messages, state=result.state)


@bp.post("/lines/<line_key>/text-me")
@_per_address(chat_limits.TEXT_ME_PER_ADDRESS, "chat-text-me-address")
def text_me(line_key: str) -> ResponseReturnValue:
    """"Text me instead": with the chatter's consent, a text conversation from the line's number."""
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    number, experience, wanted = data.get("number"), data.get("experience"), data.get("language")
    answer = text_me_instead(
        current_runtime(), found, number if isinstance(number, str) else "",
        consent=data.get("consent") is True,
        experience=experience if isinstance(experience, str) and experience else None,
        language=wanted if isinstance(wanted, str) else _language(found), now=utc_now())
    if answer.status >= 400:
        return _error(answer.status, answer.message)
    return jsonify(said=answer.message), answer.status


@bp.post("/lines/<line_key>/end")
def end(line_key: str) -> ResponseReturnValue:
    found = _line(line_key)
    if isinstance(found, Response):
        return found
    chats.end_and_delete(current_runtime(), found, _token(), utc_now())
    return jsonify(deleted=True)
