"""CSRF protection, request body limits, and the security headers every response carries.

A state-changing request needs two things: the session's CSRF token (a form field or the
X-CSRFToken header), and no sign that it came from another site. Browsers say where a request
comes from in headers a page cannot forge: `Sec-Fetch-Site` first; `Origin` where that is absent;
`Referer` last. Under our own `Referrer-Policy: no-referrer` a browser sends no `Referer` and an
`Origin` of "null" on same-origin posts, so Flask-WTF's HTTPS check (which demands a `Referer`)
is replaced by this one. A client that sends none of them (curl, a script) is checked by the
token alone; the session cookie is `SameSite=Lax`, so another site's form never carries it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, jsonify, render_template, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from warmline.web.context import current_runtime

# Twilio's webhooks are authenticated by X-Twilio-Signature and cannot send a CSRF token.
# They are exempt by URL prefix and by blueprint name, so the exemption holds for blueprints
# that other modules register later without anyone remembering to list them here.
TWILIO_PATH_PREFIX = "/twilio/"
TWILIO_BLUEPRINT_PREFIX = "twilio"  # "twilio", "twilio_voice", "twilio_sms", ...
CHAT_PATH_PREFIX = "/chat/"

# No inline script or style anywhere: every script and stylesheet is a file the app serves.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS_VALUE = "max-age=31536000; includeSubDomains"

# Twilio's largest webhook is a few kB, and every form is far smaller than this. A body over the
# limit is refused with 413 from its Content-Length before a byte is read; a chunked body is cut
# off as soon as it passes the limit. Views that take files raise it with `allows_body`.
BODY_LIMIT_BYTES = 1_000_000
# A multipart body is parsed field by field: no single text field may hold more than this.
FORM_FIELD_LIMIT_BYTES = 500_000
_BODY_LIMIT_ATTRIBUTE = "warmline_body_limit_bytes"

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

csrf = CSRFProtect()


def allows_body(limit_bytes: int, *, field_bytes: int = FORM_FIELD_LIMIT_BYTES) -> Callable[[F], F]:
    """Let one view read a larger body (a roster upload) than BODY_LIMIT_BYTES."""

    def mark(view: F) -> F:
        setattr(view, _BODY_LIMIT_ATTRIBUTE, (limit_bytes, field_bytes))
        return view

    return mark


def _apply_body_limit() -> None:
    # Runs before anything reads the body (the CSRF check reads the form), and before a view
    # that never reads it: a body over the limit is refused whatever the route.
    view = current_app.view_functions.get(request.endpoint or "")
    larger: tuple[int, int] | None = getattr(view, _BODY_LIMIT_ATTRIBUTE, None)
    if larger is not None:
        request.max_content_length, request.max_form_memory_size = larger
    limit = request.max_content_length or BODY_LIMIT_BYTES
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge
    elif "wsgi.input_terminated" in request.environ:
        _buffer_streamed_body(limit)


def _buffer_streamed_body(limit: int) -> None:
    """Read a chunked body up to the limit, refusing it past that, and hand the rest a copy.

    Werkzeug stops reading a streamed body at the limit but then parses what it has as if it
    were all: the form would be cut short silently. Reading one byte past the limit tells us.
    """
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge
    request.environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
    request.environ["CONTENT_LENGTH"] = str(size)
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = request.max_content_length or BODY_LIMIT_BYTES
    message = f"This request is larger than {limit // 1000} kB, so it was not read."
    if wants_json():
        return jsonify(error=message), 413
    if is_twilio_request():
        return Response(message, status=413, mimetype="text/plain")
    return render_template("error.html", status=413, message=message), 413


def is_twilio_request() -> bool:
    blueprint = request.blueprint or ""
    top = blueprint.split(".", 1)[0]
    return request.path.startswith(TWILIO_PATH_PREFIX) or top.startswith(TWILIO_BLUEPRINT_PREFIX)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins() -> set[str]:
    """The public URL's origin, and this request's own (as the trusted proxies describe it)."""
    return {_origin_of(current_runtime().settings.public_url), _origin_of(request.host_url)}


def _refuse_other_sites() -> None:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site != "same-origin":
            raise CSRFError(f"The request came from another site (Sec-Fetch-Site: {site}).")
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        if _origin_of(origin) not in _own_origins():
            raise CSRFError("The request came from another site (Origin).")
        return
    referer = request.headers.get("Referer")
    if referer and _origin_of(referer) not in _own_origins():
        raise CSRFError("The request came from another site (Referer).")


def is_chat_request() -> bool:
    """The web chat's API: called from other sites by design, with no cookie, its token in a
    header and its own origin check (`warmline.web.chat`)."""
    return request.path.startswith(CHAT_PATH_PREFIX)


def _check_csrf() -> None:
    if is_twilio_request() or is_chat_request() or request.routing_exception is not None:
        # No view will run (404, 405): nothing can change, and the client learns the real error.
        return
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if wants_json() and "uid" not in session:
        # Every state-changing API call needs a session and answers 401 without one, which
        # tells a client more than "CSRF failed"; no state can change without the cookie.
        return
    _refuse_other_sites()
    csrf.protect()


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=f"CSRF check failed: {error.description}"), 400
    return render_template("error.html", status=400, message=(
        "This form could not be accepted: it did not come from this page. "
        "Reload the page and try again."
    )), 400


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.scheme == "https" or _public_url_is_https():
        response.headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
    if not request.path.startswith("/static/"):
        # Pages and API answers describe a live shift: never cache them, never keep them on a
        # shared computer's disk.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _public_url_is_https() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


class _NoSessionForTwilio(SecureCookieSessionInterface):
    """Twilio's webhooks never use the cookie session (Twilio sends no cookie; its signature is
    the request's authentication), so none is opened for them: Flask gives them its null session,
    which refuses writes. Opening one built a signing serializer per request, 2% of the web
    workers' CPU under bench/voice.py (py-spy --gil)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(TWILIO_PATH_PREFIX):
            return None
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Body limits, CSRF checks (our own hook, so Twilio can be exempted by path) and headers."""
    app.session_interface = _NoSessionForTwilio()
    app.config["MAX_CONTENT_LENGTH"] = BODY_LIMIT_BYTES
    app.config["MAX_FORM_MEMORY_SIZE"] = FORM_FIELD_LIMIT_BYTES
    app.before_request(_apply_body_limit)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A dashboard stays open through a whole shift: the token lives as long as the session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Our own origin check (above) replaces the Referer-only one, which no browser can pass
    # under our Referrer-Policy once the app knows it is served over HTTPS.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    csrf.init_app(app)
    app.before_request(_check_csrf)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.after_request(_add_headers)
