"""Sign-in, sign-out (here and everywhere), and the guards every page and API call sits behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from warmline.models import Role, User
from warmline.services import dashboard as service
from warmline.web.context import current_runtime
from warmline.web.security import wants_json

bp = Blueprint("auth", __name__)

SESSION_COOKIE_NAME = "warmline_session"
SESSION_LIFETIME = timedelta(hours=14)
"""Long enough for a double shift; the cookie expires on its own after that."""

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user, copied out of the database session that loaded it."""

    id: int
    email: str
    role: Role
    peer_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        role = Role.ADMIN if user.role == Role.ADMIN.value else Role.PEER
        return cls(id=user.id, email=user.email, role=role, peer_id=user.peer_id)


def current_user() -> CurrentUser | None:
    """The user of this request's session cookie, loaded once per request."""
    if "current_user" in g:
        found: CurrentUser | None = g.current_user
        return found
    found = None
    user_id, version = session.get("uid"), session.get("ver")
    if isinstance(user_id, int) and isinstance(version, int):
        user = service.load_signed_in_user(current_runtime(), user_id, version)
        if user is None:
            session.clear()  # signed out everywhere, or deactivated
        else:
            found = CurrentUser.of(user)
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
            return _refuse(403, "This page is for admins.")
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
            return _refuse(403, "This account is not linked to a peer on the roster.")
        return view(*args, **kwargs)

    return guarded


def signed_in_peer_id() -> int:
    """The peer id of the signed-in user; only call behind `peer_required`."""
    user = current_user()
    if user is None or user.peer_id is None:
        abort(403)
    return user.peer_id


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: "//evil.example" and "https://..." would be an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target.rstrip("?") or None


def _client_address() -> str:
    # Behind proxies, ProxyFix (WARMLINE_PROXY_HOPS) has set remote_addr to the address that
    # the outermost trusted proxy saw; we never read X-Forwarded-For ourselves, so a client
    # cannot pick its own counter.
    return request.remote_addr or "unknown"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_url or url_for("dashboard.home"))
        return render_template("sign_in.html", next_url=next_url, email="")
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    result = service.sign_in(
        current_runtime(), email, password, _client_address(), service.utc_now()
    )
    if result.user is None:
        if result.refusal is service.SignInRefusal.ADDRESS_LIMITED:
            message = "Too many sign-in attempts from this network. Wait 15 minutes and try again."
            status = 429
        else:
            message = (
                "That email and password did not match, or the account is locked after too many"
                " tries (wait 15 minutes)."
            )
            status = 401
        return render_template(
            "sign_in.html", next_url=next_url, email=email, error=message
        ), status
    session.clear()
    session.permanent = True
    session["uid"] = result.user.id
    session["ver"] = result.user.session_version
    return redirect(next_url or url_for("dashboard.home"))


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    user = current_user()
    if user is not None and user.peer_id is not None:
        service.forget_heartbeat(current_runtime().redis, user.peer_id)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.post("/sign-out-everywhere")
@sign_in_required
def sign_out_everywhere() -> ResponseReturnValue:
    user = current_user()
    if user is None:  # the guard has checked; this keeps the type narrow
        abort(401)
    service.sign_out_everywhere(current_runtime(), user.id)
    if user.peer_id is not None:
        service.forget_heartbeat(current_runtime().redis, user.peer_id)
    session.clear()
    flash("You are signed out on every device.")
    return redirect(url_for("auth.sign_in"))


def init_app(app: Flask) -> None:
    # Flask has defaults for both (31 days, "session"), so they are set, not defaulted.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config["SESSION_COOKIE_NAME"] = SESSION_COOKIE_NAME
    app.context_processor(lambda: {"current_user": current_user()})
