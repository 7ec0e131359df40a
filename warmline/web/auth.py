"""Sign-in, sign-out (here and everywhere), and the guards every page and API call sits behind."""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit
from itsdangerous import BadSignature, URLSafeSerializer
from redis import RedisError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from warmline.catalogs import shipped_languages
from warmline.clock import utc_now
from warmline.models import Role, User
from warmline.services.accounts import sign_in as sign_ins
from warmline.services.accounts.sign_in import SESSION_LIFETIME
from warmline.services.peers import dashboard as service
from warmline.web import limits
from warmline.web.context import current_runtime
from warmline.web.security import wants_json
from warmline.wording import N_

bp = Blueprint("auth", __name__)

SESSION_COOKIE_NAME = "warmline_session"
DEVICE_COOKIE_NAME = "warmline_device"
DEVICE_LIFETIME = timedelta(days=365)
"""A browser that signed in to an account is slowed apart from strangers guessing at it."""

MAX_NEXT_LENGTH = 2000
"""A page to return to is a path and a short query; anything longer is not one of ours."""

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, copied out of the database session that loaded it."""

    id: int
    email: str
    role: Role
    peer_id: int | None
    language: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        role = Role.ADMIN if user.role == Role.ADMIN.value else Role.PEER
        return cls(id=user.id, email=user.email, role=role, peer_id=user.peer_id,
                   language=user.language)


def current_user() -> CurrentUser | None:
    """The user of this request's session cookie, loaded once per request."""
    if "current_user" in g:
        found: CurrentUser | None = g.current_user
        return found
    found = None
    user_id, version, sid = session.get("uid"), session.get("ver"), session.get("sid")
    if isinstance(user_id, int) and isinstance(version, int) and isinstance(sid, str):
        runtime = current_runtime()
        # The server's record first: a cookie copied before sign-out is refused here.
        user = sign_ins.load_signed_in_user(runtime, user_id, version) \
            if sign_ins.session_is_live(runtime, sid) else None
        if user is None:
            session.clear()  # signed out, everywhere or here, or deactivated
        else:
            found = CurrentUser.of(user)
    elif user_id is not None:
        session.clear()  # a cookie from before server-side sessions: sign in again
    g.current_user = found
    return found


def _refuse(status: int, message: str) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=message), status
    if status == 401:
        return redirect(url_for("auth.sign_in", next=_safe_next(request.full_path)))
    return render_template("error.html", status=status, message=message), status


def sign_in_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_user() is None:
            return _refuse(401, "sign in first")
        return view(*args, **kwargs)

    return guarded


def admin_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        user = current_user()
        if user is None:
            return _refuse(401, "sign in first")
        if not user.is_admin:
            return _refuse(403, N_("This page is for admins."))
        return view(*args, **kwargs)

    return guarded


def peer_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Signed in, and the user is a peer on the roster (admins who also take shifts are too)."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        user = current_user()
        if user is None:
            return _refuse(401, "sign in first")
        if user.peer_id is None:
            return _refuse(403, N_("This account is not linked to a peer on the roster."))
        return view(*args, **kwargs)

    return guarded


def signed_in_peer_id() -> int:
    """The peer id of the signed-in user; only call behind `peer_required`."""
    user = current_user()
    if user is None or user.peer_id is None:
        abort(403)
    return user.peer_id


def _safe_next(target: str | None) -> str | None:
    """Where to go after signing in: one of this app's own pages, rebuilt from its parts, or None.

    Only a path that a GET route of this app answers is kept, and it is rebuilt (path quoted,
    query re-encoded) rather than passed on: `/%09/evil.example` (a browser drops the tab and
    reads `//evil.example`), a backslash, or CR/LF (a header split, which Werkzeug refuses with a
    500) never reach a Location header.
    """
    if not target or len(target) > MAX_NEXT_LENGTH or any(_unsafe_in_url(c) for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except HTTPException:  # not found, POST only, or a redirect elsewhere
        return None
    path = quote(parts.path, safe="/-._~")
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return f"{path}?{query}" if query else path


def _unsafe_in_url(char: str) -> bool:
    # Whitespace, control and format characters, and the backslash some browsers read as "/".
    return char == "\\" or char.isspace() or unicodedata.category(char)[0] == "C"


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="warmline-device")


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _known_device(email: str) -> str | None:
    """This browser's device token when it has signed in to `email` before (signed by us)."""
    raw = request.cookies.get(DEVICE_COOKIE_NAME)
    if not raw:
        return None
    try:
        found = _device_serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(found, dict) or found.get("e") != _email_digest(email):
        return None
    token = found.get("d")
    return token if isinstance(token, str) else None


def _remember_device(response: BaseResponse, email: str, device: str | None) -> None:
    value = _device_serializer().dumps(
        {"e": _email_digest(email), "d": device or sign_ins.new_device_token()})
    response.set_cookie(
        DEVICE_COOKIE_NAME, value, max_age=int(DEVICE_LIFETIME.total_seconds()), httponly=True,
        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def _wait_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _address_limited(limit: RequestLimit) -> Response:
    """Flask-Limiter's breach answer for the per-address cap: the sign-in page, saying why."""
    wait = limits.seconds_until_reset(limit)
    message = (f"Too many wrong passwords from this network. Wait {_wait_words(wait)} and try "
               "again; your account itself is fine.")
    return _sign_in_refused(message, 429, wait)


def _sign_in_refused(message: str, status: int, retry_after: int | None = None) -> Response:
    page = render_template("sign_in.html", next_url=_safe_next(request.values.get("next")),
                           email=request.form.get("email", ""), error=message)
    response = make_response(page, status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@limits.limiter.limit(limits.sign_in_failures_per_address, methods=["POST"],
                      deduct_when=limits.failed(401), on_breach=_address_limited)
def sign_in() -> ResponseReturnValue:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url or url_for("dashboard.home"))
        return render_template("sign_in.html", next_url=next_url, email="")
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    device = _known_device(email)
    try:
        result = sign_ins.sign_in(current_runtime(), email, password, device=device,
                                  now=utc_now())
    except RedisError:
        return _sign_in_refused("Signing in is not possible for a moment (the live service does "
                                "not answer). Try again in a minute.", 503, 60)
    if result.user is None:
        if result.refusal is sign_ins.SignInRefusal.SLOWED:
            return _sign_in_refused(
                f"Too many wrong passwords for this email. To keep the account safe, wait "
                f"{_wait_words(result.retry_after)} before the next try.", 429, result.retry_after)
        return _sign_in_refused("That email and password did not match.", 401)
    session.clear()
    session.permanent = True
    session["uid"] = result.user.id
    session["ver"] = result.user.session_version
    session["sid"] = sign_ins.start_session()
    response = redirect(next_url or url_for("dashboard.home"))
    _remember_device(response, email, device)
    return response


def _end_this_session(user: CurrentUser | None) -> None:
    sid = session.get("sid")
    if isinstance(sid, str):
        sign_ins.end_session(current_runtime(), sid)
    if user is not None and user.peer_id is not None:
        service.forget_heartbeat(current_runtime().redis, user.peer_id)
    session.clear()


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    _end_this_session(current_user())
    flash(N_("You are signed out."))
    return redirect(url_for("auth.sign_in"))


@bp.post("/sign-out-everywhere")
@sign_in_required
def sign_out_everywhere() -> ResponseReturnValue:
    user = current_user()
    if user is None:  # the guard has checked; this keeps the type narrow
        abort(401)
    sign_ins.sign_out_everywhere(current_runtime(), user.id)
    _end_this_session(user)
    flash(N_("You are signed out on every device."))
    return redirect(url_for("auth.sign_in"))


@bp.post("/account/language")
@sign_in_required
def choose_language() -> ResponseReturnValue:
    """The signed-in person picks the pages' language; "" goes back to the browser's."""
    user = current_user()
    if user is None:
        abort(401)
    language = request.form.get("language", "")
    if language and language not in shipped_languages():
        abort(400)
    sign_ins.set_page_language(current_runtime(), user.id, language or None)
    g.pop("current_user", None)
    return redirect(_safe_next(request.form.get("next")) or url_for("dashboard.home"))


def init_app(app: Flask) -> None:
    # Flask has defaults for both (31 days, "session"), so they are set, not defaulted.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["SESSION_COOKIE_NAME"] = SESSION_COOKIE_NAME
    app.context_processor(lambda: {"current_user": current_user()})
